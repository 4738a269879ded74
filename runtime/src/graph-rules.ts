/**
 * Graph rules shared by the editor and the runtime: which port may connect to which, cycles,
 * reachability, topological order. Framework-free and browser-safe (no Node imports): the editor
 * calls these with node type data from `GET /api/node-types`.
 */

/** Name of the output port every non-trigger node has implicitly: it fires when the node fails. */
export const ERROR_PORT = 'error';

/** The minimum the rules need to know about a node type. `NodeRegistry` entries satisfy it. */
export interface NodeTypeView {
  type: string;
  isTrigger?: boolean;
  inputs: ReadonlyArray<{ name: string }>;
  outputs: ReadonlyArray<{ name: string }>;
}

/** Lookup of node types by type name. A `NodeRegistry` is one; `registryViewFrom` builds one from a list. */
export interface RegistryView {
  get(type: string): NodeTypeView | undefined;
}

export function registryViewFrom(types: ReadonlyArray<NodeTypeView>): RegistryView {
  const map = new Map(types.map((t) => [t.type, t]));
  return { get: (type) => map.get(type) };
}

/** Minimal edge shape (a `GridEdge` is one). */
export interface EdgeLike {
  id?: string;
  source: string;
  sourceHandle?: string;
  target: string;
  targetHandle?: string;
  kind?: 'default' | 'conditional' | 'error';
}

export type ConnectionCheck =
  { ok: true; kind: 'default' | 'error' } | { ok: false; reason: string };

/**
 * Whether an edge from `sourceType`'s output `sourceHandle` to `targetType`'s input `targetHandle`
 * is allowed. Every non-trigger node has an implicit `error` output port (its error edge).
 */
export function canConnect(
  sourceType: string,
  sourceHandle: string | null | undefined,
  targetType: string,
  targetHandle: string | null | undefined,
  registry: RegistryView,
): ConnectionCheck {
  const source = registry.get(sourceType);
  if (!source) return { ok: false, reason: `unknown node type "${sourceType}"` };
  const target = registry.get(targetType);
  if (!target) return { ok: false, reason: `unknown node type "${targetType}"` };
  const sh = sourceHandle ?? defaultOutput(source);
  const th = targetHandle ?? defaultInput(target);
  if (target.isTrigger || target.inputs.length === 0) {
    return { ok: false, reason: `"${target.type}" has no inputs: nothing can connect into it` };
  }
  let kind: 'default' | 'error' = 'default';
  if (sh === ERROR_PORT && !source.outputs.some((p) => p.name === ERROR_PORT)) {
    if (source.isTrigger)
      return { ok: false, reason: `a trigger ("${source.type}") has no error output` };
    kind = 'error';
  } else if (!source.outputs.some((p) => p.name === sh)) {
    return {
      ok: false,
      reason: `"${source.type}" has no output "${sh}" (outputs: ${portList(source.outputs)})`,
    };
  }
  if (!target.inputs.some((p) => p.name === th)) {
    return {
      ok: false,
      reason: `"${target.type}" has no input "${th}" (inputs: ${portList(target.inputs)})`,
    };
  }
  return { ok: true, kind };
}

function portList(ports: ReadonlyArray<{ name: string }>): string {
  return ports.length ? ports.map((p) => p.name).join(', ') : 'none';
}

export function defaultOutput(t: NodeTypeView): string {
  return t.outputs[0]?.name ?? 'out';
}

export function defaultInput(t: NodeTypeView): string {
  return t.inputs[0]?.name ?? 'in';
}

export function isErrorEdge(e: EdgeLike): boolean {
  return e.kind === 'error' || e.sourceHandle === ERROR_PORT;
}

/** Adjacency lists (outgoing and incoming edges per node id), ignoring edges to unknown nodes. */
export interface Adjacency<E extends EdgeLike = EdgeLike> {
  out: Map<string, E[]>;
  in: Map<string, E[]>;
}

export function adjacency<E extends EdgeLike>(
  nodeIds: Iterable<string>,
  edges: ReadonlyArray<E>,
): Adjacency<E> {
  const out = new Map<string, E[]>();
  const inc = new Map<string, E[]>();
  for (const id of nodeIds) {
    out.set(id, []);
    inc.set(id, []);
  }
  for (const e of edges) {
    const o = out.get(e.source);
    const i = inc.get(e.target);
    if (!o || !i) continue;
    o.push(e);
    i.push(e);
  }
  return { out, in: inc };
}

/** One cycle as a list of node ids (first repeated at the end is omitted), or null when acyclic. */
export function findCycle(
  nodeIds: Iterable<string>,
  edges: ReadonlyArray<EdgeLike>,
): string[] | null {
  const ids = [...nodeIds];
  const adj = adjacency(ids, edges);
  const color = new Map<string, 0 | 1 | 2>(); // 0 new, 1 on stack, 2 done
  for (const start of ids) {
    if (color.get(start)) continue;
    // Iterative DFS (grids may have thousands of nodes).
    const stack: Array<{ id: string; i: number }> = [{ id: start, i: 0 }];
    const path: string[] = [start];
    color.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const outs = adj.out.get(top.id)!;
      if (top.i < outs.length) {
        const next = outs[top.i++]!.target;
        const c = color.get(next) ?? 0;
        if (c === 1) return path.slice(path.indexOf(next));
        if (c === 0) {
          color.set(next, 1);
          stack.push({ id: next, i: 0 });
          path.push(next);
        }
      } else {
        color.set(top.id, 2);
        stack.pop();
        path.pop();
      }
    }
  }
  return null;
}

/** Whether adding `source → target` to `edges` would close a cycle (the editor checks this while dragging). */
export function wouldCreateCycle(
  edges: ReadonlyArray<EdgeLike>,
  source: string,
  target: string,
): boolean {
  if (source === target) return true;
  return reachableFrom([target], edges).has(source);
}

/** Node ids reachable from `starts` (starts included), following edges that pass `follow`. */
export function reachableFrom(
  starts: Iterable<string>,
  edges: ReadonlyArray<EdgeLike>,
  follow: (e: EdgeLike) => boolean = () => true,
): Set<string> {
  const out = new Map<string, string[]>();
  for (const e of edges) {
    if (!follow(e)) continue;
    let list = out.get(e.source);
    if (!list) out.set(e.source, (list = []));
    list.push(e.target);
  }
  const seen = new Set<string>();
  const todo = [...starts];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const t of out.get(id) ?? []) if (!seen.has(t)) todo.push(t);
  }
  return seen;
}

/** Kahn's order of `nodeIds`; null when the graph has a cycle. Ties keep the input order (stable). */
export function topologicalOrder(
  nodeIds: Iterable<string>,
  edges: ReadonlyArray<EdgeLike>,
): string[] | null {
  const ids = [...nodeIds];
  const adj = adjacency(ids, edges);
  const indeg = new Map<string, number>();
  for (const id of ids) indeg.set(id, adj.in.get(id)!.length);
  const order: string[] = [];
  const queue = ids.filter((id) => indeg.get(id) === 0);
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q]!;
    order.push(id);
    for (const e of adj.out.get(id)!) {
      const d = indeg.get(e.target)! - 1;
      indeg.set(e.target, d);
      if (d === 0) queue.push(e.target);
    }
  }
  return order.length === ids.length ? order : null;
}
