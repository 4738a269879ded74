/**
 * Live stream over socket.io, on the API's port. Clients authenticate with the session cookie or
 * an API key (`auth: { token }` or an Authorization header), then subscribe to executions and
 * grids. Every server process relays the events its engine receives (the runtime fans them out
 * through Redis in scaled mode) to its own sockets, so no socket.io adapter is needed. A grid
 * subscription also tells the runtime the grid is watched (Engine.watchGrid): runs that end while
 * they start (sync webhooks) are published to every process only while some process watches their
 * grid, as nobody can subscribe to such a run by its id before it has ended.
 *
 * Reconnect without gaps: `subscribe` reads the run's current state (execution + steps + its
 * event seq S) while buffering live events for that socket, replies with the snapshot, then
 * flushes the buffered events with seq > S and joins the live room; anything with seq <= S is
 * already in the snapshot.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Request } from 'express';
import type { RuntimeEvent } from '@gridflow/runtime';
import { getExecutionState, type ExecutionState } from '@gridflow/runtime/execution-state';
import type { Db } from '../db.js';
import type { Caller, Authenticator } from '../http/route.js';
import { parseCookie } from '../auth/authenticate.js';
import { SESSION_COOKIE } from '../auth/tokens.js';
import type { Logger } from 'pino';

/**
 * The run's current state as events (run + every step, stamped with the run's seq): apply it, then
 * live events with a greater seq. `execution` repeats the run's fields in row form.
 */
export type ExecutionSnapshot = ExecutionState & {
  execution: {
    id: string;
    gridId: string;
    status: string;
    eventSeq: number;
    startedAt: string | null;
    finishedAt: string | null;
    error: unknown;
  };
};

type Ack = (response: unknown) => void;

interface SocketState {
  caller: Caller;
  /** Grids this socket watches live, with the function that ends the engine's watch. */
  grids: Map<string, () => void>;
  /** Executions being synced: live events are held here until the snapshot is sent. */
  syncing: Map<string, RuntimeEvent[]>;
}

export interface LiveHub {
  io: Server;
  relay(event: RuntimeEvent): void;
  toUser(userId: string, event: string, payload: unknown): void;
  close(): Promise<void>;
}

