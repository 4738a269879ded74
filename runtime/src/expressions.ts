/**
 * Resolving `{{ }}` templates in node configs. Plain paths (`trigger.body.title`,
 * `nodes["Generate post"].output.text`) are read natively; any other expression runs in the sandbox
 * (`Sandbox.evaluate`) with the scope's variables. Every failure is a `UserError`.
 */
import { UserError } from './errors.js';
import type { Json, Sandbox } from './node-type.js';
import { nodeReferences, parsePath, parseTemplate, SCOPE_ROOTS, singleExpression, type PathKey } from './template.js';

export interface ExpressionScope {
  trigger: Json;
  /** Completed nodes' outputs, keyed by node id AND by node name (see `buildNodesScope`). */
  nodes: Record<string, { output: Json }>;
  /** In a for-each body: the current item. */
  item?: Json;
  itemIndex?: number;
  run: { id: string; gridId: string; startedAt: string };
  /** The step's input (output of its live parent(s)). */
  input?: Json;
}

/** A failed expression: `reason` says why, without the expression or node. */
export class ExpressionError extends UserError {
  override name = 'ExpressionError';
  constructor(
    readonly expression: string,
    readonly reason: string,
    field?: string,
  ) {
    super(`expression {{ ${expression} }} failed: ${reason}`, field, 'EXPRESSION_ERROR');
  }
}

/**
 * `scope.nodes` from the completed nodes: each output is reachable by id and by name (an id wins
 * over another node's equal name). Missing nodes (skipped, not run yet) are simply absent.
 */
export function buildNodesScope(nodes: Array<{ id: string; name: string; output: Json }>): Record<string, { output: Json }> {
  const out: Record<string, { output: Json }> = Object.create(null);
  for (const n of nodes) if (!(n.name in out)) out[n.name] = { output: n.output };
  for (const n of nodes) out[n.id] = { output: n.output };
  return out;
}

const hasOwn = (o: object, k: PropertyKey) => Object.prototype.hasOwnProperty.call(o, k);

type Native = { ok: true; value: Json } | { ok: false };
const FALLBACK: Native = { ok: false };

/**
 * Reads a plain path from the variables. Returns FALLBACK when JavaScript semantics go beyond own
 * JSON data (a method like `text.toUpperCase`, `constructor`): the sandbox then decides.
 */
function resolvePath(path: PathKey[], vars: Record<string, unknown>): Native {
  const root = path[0] as string;
  if (!hasOwn(vars, root)) return FALLBACK;
  let cur: unknown = vars[root];
  let shown = root;
  for (let i = 1; i < path.length; i++) {
    const key = path[i]!;
    if (root === 'nodes' && i === 1) {
      const nodes = cur as Record<string, unknown> | undefined;
      if (!nodes || !hasOwn(nodes, String(key))) {
        throw new ExpressionReason(`node "${key}" has no output`);
      }
      cur = nodes[String(key)];
      shown += typeof key === 'number' || !/^[A-Za-z_$][\w$]*$/.test(key) ? `[${JSON.stringify(key)}]` : `.${key}`;
      continue;
    }
    if (cur === null || cur === undefined) {
      throw new ExpressionReason(`${shown} is ${cur === null ? 'null' : 'undefined'} (reading "${key}")`);
    }
    if (Array.isArray(cur) || typeof cur === 'string') {
      const index = typeof key === 'number' ? key : /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
      if (Number.isInteger(index)) cur = (cur as ArrayLike<unknown>)[index];
      else if (key === 'length') cur = cur.length;
      else return FALLBACK;
    } else if (typeof cur === 'object') {
      const k = String(key);
      if (hasOwn(cur, k)) cur = (cur as Record<string, unknown>)[k];
      else if (k in Object.prototype) return FALLBACK;
      else cur = undefined;
    } else {
      return FALLBACK;
    }
    shown += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return { ok: true, value: cur === undefined ? null : (cur as Json) };
}

/** Internal: a reason without the expression, turned into an ExpressionError by the caller. */
class ExpressionReason extends Error {}

function variables(scope: ExpressionScope, extra?: Record<string, Json>): Record<string, Json> {
  const vars: Record<string, Json> = {
    trigger: scope.trigger ?? null,
    nodes: scope.nodes as unknown as Json,
    run: scope.run as unknown as Json,
  };
  if (scope.item !== undefined) vars.item = scope.item;
  if (scope.itemIndex !== undefined) vars.itemIndex = scope.itemIndex;
  if (scope.input !== undefined) vars.input = scope.input;
  if (extra) for (const [k, v] of Object.entries(extra)) vars[k] = v;
  return vars;
}

/**
 * Only the variables an expression mentions are copied into the isolate (outputs can be large):
 * `nodes` is narrowed to the nodes it names unless it reads `nodes` dynamically.
 */
function variablesFor(expression: string, vars: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (!new RegExp(`(^|[^\\w$])${name.replace(/\$/g, '\\$')}($|[^\\w$])`).test(expression)) continue;
    if (name === 'nodes' && value && typeof value === 'object' && !Array.isArray(value)) {
      const refs = nodeReferences(expression);
      if (!refs.dynamic) {
        const narrowed: Record<string, Json> = {};
        const all = value as Record<string, Json>;
        for (const n of refs.names) if (hasOwn(all, n)) narrowed[n] = all[n]!;
        out[name] = narrowed;
        continue;
      }
    }
    out[name] = value;
  }
  return out;
}

