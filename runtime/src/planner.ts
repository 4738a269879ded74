/**
 * The pure planner: given a compiled grid and the state of a run, returns what happens next
 * (steps that become ready with their assembled input, steps skipped, disabled nodes passed
 * through, for-each loops that finished or failed, whether the run is finished). No I/O: the
 * engine applies plans inside its step-completion transaction.
 *
 * Semantics
 * - An edge from a completed node is live when its source port fired (`ports` omitted = every
 *   normal port fired), dead otherwise; error edges are live only when the source failed. Edges
 *   from skipped nodes are dead.
 * - A node is ready when every incoming edge is resolved (live or dead) and at least one is live;
 *   all dead → skipped (skips propagate). Fan-in waits for every live parent.
 * - Input: the single live parent's value, or `{ [parentName]: value }` for several. An error edge
 *   carries `{ error, input }` of the failed node.
 * - A failed node without an error edge: `errorHandling: 'stop'` fails the run at once;
 *   `'continue'` only kills its successors, and the run ends `failed` when everything else is done.
 * - Disabled nodes do not run: they complete with their input as output.
 * - for-each: the nodes reachable from its `item` port (the body) run once per item (itemIndex
 *   0..n-1), with at most `concurrency` items in flight, admitted in order. When every item is
 *   finished, `done` fires with the per-item results in order: the output of the body's sink (a
 *   node without outgoing edges), or `{ [sinkName]: output }` for several sinks. An item whose
 *   failure was handled by an error edge but that has no completed sink yields `{ error }`. An
 *   unhandled failure in an item fails the for-each itself (its own error edge then applies) under
 *   `'stop'`; under `'continue'` the item yields `{ error }` and the loop goes on.
 */
import type { GridDocument, GridEdge, GridNode } from './document.js';
import type { Json } from './node-type.js';
import type { StepErrorInfo } from './errors.js';
import type { StepStatus } from './engine.js';
import { isErrorEdge, reachableFrom, topologicalOrder, type RegistryView } from './graph-rules.js';
import {
  FOR_EACH_DONE_PORT,
  FOR_EACH_ITEM_PORT,
  FOR_EACH_TYPE,
  forEachConcurrency,
  forEachItems,
} from './for-each.js';

/** Item index of steps outside for-each bodies (stored as -1 so the unique key works). */
export const NO_ITEM = -1;

export interface ForEachInfo {
  id: string;
  /** Body node ids. */
  body: Set<string>;
  /** Body nodes without outgoing edges: their outputs form an item's result. */
  sinks: string[];
  concurrency: number;
}

export interface CompiledGrid {
  document: GridDocument;
  nodes: Map<string, GridNode>;
  incoming: Map<string, GridEdge[]>;
  outgoing: Map<string, GridEdge[]>;
  /** The enabled trigger node, if the grid has one. */
  triggerId: string | null;
  order: string[];
  /** body node id → the for-each it belongs to. */
  bodyOf: Map<string, string>;
  forEach: Map<string, ForEachInfo>;
  /** Nodes having at least one outgoing error edge. */
  hasErrorEdge: Set<string>;
}

/**
 * Indexes a (validated) document for planning. Throws when the graph has a cycle; anything else
 * validation would reject is tolerated (unknown edges are ignored).
 */