export function createLiveHub(opts: {
  httpServer: HttpServer;
  db: Db;
  authenticate: Authenticator;
  corsOrigins: string[];
  log: Logger;
  /**
   * Tells the runtime a grid is shown live here (Engine.watchGrid): runs that end while they start
   * are then published to every process, not only to the one that ran them.
   */
  watchGrid?: (gridId: string) => () => void;
}): LiveHub {
  const { db, log } = opts;
  const io = new Server(opts.httpServer, {
    serveClient: false,
    ...(opts.corsOrigins.length ? { cors: { origin: opts.corsOrigins, credentials: true } } : {}),
  });
  const states = new Map<string, SocketState>();
  /** Sockets currently syncing each execution (so relaying an event does not scan every socket). */
  const syncingByExecution = new Map<string, Set<SocketState>>();
  /**
   * Sockets that just got a snapshot at seq S: an event with seq <= S may still be published
   * after the snapshot was read (the runtime publishes after commit); it is not sent to them.
   */
  const snapshotSeq = new Map<string, Map<string, number>>();

  io.use((socket, next) => {
    const h = socket.handshake;
    const token = typeof h.auth?.token === 'string' ? h.auth.token : undefined;
    const wsId =
      typeof h.auth?.workspaceId === 'string' ? h.auth.workspaceId : h.headers['x-workspace-id'];
    const headers: Record<string, unknown> = {
      authorization: token ? `Bearer ${token}` : h.headers.authorization,
      ...(wsId ? { 'x-workspace-id': wsId } : {}),
    };
    const fakeReq = {
      headers,
      cookies: { [SESSION_COOKIE]: parseCookie(h.headers.cookie, SESSION_COOKIE) },
    } as unknown as Request;
    opts
      .authenticate(fakeReq)
      .then((caller) => {
        if (!caller) return next(new Error('unauthenticated'));
        states.set(socket.id, { caller, grids: new Map(), syncing: new Map() });
        void socket.join(`user:${caller.user.id}`);
        next();
      })
      .catch(() => next(new Error('unauthenticated')));
  });

  async function snapshot(
    workspaceId: string,
    executionId: string,
  ): Promise<ExecutionSnapshot | null> {
    const st = await getExecutionState(db, executionId, workspaceId);
    if (!st) return null;
    const r = st.run;
    return {
      ...st,
      execution: {
        id: r.executionId,
        gridId: r.gridId,
        status: r.status,
        eventSeq: st.seq,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        error: r.error ?? null,
      },
    };
  }

  async function gridVisible(workspaceId: string, gridId: string): Promise<boolean> {
    return (await db.prisma.grid.count({ where: { id: gridId, workspaceId } })) > 0;
  }

  io.on('connection', (socket: Socket) => {
    const state = states.get(socket.id);
    if (!state) return socket.disconnect(true);
    const workspaceId = state.caller.workspaceId;

    socket.on('subscribe', async (msg: unknown, ack?: Ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const m = (msg ?? {}) as { executionId?: unknown; gridId?: unknown; lastSeq?: unknown };
      try {
        if (!workspaceId) return reply({ ok: false, error: 'no workspace selected' });
        if (typeof m.gridId === 'string') {
          if (!(await gridVisible(workspaceId, m.gridId)))
            return reply({ ok: false, error: 'grid not found' });
          // Gone while the grid was looked up: no watch that its disconnect would not end.
          if (!socket.connected) return reply({ ok: false, error: 'disconnected' });
          if (!state.grids.has(m.gridId))
            state.grids.set(m.gridId, opts.watchGrid?.(m.gridId) ?? (() => undefined));
          await socket.join(`grid:${m.gridId}`);
          return reply({ ok: true });
        }
        if (typeof m.executionId !== 'string')
          return reply({ ok: false, error: 'executionId or gridId is required' });
        const id = m.executionId;
        state.syncing.set(id, []);
        let set = syncingByExecution.get(id);
        if (!set) syncingByExecution.set(id, (set = new Set()));
        set.add(state);
        let snap: ExecutionSnapshot | null;
        try {
          snap = await snapshot(workspaceId, id);
        } finally {
          set.delete(state);
          if (!set.size) syncingByExecution.delete(id);
        }
        const buffered = state.syncing.get(id) ?? [];
        state.syncing.delete(id);
        if (!snap) return reply({ ok: false, error: 'execution not found' });
        // Synchronously from here: reply, flush, join — no event can slip in between.
        reply({ ok: true, snapshot: snap });
        for (const e of buffered) if (e.seq > snap.seq) socket.emit('event', e);
        let seen = snapshotSeq.get(id);
        if (!seen) snapshotSeq.set(id, (seen = new Map()));
        seen.set(socket.id, snap.seq);
        void socket.join(`execution:${id}`);
      } catch (err) {
        log.warn({ err }, 'live subscribe failed');
        reply({ ok: false, error: 'subscribe failed' });
      }
    });

    socket.on('unsubscribe', async (msg: unknown, ack?: Ack) => {
      const m = (msg ?? {}) as { executionId?: unknown; gridId?: unknown };
      if (typeof m.executionId === 'string') await socket.leave(`execution:${m.executionId}`);
      if (typeof m.gridId === 'string') {
        await socket.leave(`grid:${m.gridId}`);
        state.grids.get(m.gridId)?.();
        state.grids.delete(m.gridId);
      }
      if (typeof ack === 'function') ack({ ok: true });
    });

    socket.on('disconnect', () => {
      states.delete(socket.id);
      for (const unwatch of state.grids.values()) unwatch();
      state.grids.clear();
      for (const [id, seen] of snapshotSeq) {
        seen.delete(socket.id);
        if (!seen.size) snapshotSeq.delete(id);
      }
    });
  });

  return {
    io,
    relay(event) {
      const syncing = syncingByExecution.get(event.executionId);
      if (syncing)
        for (const st of syncing)
          if (st.caller.workspaceId === event.workspaceId)
            st.syncing.get(event.executionId)?.push(event);
      const seen = snapshotSeq.get(event.executionId);
      const skip: string[] = [];
      if (seen) {
        for (const [socketId, seq] of seen) {
          if (event.seq <= seq) skip.push(socketId);
          else seen.delete(socketId); // past its snapshot: from now on every event is new to it
        }
        if (!seen.size) snapshotSeq.delete(event.executionId);
      }
      // socket.io encodes a packet before it looks for the room's sockets: look first (most events
      // of webhook and scheduled runs have nobody watching them).
      const rooms = io.of('/').adapter.rooms;
      const execRoom = `execution:${event.executionId}`;
      if (rooms.has(execRoom)) {
        const room = io.local.to(execRoom);
        (skip.length ? room.except(skip) : room).emit('event', event);
      }
      // Grid rooms get run-level events and step status (for the editor's canvas).
      const gridRoom = `grid:${event.gridId}`;
      if (rooms.has(gridRoom)) io.local.to(gridRoom).emit('grid-event', event);
    },
    toUser(userId, event, payload) {
      io.local.to(`user:${userId}`).emit(event, payload);
    },
    async close() {
      io.local.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