/** Reason text of a sandbox error, without its "Expression failed: " prefix. */
function sandboxReason(err: UserError): string {
  if (err.code === 'CODE_SYNTAX') return err.message.replace(/^Expression has a /, '');
  return err.message.replace(/^Expression failed: /, '').replace(/^Expression /, '');
}

/**
 * Evaluates a bare expression (no braces). Throws `ExpressionError` (a `UserError`) on failure;
 * `undefined` results are `null`.
 */
export async function evaluateExpression(
  expression: string,
  scope: ExpressionScope,
  sandbox: Sandbox,
  extra?: Record<string, Json>,
): Promise<Json> {
  // A trailing semicolon (`{{ a + 1; }}`) is a common slip, not a second statement.
  const expr = typeof expression === 'string' ? expression.trim().replace(/;+$/, '').trimEnd() : '';
  if (expr === '') throw new ExpressionError(expr, 'the expression is empty');
  const vars = variables(scope, extra);
  const roots = extra ? [...SCOPE_ROOTS, ...Object.keys(extra)] : SCOPE_ROOTS;
  const path = parsePath(expr, roots);
  if (path) {
    try {
      const native = resolvePath(path, vars);
      if (native.ok) return native.value;
    } catch (err) {
      if (err instanceof ExpressionReason) throw new ExpressionError(expr, err.message);
      throw err;
    }
  }
  try {
    return await sandbox.evaluate(expr, variablesFor(expr, vars));
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    // A TypeError on a node that did not run is better said plainly.
    const refs = nodeReferences(expr);
    const missing = refs.names.find((n) => !hasOwn(scope.nodes, n));
    if (missing !== undefined && /TypeError/.test(err.message)) {
      throw new ExpressionError(expr, `node "${missing}" has no output`);
    }
    throw new ExpressionError(expr, sandboxReason(err));
  }
}

/** Text form of a value inside mixed text: strings as is, null/undefined empty, objects as JSON. */
export function stringifyForTemplate(value: Json | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Resolves a template string. A string that is exactly one `{{ }}` (surrounding whitespace
 * ignored) yields the raw value (number, object…); mixed text yields a string. Non-strings and
 * strings without `{{ }}` are returned unchanged.
 */
export async function resolveTemplate(
  template: unknown,
  scope: ExpressionScope,
  sandbox: Sandbox,
  extra?: Record<string, Json>,
): Promise<unknown> {
  if (typeof template !== 'string' || !template.includes('{{')) return template;
  const single = singleExpression(template);
  if (single !== null) return evaluateExpression(single, scope, sandbox, extra);
  const segments = parseTemplate(template);
  if (!segments.some((s) => s.type === 'expression')) return template;
  let out = '';
  for (const s of segments) {
    out += s.type === 'text' ? s.value : stringifyForTemplate(await evaluateExpression(s.expression, scope, sandbox, extra));
  }
  return out;
}

/** A `{{ }}` template or, without braces, a bare expression (`NodeContext.evaluate`). */
export async function evaluateTemplateOrExpression(
  text: string,
  scope: ExpressionScope,
  sandbox: Sandbox,
  extra?: Record<string, Json>,
): Promise<Json> {
  if (typeof text === 'string' && text.includes('{{')) {
    const segments = parseTemplate(text);
    if (segments.some((s) => s.type === 'expression')) return (await resolveTemplate(text, scope, sandbox, extra)) as Json;
  }
  return evaluateExpression(text, scope, sandbox, extra);
}

export interface ResolveConfigOptions {
  sandbox: Sandbox;
  /** Top-level config keys left as written (code, per-item expressions). */
  rawFields?: string[];
  nodeName: string;
  nodeId: string;
}

/**
 * Resolves every template in a node's config (deep: objects and arrays), except `rawFields`.
 * Errors name the node, the field and the expression:
 * `Node "Generate post", field "prompt": expression {{ nodes.x.output }} failed: node "x" has no output`
 * with `err.field === 'config.prompt'`.
 */
export async function resolveConfig(
  config: Record<string, unknown>,
  scope: ExpressionScope,
  options: ResolveConfigOptions,
): Promise<Record<string, unknown>> {
  const raw = new Set(options.rawFields ?? []);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config ?? {})) {
    out[key] = raw.has(key) ? value : await walk(value, [key]);
  }
  return out;

  async function walk(value: unknown, path: PathKey[]): Promise<unknown> {
    if (typeof value === 'string') {
      if (!value.includes('{{')) return value;
      try {
        return await resolveTemplate(value, scope, options.sandbox);
      } catch (err) {
        if (err instanceof ExpressionError) {
          const field = fieldPath(path);
          const e = new UserError(
            `Node "${options.nodeName}", field "${field}": ${err.message}`,
            `config.${field}`,
            err.code,
          );
          throw Object.assign(e, { nodeId: options.nodeId, expression: err.expression, reason: err.reason });
        }
        throw err;
      }
    }
    if (Array.isArray(value)) {
      const arr: unknown[] = [];
      for (let i = 0; i < value.length; i++) arr.push(await walk(value[i], [...path, i]));
      return arr;
    }
    if (value !== null && typeof value === 'object') {
      const obj: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const resolved = await walk(v, [...path, k]);
        // defineProperty: a "__proto__" key stays a plain key.
        Object.defineProperty(obj, k, { value: resolved, enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
    return value;
  }
}

function fieldPath(path: PathKey[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (s === '') s = k;
    else s += /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return s;
}
