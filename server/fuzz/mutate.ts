/**
 * fast-check arbitraries for hostile grid documents: fully random JSON shaped like a document, and
 * mutations of real documents (the shipped templates and a trigger → code grid): a value at a
 * random path replaced by random JSON or a wrong type, a key deleted, a node duplicated, an edge
 * rewired, an id emptied or made huge.
 */
import fc from 'fast-check';

type J = unknown;

export const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Values that break types and limits (NUL and lone surrogates too: PostgreSQL refuses them). */
export const nasty: fc.Arbitrary<J> = fc.oneof(
  anyJson,
  fc.constantFrom(
    null, '', ' ', 0, -1, 1e308, -0, true, [], {}, '__proto__', 'constructor', '{{', '}}', '{{ }}', '{{ process.exit(1) }}',
    'x'.repeat(70_000), 'a\u0000b', 'x\ud800y', '../../etc/passwd', '<script>alert(1)</script>', 'a'.repeat(300),
  ),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
);

/** Every path (array of keys) into a JSON value, the root included. */
export function paths(v: J, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix);
  if (typeof v === 'string' && v.length > 1000) return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function setAt(root: J, path: Array<string | number>, value: J, del = false): J {
  if (path.length === 0) return value;
  const copy = clone(root) as Record<string | number, J>;
  let cur = copy as Record<string | number, J>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, J>;
  const last = path[path.length - 1]!;
  if (del) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

type Doc = { nodes?: Array<Record<string, J>>; edges?: Array<Record<string, J>> } & Record<string, J>;

const isObj = (v: unknown): v is Record<string, J> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Applies `f` to a copy; a document whose shape no longer allows it is returned as it is. */
function safe(doc: Doc, f: (d: Doc) => void): Doc {
  const d = clone(doc);
  if (!isObj(d)) return d;
  if (d.nodes !== undefined && (!Array.isArray(d.nodes) || !d.nodes.every(isObj))) return d;
  if (d.edges !== undefined && (!Array.isArray(d.edges) || !d.edges.every(isObj))) return d;
  f(d);
  return d;
}

/** One structural mutation of a document. */
const structural = (doc: Doc) =>
  fc.oneof(
    // duplicate a node (same id)
    fc.nat().map((i) =>
      safe(doc, (d) => {
        if (d.nodes?.length) d.nodes.push(clone(d.nodes[i % d.nodes.length]!));
      }),
    ),
    // rewire an edge to a random / missing node or port
    fc.tuple(fc.nat(), fc.constantFrom('source', 'target', 'sourceHandle', 'targetHandle', 'kind'), fc.string({ maxLength: 12 })).map(([i, k, v]) =>
      safe(doc, (d) => {
        if (d.edges?.length) d.edges[i % d.edges.length]![k] = v;
      }),
    ),
    // an edge back to the trigger (cycle) or to itself
    fc.nat().map((i) =>
      safe(doc, (d) => {
        const e = d.edges?.[i % (d.edges?.length || 1)];
        if (e) d.edges!.push({ ...e, id: `${String(e.id)}-back`, source: e.target, target: e.source, sourceHandle: e.targetHandle, targetHandle: e.sourceHandle });
      }),
    ),
    // change a node's type or version
    fc.tuple(fc.nat(), fc.oneof(fc.constantFrom('trigger', 'code', 'http', 'for-each', 'publish', 'approval', 'nope', ''), fc.string()), fc.integer({ min: -2, max: 99 })).map(([i, type, v]) =>
      safe(doc, (d) => {
        const n = d.nodes?.[i % (d.nodes?.length || 1)];
        if (n) {
          n.type = type;
          n.typeVersion = v;
        }
      }),
    ),
    // replace a node's config by random JSON
    fc.tuple(fc.nat(), anyJson).map(([i, cfg]) =>
      safe(doc, (d) => {
        const n = d.nodes?.[i % (d.nodes?.length || 1)];
        if (n) n.config = cfg;
      }),
    ),
    // remove every trigger / all nodes
    fc.constant(null).map(() =>
      safe(doc, (d) => {
        d.nodes = (d.nodes ?? []).filter((n) => n.type !== 'trigger');
      }),
    ),
  );

/** A random mutation (1-3 steps) of `doc`. */
export function mutated(doc: Doc): fc.Arbitrary<J> {
  const one = (d: J): fc.Arbitrary<J> => {
    const all = paths(d);
    const inner = all.filter((p) => p.length > 0);
    if (inner.length === 0) return fc.tuple(fc.constant([] as Array<string | number>), nasty).map(([p, v]) => setAt(d, p, v));
    return fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...all), nasty).map(([p, v]) => setAt(d, p, v)) },
      { weight: 2, arbitrary: fc.constantFrom(...inner).map((p) => setAt(d, p, undefined, true)) },
      { weight: 2, arbitrary: structural(d as Doc) },
    );
  };
  return one(doc).chain((d1) => fc.oneof(fc.constant(d1), one(d1)));
}

/** Random JSON loosely shaped like a grid document. */
export const documentLike = fc.record(
  {
    schemaVersion: fc.oneof(fc.constant(1), fc.integer(), fc.string()),
    nodes: fc.array(
      fc.record(
        {
          id: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('a', 'b', 'trigger')),
          type: fc.constantFrom('trigger', 'code', 'http', 'branch', 'for-each', 'transform', 'delay', 'publish', 'approval', 'generate', 'nope'),
          typeVersion: fc.oneof(fc.constant(1), fc.integer()),
          name: fc.string({ maxLength: 20 }),
          position: fc.oneof(fc.record({ x: fc.double(), y: fc.integer() }), anyJson),
          config: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), nasty, { maxKeys: 4 }), anyJson),
          disabled: fc.oneof(fc.boolean(), anyJson),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 6 },
    ),
    edges: fc.array(
      fc.record(
        {
          id: fc.string({ maxLength: 8 }),
          source: fc.constantFrom('a', 'b', 'trigger', 'x'),
          sourceHandle: fc.constantFrom('out', 'main', 'error', 'item', 'done', 'true', ''),
          target: fc.constantFrom('a', 'b', 'trigger', 'x'),
          targetHandle: fc.constantFrom('in', 'main', ''),
          kind: fc.constantFrom('default', 'conditional', 'error', 'weird'),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 6 },
    ),
    settings: fc.oneof(fc.constant({}), anyJson),
  },
  { requiredKeys: [] },
);
