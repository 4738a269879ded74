/**
 * Live run overlay state: folds the runtime's events (and execution snapshots from the API) into
 * per-node statuses. Pure reducer, so reconnects can replay snapshot + events in any order:
 * events at or below the last applied `seq` are ignored.
 */
import type { RuntimeEvent, StepStatus, ExecutionStatus } from '@gridflow/runtime/engine';
import type { Execution, StepErrorInfo } from '../api/types.js';

export interface NodeLiveState {
  status: StepStatus;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  output?: unknown;
  error?: StepErrorInfo | null;
  ports?: string[] | null;
  /** For-each bodies: state per item index. */
  items?: Record<number, StepStatus>;
}

export interface LiveState {
  executionId: string | null;
  runStatus: ExecutionStatus | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: StepErrorInfo | null;
  nodes: Record<string, NodeLiveState>;
  lastSeq: number;
}

export type LiveAction =
  | { type: 'reset'; executionId: string | null }
  | { type: 'snapshot'; execution: Execution }
  | { type: 'event'; event: RuntimeEvent };

export const initialLiveState: LiveState = {
  executionId: null,
  runStatus: null,
  startedAt: null,
  finishedAt: null,
  error: null,
  nodes: {},
  lastSeq: 0,
};

const ITEM_PRIORITY: StepStatus[] = ['running', 'waiting', 'failed', 'pending', 'completed', 'skipped'];

/** Aggregated status of a node that ran once per item. */
export function aggregateItems(items: Record<number, StepStatus>): StepStatus {
  const present = new Set(Object.values(items));
  for (const s of ITEM_PRIORITY) if (present.has(s)) {
    if (s === 'skipped' && present.size > 1) continue;
    return s;
  }
  return 'pending';
}

function applyStep(
  nodes: Record<string, NodeLiveState>,
  s: { nodeId: string; itemIndex: number | null; status: StepStatus; attempt: number; startedAt: string | null; finishedAt: string | null; output?: unknown; error?: StepErrorInfo | null; ports?: string[] | null },
): Record<string, NodeLiveState> {
  const prev = nodes[s.nodeId];
  let next: NodeLiveState;
  if (s.itemIndex !== null && s.itemIndex !== undefined) {
    const items = { ...(prev?.items ?? {}), [s.itemIndex]: s.status };
    next = {
      status: aggregateItems(items),
      attempt: Math.max(prev?.attempt ?? 0, s.attempt),
      startedAt: prev?.startedAt ?? s.startedAt,
      finishedAt: s.finishedAt ?? prev?.finishedAt ?? null,
      output: s.output ?? prev?.output,
      error: s.error ?? prev?.error ?? null,
      ports: prev?.ports || s.ports ? [...new Set([...(prev?.ports ?? []), ...(s.ports ?? [])])] : null,
      items,
    };
  } else {
    next = {
      status: s.status,
      attempt: s.attempt,
      startedAt: s.startedAt ?? prev?.startedAt ?? null,
      finishedAt: s.finishedAt,
      output: s.output !== undefined ? s.output : prev?.output,
      error: s.error ?? (s.status === 'failed' ? prev?.error : null) ?? null,
      ports: s.ports ?? prev?.ports ?? null,
    };
  }
  return { ...nodes, [s.nodeId]: next };
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'reset':
      return { ...initialLiveState, executionId: action.executionId };
    case 'snapshot': {
      const ex = action.execution;
      const same = state.executionId === ex.id;
      // A snapshot older than what the events already told us is ignored.
      if (same && ex.lastSeq !== undefined && ex.lastSeq < state.lastSeq) return state;
      let nodes: Record<string, NodeLiveState> = {};
      for (const s of ex.steps) nodes = applyStep(nodes, { ...s, output: s.output ?? undefined });
      if (same)
        for (const [id, n] of Object.entries(nodes))
          if (n.output === undefined && state.nodes[id]?.output !== undefined) nodes[id] = { ...n, output: state.nodes[id]!.output };
      return {
        executionId: ex.id,
        runStatus: ex.status,
        startedAt: ex.startedAt,
        finishedAt: ex.finishedAt,
        error: ex.error,
        nodes,
        lastSeq: Math.max(ex.lastSeq ?? 0, same ? state.lastSeq : 0),
      };
    }
    case 'event': {
      const ev = action.event;
      if (state.executionId && ev.executionId !== state.executionId) return state;
      if (ev.seq <= state.lastSeq) return state;
      if (ev.type === 'run') {
        return {
          ...state,
          executionId: ev.executionId,
          runStatus: ev.status,
          startedAt: ev.startedAt ?? state.startedAt,
          finishedAt: ev.finishedAt,
          error: ev.error ?? null,
          lastSeq: ev.seq,
        };
      }
      return {
        ...state,
        executionId: ev.executionId,
        runStatus: state.runStatus ?? 'running',
        nodes: applyStep(state.nodes, {
          nodeId: ev.nodeId,
          itemIndex: ev.itemIndex,
          status: ev.status,
          attempt: ev.attempt,
          startedAt: ev.startedAt,
          finishedAt: ev.finishedAt,
          output: ev.outputPreview,
          error: ev.error ?? null,
          ports: ev.ports ?? null,
        }),
        lastSeq: ev.seq,
      };
    }
    default: {
      const never: never = action;
      return never;
    }
  }
}

export const FINISHED: ExecutionStatus[] = ['completed', 'failed', 'cancelled'];
export const isFinished = (s: ExecutionStatus | null) => s !== null && FINISHED.includes(s);

/** Fraction of nodes done (completed, failed or skipped). */
export function progress(state: LiveState, nodeCount: number): number {
  if (nodeCount === 0) return 0;
  if (state.runStatus === 'completed') return 1;
  const done = Object.values(state.nodes).filter((n) => n.status === 'completed' || n.status === 'failed' || n.status === 'skipped').length;
  return Math.min(1, done / nodeCount);
}

/**
 * Edges along the path taken: the source completed and fired the edge's port (every non-error
 * port when the step reported none), or the source failed and the edge is an error edge.
 */
export function takenEdgeIds(
  state: LiveState,
  edges: { id: string; source: string; sourceHandle?: string | null; target: string }[],
): Set<string> {
  const out = new Set<string>();
  for (const e of edges) {
    const s = state.nodes[e.source];
    if (!s) continue;
    const handle = e.sourceHandle ?? 'out';
    const target = state.nodes[e.target];
    if (target?.status === 'skipped') continue;
    // A completed step stored without ports (or with an empty list) fired its normal outputs; a
    // branch that matched nothing skips its successors, which the skip check above handles.
    if (s.status === 'completed' && handle !== 'error' && (!s.ports || s.ports.length === 0 || s.ports.includes(handle))) out.add(e.id);
    else if (s.status === 'failed' && handle === 'error') out.add(e.id);
  }
  return out;
}
