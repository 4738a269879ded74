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

/** One planNext call's working state; its methods were closures of planNext (see planNext). */
class PlanPass {
  readonly steps: Map<StepKey, StepState>;
  readonly plan: Plan = {
    ready: [],
    skipped: [],
    passedThrough: [],
    failedLoops: [],
    finishedLoops: [],
    finished: null,
    activity: { pending: 0, running: 0, waiting: 0 },
  };
  readonly loopResults = new Map<string, Json[]>();
  /** For-each ids whose loop is over (finished or failed). */
  readonly loopDone = new Set<string>();
  /** Number of admitted items (a prefix 0..k-1), admitting more while below the concurrency. */
  readonly admitted = new Map<string, number>();

  constructor(
    readonly grid: CompiledGrid,
    readonly state: RunState,
  ) {
    this.steps = new Map(state.steps);
  }

  get(nodeId: string, itemIndex: number): StepState | undefined {
    return this.steps.get(stepKey(nodeId, itemIndex));
  }

  nameOf(id: string): string {
    return this.grid.nodes.get(id)?.name ?? id;
  }

  /** Items of a completed for-each whose item port fired, else null (no loop runs). */
  loopItems(fe: string): unknown[] | null {
    const s = this.get(fe, NO_ITEM);
    if (!s || s.status !== 'completed' || this.grid.nodes.get(fe)?.disabled) return null;
    if (s.ports && !s.ports.includes(FOR_EACH_ITEM_PORT)) return null;
    return forEachItems(s.output);
  }

  itemState(info: ForEachInfo, i: number): 'unstarted' | 'running' | 'done' {
    if (info.body.size === 0) return 'done'; // an empty body: each item is its own result
    let any = false;
    let all = true;
    for (const b of info.body) {
      const s = this.get(b, i);
      if (s) {
        any = true;
        if (!TERMINAL.has(s.status)) all = false;
      } else all = false;
    }
    return !any ? 'unstarted' : all ? 'done' : 'running';
  }

  /** First unhandled failure of item i (a body node failed without an error edge). */
  itemUnhandledFailure(
    info: ForEachInfo,
    i: number,
  ): { nodeId: string; error: StepErrorInfo } | null {
    for (const b of info.body) {
      const s = this.get(b, i);
      if (s?.status === 'failed' && !this.grid.hasErrorEdge.has(b)) {
        return { nodeId: b, error: s.error ?? { message: 'failed', code: 'ERROR', kind: 'fatal' } };
      }
    }
    return null;
  }

  itemResult(info: ForEachInfo, i: number, items: unknown[]): Json {
    if (info.body.size === 0) return (items[i] ?? null) as Json;
    const unhandled = this.itemUnhandledFailure(info, i);
    if (unhandled) return { error: unhandled.error as unknown as Json };
    const completed = info.sinks.filter((id) => this.get(id, i)?.status === 'completed');
    if (completed.length === 0) {
      for (const b of info.body) {
        const s = this.get(b, i);
        if (s?.status === 'failed') return { error: (s.error ?? null) as unknown as Json };
      }
      return null;
    }
    if (info.sinks.length === 1) return this.get(completed[0]!, i)!.output ?? null;
    const out: Record<string, Json> = {};
    for (const id of completed) out[this.nameOf(id)] = this.get(id, i)!.output ?? null;
    return out;
  }

  admit(info: ForEachInfo, items: unknown[]): number {
    let k = 0;
    // Started items form a prefix: items are admitted in order and never un-started.
    while (k < items.length && this.itemState(info, k) !== 'unstarted') k++;
    let inflight = 0;
    let blocked = false;
    for (let i = 0; i < k; i++) {
      const st = this.itemState(info, i);
      if (st === 'running') inflight++;
      else if (this.state.errorHandling === 'stop' && this.itemUnhandledFailure(info, i))
        blocked = true;
    }
    if (!blocked) {
      while (k < items.length && inflight < info.concurrency) {
        k++;
        inflight++;
      }
    }
    return k;
  }

