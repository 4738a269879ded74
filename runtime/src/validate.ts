/**
 * Grid validation: every problem with its node/edge id and a message an ops person can act on.
 * Pure (no I/O); used at save/publish time by the server and before a run starts.
 */
import type { z } from 'zod';
import { gridDocumentSchema, type GridDocument, type GridNode } from './document.js';
import { canConnect, findCycle, reachableFrom, type NodeTypeView } from './graph-rules.js';
import { FOR_EACH_TYPE, FOR_EACH_ITEM_PORT } from './for-each.js';

export type ProblemCode =
  | 'schema'
  | 'duplicate_id'
  | 'duplicate_name'
  | 'unknown_node_type'
  | 'newer_type_version'
  | 'migration_failed'
  | 'bad_config'
  | 'dangling_edge'
  | 'port_mismatch'
  | 'duplicate_edge'
  | 'cycle'
  | 'no_trigger'
  | 'several_triggers'
  | 'unreachable'
  | 'for_each_body_entry'
  | 'nested_for_each';

export interface Problem {
  code: ProblemCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Config field path (`config.url`) or document path for schema errors. */
  field?: string;
}

export interface ValidationResult {
  ok: boolean;
  /** The parsed document with defaults applied and node configs migrated to their types' current versions. */
  document?: GridDocument;
  errors: Problem[];
  warnings: Problem[];
}

/** What validation needs from a node type (an `AnyNodeType` fits). */
export interface ValidatableNodeType extends NodeTypeView {
  version: number;
  configSchema: z.ZodType;
  migrations?: Record<number, (config: Record<string, unknown>) => Record<string, unknown>>;
  /** Config-defined output ports (a branch's routes); see `NodeTypeDefinition.outputsFor`. */
  outputsFor?(config: never): ReadonlyArray<{ name: string }>;
}

/**
 * The type as seen from one node: a type with `outputsFor` gets the output ports that node's
 * config defines (a broken config keeps the static ports; config validation reports it).
 */
export function nodeTypeViewFor(
  type: ValidatableNodeType,
  config: Record<string, unknown>,
): ValidatableNodeType {
  if (!type.outputsFor) return type;
  const parsed = type.configSchema.safeParse(config);
  try {
    const ports = new Map<string, { name: string }>(type.outputs.map((p) => [p.name, p]));
    for (const p of type.outputsFor((parsed.success ? parsed.data : config) as never))
      ports.set(p.name, p);
    return { ...type, outputs: [...ports.values()] };
  } catch {
    return type;
  }
}

export interface ValidationRegistry {
  get(type: string): ValidatableNodeType | undefined;
}

const EXPRESSION_RE = /\{\{[\s\S]*?\}\}/;

function label(n: { name?: string; id: string } | undefined, fallbackId?: string): string {
  if (!n) return `"${fallbackId ?? '?'}"`;
  return n.name ? `"${n.name}"` : `"${n.id}"`;
}

function pathString(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}

function valueAt(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p as string];
  }
  return cur;
}

/**
 * Applies each node type's config `migrations` from the node's `typeVersion` up to the type's
 * current `version`. Nodes of unknown types or newer versions are left as they are (validation
 * reports them). Returns a new document; the input is not modified.
 */
export function migrateDocument(
  doc: GridDocument,
  registry: ValidationRegistry,
): { document: GridDocument; problems: Problem[] } {
  const problems: Problem[] = [];
  const nodes = doc.nodes.map((node) => {
    const type = registry.get(node.type);
    if (!type || node.typeVersion >= type.version) return node;
    let config = { ...node.config };
    for (let v = node.typeVersion; v < type.version; v++) {
      const step = type.migrations?.[v];
      if (!step) continue; // no shape change between these versions
      try {
        config = step(config);
      } catch (err) {
        problems.push({
          code: 'migration_failed',
          nodeId: node.id,
          message: `Node ${label(node)}: upgrading its settings from version ${v} to ${v + 1} of "${node.type}" failed: ${
            err instanceof Error ? err.message : String(err)
          }. Open the node and re-enter its settings.`,
        });
        return node;
      }
    }
    return { ...node, typeVersion: type.version, config };
  });
  return { document: { ...doc, nodes }, problems };
}