export function compileGrid(document: GridDocument, registry: RegistryView): CompiledGrid {
  const nodes = new Map(document.nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, GridEdge[]>();
  const outgoing = new Map<string, GridEdge[]>();
  for (const id of nodes.keys()) {
    incoming.set(id, []);
    outgoing.set(id, []);
  }
  const edges: GridEdge[] = [];
  const seen = new Set<string>();
  for (const e of document.edges) {
    if (!nodes.has(e.source) || !nodes.has(e.target)) continue;
    const key = `${e.source}\0${e.sourceHandle}\0${e.target}\0${e.targetHandle}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push(e);
    outgoing.get(e.source)!.push(e);
    incoming.get(e.target)!.push(e);
  }
  const order = topologicalOrder(nodes.keys(), edges);
  if (!order) throw new Error('the grid has a cycle');
  const trigger = document.nodes.find((n) => !n.disabled && registry.get(n.type)?.isTrigger);
  const bodyOf = new Map<string, string>();
  const forEach = new Map<string, ForEachInfo>();
  for (const n of document.nodes) {
    if (n.type !== FOR_EACH_TYPE) continue;
    const entries = outgoing.get(n.id)!.filter((e) => e.sourceHandle === FOR_EACH_ITEM_PORT);
    const body = reachableFrom(
      entries.map((e) => e.target),
      edges,
    );
    body.delete(n.id);
    for (const b of body) if (!bodyOf.has(b)) bodyOf.set(b, n.id);
    const sinks = order.filter((id) => body.has(id) && outgoing.get(id)!.length === 0);
    forEach.set(n.id, { id: n.id, body, sinks, concurrency: forEachConcurrency(n.config) });
  }
  const hasErrorEdge = new Set<string>();
  for (const e of edges) if (isErrorEdge(e)) hasErrorEdge.add(e.source);
  return {
    document,
    nodes,
    incoming,
    outgoing,
    triggerId: trigger?.id ?? null,
    order,
    bodyOf,
    forEach,
    hasErrorEdge,
  };
}

/** What the planner knows about one step. */
export interface StepState {
  status: StepStatus;
  output?: Json;
  /** Output ports that fired; null/undefined = every normal port. */
  ports?: string[] | null;
  error?: StepErrorInfo | null;
  input?: Json;
}

export type StepKey = string;
/** Keys of steps outside loops, made once per node id (the planner looks steps up all the time). */
const noItemKeys = new Map<string, StepKey>();
export const stepKey = (nodeId: string, itemIndex: number): StepKey => {
  if (itemIndex !== NO_ITEM) return `${nodeId}#${itemIndex}`;
  let key = noItemKeys.get(nodeId);
  if (key === undefined) {
    if (noItemKeys.size >= 10_000) noItemKeys.clear();
    noItemKeys.set(nodeId, (key = `${nodeId}#${NO_ITEM}`));
  }
  return key;
};

export interface RunState {
  /** Steps by `stepKey(nodeId, itemIndex)`. */
  steps: ReadonlyMap<StepKey, StepState>;
  errorHandling: 'stop' | 'continue';
}

export interface StepRef {
  nodeId: string;
  itemIndex: number;
}

export interface ReadyStep extends StepRef {
  input: Json;
  /** In a for-each body: the item. */
  item?: { value: Json; index: number };
}

export interface Plan {
  ready: ReadyStep[];
  skipped: StepRef[];
  /** Disabled nodes: completed without running, output = input. */
  passedThrough: Array<StepRef & { input: Json; output: Json }>;
  /** for-each steps whose loop failed (unhandled item failure under 'stop'): mark them failed. */
  failedLoops: Array<StepRef & { error: StepErrorInfo }>;
  /** for-each steps whose loop finished: their results (the `done` port's value). */
  finishedLoops: Array<StepRef & { results: Json[] }>;
  /** Set when the run is over (nothing left to run, or an unhandled failure under 'stop'). */
  finished: null | { status: 'completed' | 'failed'; error?: StepErrorInfo; nodeId?: string };
  /** Run activity after applying this plan. */
  activity: { pending: number; running: number; waiting: number };
}

type EdgeState = 'pending' | 'live' | 'dead';

const TERMINAL: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped']);

/** The first step of a run: the trigger, with the trigger payload as input. */
export function initialPlan(
  grid: CompiledGrid,
  triggerData: Json,
  errorHandling: 'stop' | 'continue' = 'stop',
): Plan {
  if (!grid.triggerId) throw new Error('the grid has no enabled trigger');
  const steps = new Map<StepKey, StepState>();
  const first: ReadyStep = { nodeId: grid.triggerId, itemIndex: NO_ITEM, input: triggerData };
  steps.set(stepKey(first.nodeId, NO_ITEM), { status: 'pending', input: triggerData });
  const plan = planNext(grid, { steps, errorHandling });
  plan.ready.unshift(first); // the plan is new: no copy (object spreads cost on this hot path)
  return plan;
}

/**
 * The next plan for a run in `state`. Steps already present in `state` are never planned again
 * (so applying a plan and planning again is idempotent).
 */
export function planNext(grid: CompiledGrid, state: RunState): Plan {
  const steps = new Map(state.steps);
  const plan: Plan = {
    ready: [],
    skipped: [],
    passedThrough: [],
    failedLoops: [],
    finishedLoops: [],
    finished: null,
    activity: { pending: 0, running: 0, waiting: 0 },
  };
  const loopResults = new Map<string, Json[]>();
  const loopDone = new Set<string>(); // for-each ids whose loop is over (finished or failed)

  const get = (nodeId: string, itemIndex: number) => steps.get(stepKey(nodeId, itemIndex));
  const nameOf = (id: string) => grid.nodes.get(id)?.name ?? id;

  /** Items of a completed for-each whose item port fired, else null (no loop runs). */
  const loopItems = (fe: string): unknown[] | null => {
    const s = get(fe, NO_ITEM);
    if (!s || s.status !== 'completed' || grid.nodes.get(fe)?.disabled) return null;
    if (s.ports && !s.ports.includes(FOR_EACH_ITEM_PORT)) return null;
    return forEachItems(s.output);
  };

  const itemState = (info: ForEachInfo, i: number): 'unstarted' | 'running' | 'done' => {
    if (info.body.size === 0) return 'done'; // an empty body: each item is its own result
    let any = false;
    let all = true;
    for (const b of info.body) {
      const s = get(b, i);
      if (s) {
        any = true;
        if (!TERMINAL.has(s.status)) all = false;
      } else all = false;
    }
    return !any ? 'unstarted' : all ? 'done' : 'running';
  };

  /** First unhandled failure of item i (a body node failed without an error edge). */
  const itemUnhandledFailure = (
    info: ForEachInfo,
    i: number,
  ): { nodeId: string; error: StepErrorInfo } | null => {
    for (const b of info.body) {
      const s = get(b, i);
      if (s?.status === 'failed' && !grid.hasErrorEdge.has(b)) {
        return { nodeId: b, error: s.error ?? { message: 'failed', code: 'ERROR', kind: 'fatal' } };
      }
    }
    return null;
  };

  const itemResult = (info: ForEachInfo, i: number, items: unknown[]): Json => {
    if (info.body.size === 0) return (items[i] ?? null) as Json;
    const unhandled = itemUnhandledFailure(info, i);
    if (unhandled) return { error: unhandled.error as unknown as Json };
    const completed = info.sinks.filter((id) => get(id, i)?.status === 'completed');
    if (completed.length === 0) {
      for (const b of info.body) {
        const s = get(b, i);
        if (s?.status === 'failed') return { error: (s.error ?? null) as unknown as Json };
      }
      return null;
    }
    if (info.sinks.length === 1) return get(completed[0]!, i)!.output ?? null;
    const out: Record<string, Json> = {};
    for (const id of completed) out[nameOf(id)] = get(id, i)!.output ?? null;
    return out;
  };

  /** Number of admitted items (a prefix 0..k-1), admitting more while below the concurrency. */
  const admitted = new Map<string, number>();
  const admit = (info: ForEachInfo, items: unknown[]): number => {
    let k = 0;
    // Started items form a prefix: items are admitted in order and never un-started.
    while (k < items.length && itemState(info, k) !== 'unstarted') k++;
    let inflight = 0;
    let blocked = false;
    for (let i = 0; i < k; i++) {
      const st = itemState(info, i);
      if (st === 'running') inflight++;
      else if (state.errorHandling === 'stop' && itemUnhandledFailure(info, i)) blocked = true;
    }
    if (!blocked) {
      while (k < items.length && inflight < info.concurrency) {
        k++;
        inflight++;
      }
    }
    return k;
  };

  /** Whether a for-each's loop is over, and how (evaluated after its body nodes were planned). */
  const settleLoop = (info: ForEachInfo): void => {
    if (loopDone.has(info.id)) return;
    const fe = get(info.id, NO_ITEM);
    if (!fe || fe.status !== 'completed') return;
    const items = loopItems(info.id);
    if (!items) return; // no loop (disabled / port not fired): done behaves like a normal port
    const k = admitted.get(info.id) ?? admit(info, items);
    for (let i = 0; i < k; i++) if (itemState(info, i) !== 'done') return;
    if (state.errorHandling === 'stop') {
      for (let i = 0; i < k; i++) {
        const f = itemUnhandledFailure(info, i);
        if (f) {
          const error: StepErrorInfo = {
            ...f.error,
            message: `Item ${i + 1} of ${items.length} failed at node "${nameOf(f.nodeId)}": ${f.error.message}`,
          };
          steps.set(stepKey(info.id, NO_ITEM), { ...fe, status: 'failed', error });
          plan.failedLoops.push({ nodeId: info.id, itemIndex: NO_ITEM, error });
          loopDone.add(info.id);
          return;
        }
      }
    }
    if (k < items.length) return;
    const results: Json[] = [];
    for (let i = 0; i < items.length; i++) results.push(itemResult(info, i, items));
    loopResults.set(info.id, results);
    plan.finishedLoops.push({ nodeId: info.id, itemIndex: NO_ITEM, results });
    loopDone.add(info.id);
  };

  /** State and carried value of edge `e` in item context `i` (NO_ITEM outside bodies). */
  const edgeState = (e: GridEdge, i: number): { state: EdgeState; value?: Json } => {
    const srcNode = grid.nodes.get(e.source)!;
    const feInfo = srcNode.type === FOR_EACH_TYPE ? grid.forEach.get(e.source) : undefined;
    if (feInfo && e.sourceHandle === FOR_EACH_ITEM_PORT && !isErrorEdge(e)) {
      // Entry into the loop body for item i.
      const fe = get(e.source, NO_ITEM);
      if (!fe || !TERMINAL.has(fe.status)) return { state: 'pending' };
      const items = loopItems(e.source);
      if (!items || i === NO_ITEM) return { state: 'dead' };
      return i < items.length
        ? { state: 'live', value: (items[i] ?? null) as Json }
        : { state: 'dead' };
    }
    const srcIndex = grid.bodyOf.has(e.source) ? i : NO_ITEM;
    const s = get(e.source, srcIndex);
    if (!s || !TERMINAL.has(s.status)) return { state: 'pending' };
    if (isErrorEdge(e)) {
      // A running loop may still fail: its error edge stays open until the loop settles.
      if (feInfo && s.status === 'completed' && loopItems(e.source) && !loopDone.has(e.source))
        return { state: 'pending' };
      if (s.status !== 'failed') return { state: 'dead' };
      return {
        state: 'live',
        value: { error: (s.error ?? null) as unknown as Json, input: s.input ?? null },
      };
    }
    if (s.status !== 'completed') return { state: 'dead' };
    if (s.ports && !s.ports.includes(e.sourceHandle)) return { state: 'dead' };
    if (feInfo && e.sourceHandle === FOR_EACH_DONE_PORT && loopItems(e.source)) {
      if (!loopDone.has(e.source)) return { state: 'pending' };
      const results = loopResults.get(e.source);
      return results ? { state: 'live', value: results } : { state: 'dead' }; // failed loop: done is dead
    }
    return { state: 'live', value: s.output ?? null };
  };

  /** Plans node `id` in item context `i`; true when something changed. */
  const evaluate = (id: string, i: number): boolean => {
    if (steps.has(stepKey(id, i))) return false;
    const node = grid.nodes.get(id)!;
    if (id === grid.triggerId) return false; // created by initialPlan
    const inc = grid.incoming.get(id)!;
    const live: Array<{ e: GridEdge; value: Json }> = [];
    for (const e of inc) {
      const st = edgeState(e, i);
      if (st.state === 'pending') return false;
      if (st.state === 'live') live.push({ e, value: st.value ?? null });
    }
    if (live.length === 0) {
      steps.set(stepKey(id, i), { status: 'skipped' });
      plan.skipped.push({ nodeId: id, itemIndex: i });
      return true;
    }
    let input: Json;
    if (live.length === 1) input = live[0]!.value;
    else {
      const obj: Record<string, Json> = {};
      for (const l of live) {
        const isItem =
          grid.nodes.get(l.e.source)!.type === FOR_EACH_TYPE &&
          l.e.sourceHandle === FOR_EACH_ITEM_PORT;
        obj[isItem ? 'item' : nameOf(l.e.source)] = l.value;
      }
      input = obj;
    }
    if (node.disabled) {
      const ports = node.type === FOR_EACH_TYPE ? [FOR_EACH_DONE_PORT] : null;
      steps.set(stepKey(id, i), { status: 'completed', input, output: input, ports });
      plan.passedThrough.push({ nodeId: id, itemIndex: i, input, output: input });
      return true;
    }
    const ready: ReadyStep = { nodeId: id, itemIndex: i, input };
    if (i !== NO_ITEM) {
      const fe = grid.bodyOf.get(id)!;
      const items = loopItems(fe);
      ready.item = { value: (items?.[i] ?? null) as Json, index: i };
    }
    steps.set(stepKey(id, i), { status: 'pending', input });
    plan.ready.push(ready);
    return true;
  };

  // Fixpoint: passes in topological order until nothing changes (most plans settle in one pass).
  for (let pass = 0; pass < 10_000; pass++) {
    let changed = false;
    const admittedThisPass = new Map<string, number>();
    for (const id of grid.order) {
      const fe = grid.bodyOf.get(id);
      if (fe === undefined) {
        if (evaluate(id, NO_ITEM)) changed = true;
        continue;
      }
      const info = grid.forEach.get(fe)!;
      const feState = get(fe, NO_ITEM);
      if (!feState || !TERMINAL.has(feState.status)) continue;
      const items = loopItems(fe);
      if (!items) {
        // A loop that failed keeps its item steps; otherwise the loop does not run and its body
        // nodes are skipped once, outside any item.
        if (feState.status === 'failed' && forEachItems(feState.output)) continue;
        if (evaluate(id, NO_ITEM)) changed = true;
        continue;
      }
      let k = admittedThisPass.get(fe);
      if (k === undefined) {
        k = loopDone.has(fe) ? (admitted.get(fe) ?? 0) : admit(info, items);
        admitted.set(fe, k);
        admittedThisPass.set(fe, k);
      }
      for (let i = 0; i < k; i++) if (evaluate(id, i)) changed = true;
    }
    for (const info of grid.forEach.values()) {
      if (!loopDone.has(info.id)) {
        settleLoop(info);
        if (loopDone.has(info.id)) changed = true;
      }
    }
    if (!changed) break;
  }

  // Activity and completion.
  let unhandled: { nodeId: string; error?: StepErrorInfo } | null = null;
  for (const [key, s] of steps) {
    if (s.status === 'pending') plan.activity.pending++;
    else if (s.status === 'running') plan.activity.running++;
    else if (s.status === 'waiting') plan.activity.waiting++;
    else if (s.status === 'failed' && !unhandled) {
      const nodeId = key.slice(0, key.lastIndexOf('#'));
      if (grid.hasErrorEdge.has(nodeId)) continue;
      if (grid.bodyOf.has(nodeId) && Number(key.slice(key.lastIndexOf('#') + 1)) !== NO_ITEM)
        continue; // handled by the loop
      unhandled = { nodeId, ...(s.error ? { error: s.error } : {}) };
    }
  }
  const errorOf = (u: { nodeId: string; error?: StepErrorInfo }): StepErrorInfo => {
    const base = u.error ?? { message: 'failed', code: 'ERROR', kind: 'fatal' as const };
    return { ...base, message: `Node "${nameOf(u.nodeId)}" failed: ${base.message}` };
  };
  if (unhandled && state.errorHandling === 'stop') {
    plan.finished = { status: 'failed', error: errorOf(unhandled), nodeId: unhandled.nodeId };
  } else if (plan.activity.pending + plan.activity.running + plan.activity.waiting === 0) {
    plan.finished = unhandled
      ? { status: 'failed', error: errorOf(unhandled), nodeId: unhandled.nodeId }
      : { status: 'completed' };
  }
  return plan;
}

/** Applies a plan to a state (what the engine's transaction does, in memory). */
export function applyPlan(steps: Map<StepKey, StepState>, plan: Plan): void {
  for (const r of plan.ready)
    steps.set(stepKey(r.nodeId, r.itemIndex), { status: 'pending', input: r.input });
  for (const s of plan.skipped) steps.set(stepKey(s.nodeId, s.itemIndex), { status: 'skipped' });
  for (const p of plan.passedThrough) {
    steps.set(stepKey(p.nodeId, p.itemIndex), {
      status: 'completed',
      input: p.input,
      output: p.output,
      ports: null,
    });
  }
  for (const f of plan.failedLoops) {
    const k = stepKey(f.nodeId, f.itemIndex);
    steps.set(k, { ...steps.get(k)!, status: 'failed', error: f.error });
  }
}