  /** Whether a for-each's loop is over, and how (evaluated after its body nodes were planned). */
  settleLoop(info: ForEachInfo): void {
    if (this.loopDone.has(info.id)) return;
    const fe = this.get(info.id, NO_ITEM);
    if (!fe || fe.status !== 'completed') return;
    const items = this.loopItems(info.id);
    if (!items) return; // no loop (disabled / port not fired): done behaves like a normal port
    const k = this.admitted.get(info.id) ?? this.admit(info, items);
    for (let i = 0; i < k; i++) if (this.itemState(info, i) !== 'done') return;
    if (this.state.errorHandling === 'stop') {
      for (let i = 0; i < k; i++) {
        const f = this.itemUnhandledFailure(info, i);
        if (f) {
          const error: StepErrorInfo = {
            ...f.error,
            message: `Item ${i + 1} of ${items.length} failed at node "${this.nameOf(f.nodeId)}": ${f.error.message}`,
          };
          this.steps.set(stepKey(info.id, NO_ITEM), { ...fe, status: 'failed', error });
          this.plan.failedLoops.push({ nodeId: info.id, itemIndex: NO_ITEM, error });
          this.loopDone.add(info.id);
          return;
        }
      }
    }
    if (k < items.length) return;
    const results: Json[] = [];
    for (let i = 0; i < items.length; i++) results.push(this.itemResult(info, i, items));
    this.loopResults.set(info.id, results);
    this.plan.finishedLoops.push({ nodeId: info.id, itemIndex: NO_ITEM, results });
    this.loopDone.add(info.id);
  }

  /** State and carried value of edge `e` in item context `i` (NO_ITEM outside bodies). */
  edgeState(e: GridEdge, i: number): { state: EdgeState; value?: Json } {
    const srcNode = this.grid.nodes.get(e.source)!;
    const feInfo = srcNode.type === FOR_EACH_TYPE ? this.grid.forEach.get(e.source) : undefined;
    if (feInfo && e.sourceHandle === FOR_EACH_ITEM_PORT && !isErrorEdge(e)) {
      // Entry into the loop body for item i.
      const fe = this.get(e.source, NO_ITEM);
      if (!fe || !TERMINAL.has(fe.status)) return { state: 'pending' };
      const items = this.loopItems(e.source);
      if (!items || i === NO_ITEM) return { state: 'dead' };
      return i < items.length
        ? { state: 'live', value: (items[i] ?? null) as Json }
        : { state: 'dead' };
    }
    const srcIndex = this.grid.bodyOf.has(e.source) ? i : NO_ITEM;
    const s = this.get(e.source, srcIndex);
    if (!s || !TERMINAL.has(s.status)) return { state: 'pending' };
    if (isErrorEdge(e)) {
      // A running loop may still fail: its error edge stays open until the loop settles.
      if (
        feInfo &&
        s.status === 'completed' &&
        this.loopItems(e.source) &&
        !this.loopDone.has(e.source)
      )
        return { state: 'pending' };
      if (s.status !== 'failed') return { state: 'dead' };
      return {
        state: 'live',
        value: { error: (s.error ?? null) as unknown as Json, input: s.input ?? null },
      };
    }
    if (s.status !== 'completed') return { state: 'dead' };
    if (s.ports && !s.ports.includes(e.sourceHandle)) return { state: 'dead' };
    if (feInfo && e.sourceHandle === FOR_EACH_DONE_PORT && this.loopItems(e.source)) {
      if (!this.loopDone.has(e.source)) return { state: 'pending' };
      const results = this.loopResults.get(e.source);
      return results ? { state: 'live', value: results } : { state: 'dead' }; // failed loop: done is dead
    }
    return { state: 'live', value: s.output ?? null };
  }

  /** Plans node `id` in item context `i`; true when something changed. */
  evaluate(id: string, i: number): boolean {
    if (this.steps.has(stepKey(id, i))) return false;
    const node = this.grid.nodes.get(id)!;
    if (id === this.grid.triggerId) return false; // created by initialPlan
    const inc = this.grid.incoming.get(id)!;
    const live: Array<{ e: GridEdge; value: Json }> = [];
    for (const e of inc) {
      const st = this.edgeState(e, i);
      if (st.state === 'pending') return false;
      if (st.state === 'live') live.push({ e, value: st.value ?? null });
    }
    if (live.length === 0) {
      this.steps.set(stepKey(id, i), { status: 'skipped' });
      this.plan.skipped.push({ nodeId: id, itemIndex: i });
      return true;
    }
    let input: Json;
    if (live.length === 1) input = live[0]!.value;
    else {
      const obj: Record<string, Json> = {};
      for (const l of live) {
        const isItem =
          this.grid.nodes.get(l.e.source)!.type === FOR_EACH_TYPE &&
          l.e.sourceHandle === FOR_EACH_ITEM_PORT;
        obj[isItem ? 'item' : this.nameOf(l.e.source)] = l.value;
      }
      input = obj;
    }
    if (node.disabled) {
      const ports = node.type === FOR_EACH_TYPE ? [FOR_EACH_DONE_PORT] : null;
      this.steps.set(stepKey(id, i), { status: 'completed', input, output: input, ports });
      this.plan.passedThrough.push({ nodeId: id, itemIndex: i, input, output: input });
      return true;
    }
    const ready: ReadyStep = { nodeId: id, itemIndex: i, input };
    if (i !== NO_ITEM) {
      const fe = this.grid.bodyOf.get(id)!;
      const items = this.loopItems(fe);
      ready.item = { value: (items?.[i] ?? null) as Json, index: i };
    }
    this.steps.set(stepKey(id, i), { status: 'pending', input });
    this.plan.ready.push(ready);
    return true;
  }