/** Validates a grid document (anything: it comes from the network). */
export function validateGrid(doc: unknown, registry: ValidationRegistry): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];

  const parsed = gridDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    const rawNodes = Array.isArray((doc as { nodes?: unknown } | null)?.nodes)
      ? (doc as { nodes: unknown[] }).nodes
      : [];
    const rawEdges = Array.isArray((doc as { edges?: unknown } | null)?.edges)
      ? (doc as { edges: unknown[] }).edges
      : [];
    for (const issue of parsed.error.issues) {
      const p: Problem = { code: 'schema', message: '', field: pathString(issue.path) };
      const [head, idx] = issue.path;
      let where = p.field ? `at ${p.field}` : 'the document';
      if (head === 'nodes' && typeof idx === 'number') {
        const raw = rawNodes[idx] as { id?: unknown; name?: unknown } | undefined;
        if (typeof raw?.id === 'string') p.nodeId = raw.id;
        const name =
          typeof raw?.name === 'string'
            ? raw.name
            : typeof raw?.id === 'string'
              ? raw.id
              : `#${idx + 1}`;
        where = `node "${name}" (${pathString(issue.path.slice(2)) || 'node'})`;
      } else if (head === 'edges' && typeof idx === 'number') {
        const raw = rawEdges[idx] as { id?: unknown } | undefined;
        if (typeof raw?.id === 'string') p.edgeId = raw.id;
        where = `connection ${typeof raw?.id === 'string' ? `"${raw.id}"` : `#${idx + 1}`} (${pathString(issue.path.slice(2)) || 'edge'})`;
      }
      p.message = `Invalid grid: ${where}: ${issue.message}`;
      errors.push(p);
    }
    return { ok: false, errors, warnings };
  }

  const migrated = migrateDocument(parsed.data, registry);
  errors.push(...migrated.problems);
  const document = migrated.document;
  const nodes = document.nodes;
  const byId = new Map<string, GridNode>();
  const names = new Map<string, GridNode>();
  for (const n of nodes) {
    if (byId.has(n.id)) {
      errors.push({
        code: 'duplicate_id',
        nodeId: n.id,
        message: `Two nodes have the id "${n.id}": ids must be unique.`,
      });
    } else byId.set(n.id, n);
    const other = names.get(n.name);
    if (other && other.id !== n.id) {
      errors.push({
        code: 'duplicate_name',
        nodeId: n.id,
        message: `Two nodes are named "${n.name}": rename one, expressions refer to nodes by name.`,
      });
    } else names.set(n.name, n);
  }

  // Node types and configs.
  for (const n of nodes) {
    const type = registry.get(n.type);
    if (!type) {
      errors.push({
        code: 'unknown_node_type',
        nodeId: n.id,
        message: `Node ${label(n)} uses the node type "${n.type}", which this server does not know. Remove the node or install the type.`,
      });
      continue;
    }
    if (n.typeVersion > type.version) {
      errors.push({
        code: 'newer_type_version',
        nodeId: n.id,
        message: `Node ${label(n)} was saved with version ${n.typeVersion} of "${n.type}", but this server only has version ${type.version}. Upgrade the server.`,
      });
      continue;
    }
    const res = type.configSchema.safeParse(n.config);
    if (!res.success) {
      for (const issue of res.error.issues) {
        // A `{{ expression }}` in a non-string field is resolved at run time; check it then.
        const raw = valueAt(n.config, issue.path);
        if (typeof raw === 'string' && EXPRESSION_RE.test(raw)) continue;
        const field = issue.path.length ? `config.${pathString(issue.path)}` : 'config';
        errors.push({
          code: 'bad_config',
          nodeId: n.id,
          field,
          message: `Node ${label(n)}: setting "${pathString(issue.path) || '(all)'}" ${lowerFirst(issue.message)}.`,
        });
      }
    }
  }

  // Edges.
  const goodEdges: GridDocument['edges'] = [];
  const edgeIds = new Set<string>();
  const edgeKeys = new Set<string>();
  for (const e of document.edges) {
    if (edgeIds.has(e.id)) {
      errors.push({
        code: 'duplicate_id',
        edgeId: e.id,
        message: `Two connections have the id "${e.id}": ids must be unique.`,
      });
      continue;
    }
    edgeIds.add(e.id);
    const s = byId.get(e.source);
    const t = byId.get(e.target);
    if (!s || !t) {
      const missing = !s ? e.source : e.target;
      errors.push({
        code: 'dangling_edge',
        edgeId: e.id,
        message: `A connection ${!s ? 'starts at' : 'ends at'} node "${missing}", which does not exist${
          s ? ` (from ${label(s)})` : t ? ` (into ${label(t)})` : ''
        }. Delete the connection.`,
      });
      continue;
    }
    const st = registry.get(s.type);
    const tt = registry.get(t.type);
    if (st && tt) {
      const sourceView = nodeTypeViewFor(st, s.config);
      const check = canConnect(s.type, e.sourceHandle, t.type, e.targetHandle, {
        get: (type) => (type === s.type ? sourceView : registry.get(type)),
      });
      if (!check.ok) {
        errors.push({
          code: 'port_mismatch',
          edgeId: e.id,
          nodeId: t.id,
          message: `The connection from ${label(s)} (${e.sourceHandle}) to ${label(t)} (${e.targetHandle}) is not allowed: ${check.reason}.`,
        });
        continue;
      }
      if ((e.kind === 'error') !== (check.kind === 'error')) {
        errors.push({
          code: 'port_mismatch',
          edgeId: e.id,
          nodeId: s.id,
          message: `The connection from ${label(s)} to ${label(t)} is marked as ${
            e.kind === 'error'
              ? 'an error connection but leaves a normal output'
              : 'a normal connection but leaves the error output'
          }: error connections must leave the "error" output.`,
        });
        continue;
      }
    }
    const key = `${e.source}\0${e.sourceHandle}\0${e.target}\0${e.targetHandle}`;
    if (edgeKeys.has(key)) {
      warnings.push({
        code: 'duplicate_edge',
        edgeId: e.id,
        message: `${label(s)} is connected to ${label(t)} twice through the same ports; the extra connection is ignored.`,
      });
      continue;
    }
    edgeKeys.add(key);
    goodEdges.push(e);
  }

  // Cycles.
  const ids = [...byId.keys()];
  const cycle = findCycle(ids, goodEdges);
  if (cycle) {
    errors.push({
      code: 'cycle',
      nodeId: cycle[0],
      message: `These nodes form a loop: ${cycle.map((id) => label(byId.get(id))).join(' → ')} → ${label(
        byId.get(cycle[0]!),
      )}. Loops are not allowed; use a for-each node to repeat steps.`,
    });
  }

  // Triggers.
  const triggers = nodes.filter((n) => registry.get(n.type)?.isTrigger && !n.disabled);
  if (triggers.length === 0) {
    errors.push({
      code: 'no_trigger',
      message:
        'The grid has no trigger: add one trigger node (manual, webhook or schedule) to start runs.',
    });
  } else if (triggers.length > 1) {
    for (const t of triggers.slice(1)) {
      errors.push({
        code: 'several_triggers',
        nodeId: t.id,
        message: `The grid has ${triggers.length} triggers (${triggers.map((x) => label(x)).join(', ')}); a grid has exactly one. Remove or disable ${label(t)}.`,
      });
    }
  }
  if (triggers.length >= 1) {
    const reach = reachableFrom(
      triggers.map((t) => t.id),
      goodEdges,
    );
    for (const n of nodes) {
      if (!reach.has(n.id) && !registry.get(n.type)?.isTrigger) {
        warnings.push({
          code: 'unreachable',
          nodeId: n.id,
          message: `Node ${label(n)} is not connected to the trigger and will never run.`,
        });
      }
    }
  }

  // for-each bodies.
  if (!cycle) {
    for (const fe of nodes.filter((n) => n.type === FOR_EACH_TYPE)) {
      const entries = goodEdges.filter(
        (e) => e.source === fe.id && e.sourceHandle === FOR_EACH_ITEM_PORT,
      );
      const body = reachableFrom(
        entries.map((e) => e.target),
        goodEdges,
      );
      for (const e of goodEdges) {
        const sIn = body.has(e.source);
        const tIn = body.has(e.target);
        // The body is closed under successors, so a path out of the loop shows up as a body node
        // with a parent outside it.
        if (tIn && !sIn && !(e.source === fe.id && e.sourceHandle === FOR_EACH_ITEM_PORT)) {
          errors.push({
            code: 'for_each_body_entry',
            edgeId: e.id,
            nodeId: e.target,
            message: `${label(byId.get(e.target))} runs once per item of the for-each ${label(fe)} (it follows the loop's "item" output), but it also receives a connection from ${label(
              byId.get(e.source),
            )}${e.source === fe.id ? ` ("${e.sourceHandle}" output)` : ''}, outside the loop. Nodes of the loop connect only to each other; what runs after the loop connects to the for-each's "done" output.`,
          });
        }
      }
      for (const id of body) {
        const inner = byId.get(id);
        if (inner?.type === FOR_EACH_TYPE) {
          errors.push({
            code: 'nested_for_each',
            nodeId: id,
            message: `The for-each ${label(inner)} is inside the loop of the for-each ${label(fe)}: nested loops are not supported. Move the inner loop into a separate grid or flatten the list first.`,
          });
        }
      }
    }
  }

  return { ok: errors.length === 0, document, errors, warnings };
}

function lowerFirst(s: string): string {
  const t = s.replace(/\.$/, '');
  return t ? `is invalid: ${t.charAt(0).toLowerCase()}${t.slice(1)}` : 'is invalid';
}
