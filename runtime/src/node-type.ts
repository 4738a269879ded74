/**
 * The contract between the runtime and node types. A node type's runner reaches the world only
 * through the `NodeContext` it is given; tests pass a fake one.
 */
import type { z } from 'zod';
import type { PrismaClient } from '@gridflow/db';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type NodeCategory = 'trigger' | 'content' | 'logic' | 'data' | 'utility';

export interface PortDefinition {
  /** Port name, used as `sourceHandle` / `targetHandle` of edges. */
  name: string;
  /** Label shown on the canvas, e.g. "pass", "approved". */
  label: string;
}

export interface NodeLogger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  /** Allow loopback/private/link-local targets. Only for operator-configured base URLs, never user input. */
  allowPrivateNetwork?: boolean;
  maxRedirects?: number;
  /** Response body size limit (bytes). */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
  url: string;
}

/** Outbound HTTP with SSRF protection (private addresses refused unless allowed), timeouts and the run's abort signal. */
export interface HttpClient {
  request(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
}

export interface SandboxRunOptions {
  timeoutMs?: number;
  memoryMb?: number;
  /**
   * Calls with the same key and source may run in the same context, one after another (globals the
   * code leaves behind stay, like module state in a serverless function). Calls without a key get a
   * fresh context. Use a key no other tenant, grid or node can produce (the code node: workspace,
   * grid and node ids).
   */
  reuseKey?: string;
}

/** isolated-vm: JSON in, JSON out, no Node APIs. */
export interface Sandbox {
  /** Runs a function body; `input` and `globals` are visible to it as variables of those names. */
  runCode(code: string, globals: Record<string, Json>, options?: SandboxRunOptions): Promise<Json>;
  /** Evaluates one expression against the given variables. */
  evaluate(expression: string, globals: Record<string, Json>, options?: SandboxRunOptions): Promise<Json>;
}

export interface Embedding {
  vector: number[];
  embedder: string;
  dimension: number;
}

/** What a runner returns when it suspends the run (approval, delay). */
export interface WaitRequest {
  /** Resume at this time with `{ reason: 'timer' }` unless resumed earlier by an event. */
  until?: Date;
  /** Stored on the waitpoint; shown in the UI. */
  payload?: Json;
}

export interface WaitResult {
  kind: 'wait';
  wait: WaitRequest;
}

export interface OutputResult {
  kind: 'output';
  output: Json;
  /** Output ports that fire. Omitted: every non-error output port fires. Empty array: none fire. */
  ports?: string[];
}

export type NodeResult = OutputResult | WaitResult;

/** An event for outbound webhooks and the live stream, written durably with the step's result. */
export interface DomainEvent {
  type: 'approval.requested' | 'approval.decided' | 'post.published' | 'post.failed' | 'content.generated' | 'guard.scored';
  data: Record<string, Json>;
}

export interface NodeContext<C = Record<string, unknown>> {
  /** The node's config, validated by its schema, with `{{ }}` expressions already resolved (except `rawFields`). */
  config: C;
  /** Output of the single live parent, or `{ [parentName]: output }` for several; error edges get `{ error, input }`. */
  input: Json;
  /** The trigger's payload. */
  trigger: Json;
  node: { id: string; name: string; type: string };
  execution: { id: string; gridId: string; workspaceId: string; mode: 'production' | 'test' };
  step: {
    /** Stable id: execution id + node id (+ item index). */
    id: string;
    attempt: number;
    itemIndex: number | null;
    /** Derived from the step id, the same across attempts and re-deliveries: use for side effects. */
    idempotencyKey: string;
  };
  /** In a for-each body: the current item. */
  item?: { value: Json; index: number };
  /** Set when a suspended step is resumed: the decision or `{ reason: 'timer' }`. */
  resume?: Json;
  /** Fires when the run is cancelled or the node times out. */
  signal: AbortSignal;
  log: NodeLogger;
  http: HttpClient;
  sandbox: Sandbox;
  /** Database access for the node's own records; every query must be scoped to `execution.workspaceId`. */
  db: PrismaClient;
  /**
   * Decrypts a secret stored with the crypto helper. `context` must be the one it was encrypted
   * with (e.g. `social_account:<id>:access_token`): it is authenticated, so a value copied to
   * another row or column does not decrypt.
   */
  decrypt(ciphertext: string, context?: string): string;
  encrypt(plaintext: string, context?: string): string;
  embed(text: string): Promise<Embedding>;
  /** Operator settings the node may read (OpenAI, platform base URLs). */
  env: NodeEnvironment;
  /** Records an event for outbound webhooks; delivered once, after the step commits. */
  emit(event: DomainEvent): void;
  /** Suspends the run; the step is run again with `resume` set when the wait ends. */
  wait(request: WaitRequest): WaitResult;
  /** Evaluates a `{{ }}` template or a bare expression against this step's data (trigger, nodes, item, run). */
  evaluate(expression: string, extra?: Record<string, Json>): Promise<Json>;
}

export interface NodeEnvironment {
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  /** Per platform API base URL overrides (tests point these at local fake servers). */
  platformBaseUrls: Partial<Record<'linkedin' | 'x' | 'facebook' | 'instagram', string>>;
  /** Public base URL of this Gridflow server (for links in notifications). */
  publicUrl: string;
}

export interface NodeTypeDefinition<S extends z.ZodType = z.ZodType> {
  type: string;
  /** Bumped when the config shape changes; `migrations[n]` turns a version-n config into version n+1. */
  version: number;
  label: string;
  description: string;
  /** A single emoji or short icon name shown on the canvas. */
  icon: string;
  category: NodeCategory;
  /** Trigger nodes have no inputs and start runs. */
  isTrigger?: boolean;
  /**
   * `run` does no I/O and reads only its config, input and trigger (no ctx.http/db/sandbox/emit/wait):
   * the engine may run it while it starts the run and store it completed with the run's first write.
   */
  pure?: boolean;
  /**
   * `run` has no effect outside its output (no ctx.http/db/emit/wait; the sandbox and expressions are
   * fine), so running it again is invisible. When such steps become ready one after the other as a
   * run starts, the engine may run them right there (within a few milliseconds) and store them
   * completed with the run's first write. `pure` implies it.
   */
  sideEffectFree?: boolean;
  inputs: PortDefinition[];
  outputs: PortDefinition[];
  /**
   * Output ports that depend on the config (e.g. a branch's named routes). When present, the ports of a
   * node are `outputsFor(config)` (which includes the static ones it keeps); validation and the editor
   * call it with the node's saved config. Must be pure and browser-safe, and must not throw on a partial config.
   */
  outputsFor?(config: z.infer<S>): PortDefinition[];
  configSchema: S;
  /** Config fields left as written (not expression-resolved before `run`), e.g. code or per-item expressions. */
  rawFields?: string[];
  /** Config migrations: key n upgrades a config of version n to n+1. */
  migrations?: Record<number, (config: Record<string, unknown>) => Record<string, unknown>>;
  /** One line shown under the node's name on the canvas. */
  summary?: (config: z.infer<S>) => string;
  run(ctx: NodeContext<z.infer<S>>): Promise<NodeResult>;
}

export type AnyNodeType = NodeTypeDefinition<z.ZodType>;

export function defineNodeType<S extends z.ZodType>(def: NodeTypeDefinition<S>): NodeTypeDefinition<S> {
  return def;
}

/** Lookup of node types by `type`; one explicit list lives in `@gridflow/nodes`. */
export interface NodeRegistry {
  get(type: string): AnyNodeType | undefined;
  list(): AnyNodeType[];
}

export function createRegistry(types: AnyNodeType[]): NodeRegistry {
  const map = new Map<string, AnyNodeType>();
  for (const t of types) {
    if (map.has(t.type)) throw new Error(`duplicate node type "${t.type}"`);
    map.set(t.type, t);
  }
  return { get: (type) => map.get(type), list: () => [...map.values()] };
}

export function output(value: Json, ports?: string[]): OutputResult {
  return ports ? { kind: 'output', output: value, ports } : { kind: 'output', output: value };
}
