/**
 * The live stream: one socket.io connection on the API's origin (session cookie), with the
 * current workspace in the handshake. Protocol (server/src/live/hub.ts):
 * - `subscribe { executionId }` → ack `{ ok, snapshot: { execution, steps, seq } }`, then `event`
 *   messages (RuntimeEvent) with seq > snapshot.seq; on reconnect we subscribe again.
 * - `subscribe { gridId }` → `grid-event` messages for runs of that grid.
 * - `notification` messages to the user (e.g. type `approval.requested`).
 */
import { io, type Socket } from 'socket.io-client';
import type { RuntimeEvent } from '@gridflow/runtime/engine';
import { currentWorkspaceId } from './client.js';

let socket: Socket | null = null;

export function getSocket(): Socket {
  if (!socket) {
    socket = io({
      path: '/socket.io',
      withCredentials: true,
      auth: (cb) => cb({ workspaceId: currentWorkspaceId() ?? undefined }),
    });
  }
  return socket;
}

export function closeSocket(): void {
  socket?.close();
  socket = null;
}

function isRuntimeEvent(v: unknown): v is RuntimeEvent {
  const e = v as RuntimeEvent | null;
  return !!e && (e.type === 'step' || e.type === 'run') && typeof e.executionId === 'string';
}

export interface LiveSnapshot {
  execution: { id: string; gridId: string; status: string; eventSeq: number; startedAt: string | null; finishedAt: string | null; error: unknown };
  steps: { nodeId: string; itemIndex: number | null; status: string; attempt: number; startedAt: string | null; finishedAt: string | null; error: unknown; ports: string[] }[];
  seq: number;
}

/** Subscribes to one execution; `onSnapshot` gets the state at (re)subscription, `onEvent` what follows. */
export function subscribeExecution(
  executionId: string,
  handlers: { onEvent: (e: RuntimeEvent) => void; onSnapshot?: (s: LiveSnapshot) => void },
): () => void {
  const s = getSocket();
  const join = () =>
    s.emit('subscribe', { executionId }, (reply: { ok?: boolean; snapshot?: LiveSnapshot } | undefined) => {
      if (reply?.ok && reply.snapshot) handlers.onSnapshot?.(reply.snapshot);
    });
  const listener = (payload: unknown) => {
    if (isRuntimeEvent(payload) && payload.executionId === executionId) handlers.onEvent(payload);
  };
  s.on('event', listener);
  s.on('connect', join);
  if (s.connected) join();
  return () => {
    s.off('event', listener);
    s.off('connect', join);
    s.emit('unsubscribe', { executionId });
  };
}

/** Run events of one grid (any execution): used to refresh the execution history live. */
export function subscribeGrid(gridId: string, onEvent: (e: RuntimeEvent) => void): () => void {
  const s = getSocket();
  const join = () => s.emit('subscribe', { gridId });
  const listener = (payload: unknown) => {
    if (isRuntimeEvent(payload) && payload.gridId === gridId) onEvent(payload);
  };
  s.on('grid-event', listener);
  s.on('connect', join);
  if (s.connected) join();
  return () => {
    s.off('grid-event', listener);
    s.off('connect', join);
    s.emit('unsubscribe', { gridId });
  };
}

/** Notifications pushed to the signed-in user (approval requests among them). */
export function subscribeNotifications(onNotification: (n: { type: string; title?: string; data?: unknown }) => void): () => void {
  const s = getSocket();
  const listener = (n: { type: string; title?: string; data?: unknown }) => onNotification(n);
  s.on('notification', listener);
  return () => {
    s.off('notification', listener);
  };
}