  errorOf(u: { nodeId: string; error?: StepErrorInfo }): StepErrorInfo {
    const base = u.error ?? { message: 'failed', code: 'ERROR', kind: 'fatal' as const };
    return { ...base, message: `Node "${this.nameOf(u.nodeId)}" failed: ${base.message}` };
  }

  run(): Plan {
    // Fixpoint: passes in topological order until nothing changes (most plans settle in one pass).
    for (let pass = 0; pass < 10_000; pass++) {
      let changed = false;
      const admittedThisPass = new Map<string, number>();
      for (const id of this.grid.order) {
        const fe = this.grid.bodyOf.get(id);
        if (fe === undefined) {
          if (this.evaluate(id, NO_ITEM)) changed = true;
          continue;
        }
        const info = this.grid.forEach.get(fe)!;
        const feState = this.get(fe, NO_ITEM);
        if (!feState || !TERMINAL.has(feState.status)) continue;
        const items = this.loopItems(fe);
        if (!items) {
          // A loop that failed keeps its item steps; otherwise the loop does not run and its body
          // nodes are skipped once, outside any item.
          if (feState.status === 'failed' && forEachItems(feState.output)) continue;
          if (this.evaluate(id, NO_ITEM)) changed = true;
          continue;
        }
        let k = admittedThisPass.get(fe);
        if (k === undefined) {
          k = this.loopDone.has(fe) ? (this.admitted.get(fe) ?? 0) : this.admit(info, items);
          this.admitted.set(fe, k);
          admittedThisPass.set(fe, k);
        }
        for (let i = 0; i < k; i++) if (this.evaluate(id, i)) changed = true;
      }
      for (const info of this.grid.forEach.values()) {
        if (!this.loopDone.has(info.id)) {
          this.settleLoop(info);
          if (this.loopDone.has(info.id)) changed = true;
        }
      }
      if (!changed) break;
    }

    // Activity and completion.
    let unhandled: { nodeId: string; error?: StepErrorInfo } | null = null;
    for (const [key, s] of this.steps) {
      if (s.status === 'pending') this.plan.activity.pending++;
      else if (s.status === 'running') this.plan.activity.running++;
      else if (s.status === 'waiting') this.plan.activity.waiting++;
      else if (s.status === 'failed' && !unhandled) {
        const nodeId = key.slice(0, key.lastIndexOf('#'));
        if (this.grid.hasErrorEdge.has(nodeId)) continue;
        if (this.grid.bodyOf.has(nodeId) && Number(key.slice(key.lastIndexOf('#') + 1)) !== NO_ITEM)
          continue; // handled by the loop
        unhandled = { nodeId, ...(s.error ? { error: s.error } : {}) };
      }
    }
    if (unhandled && this.state.errorHandling === 'stop') {
      this.plan.finished = {
        status: 'failed',
        error: this.errorOf(unhandled),
        nodeId: unhandled.nodeId,
      };
    } else if (
      this.plan.activity.pending + this.plan.activity.running + this.plan.activity.waiting ===
      0
    ) {
      this.plan.finished = unhandled
        ? { status: 'failed', error: this.errorOf(unhandled), nodeId: unhandled.nodeId }
        : { status: 'completed' };
    }
    return this.plan;
  }
}

/**
 * The next plan for a run in `state`. Steps already present in `state` are never planned again
 * (so applying a plan and planning again is idempotent).
 *
 * Its helpers are methods of a per-call object rather than closures: the server runs through tsx,
 * whose esbuild transform keeps function names by calling Object.defineProperty on every named
 * closure each time it is created (about 4 % of the server's thread at sync-webhook load).
 */
export function planNext(grid: CompiledGrid, state: RunState): Plan {
  return new PlanPass(grid, state).run();
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
