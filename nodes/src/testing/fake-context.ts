/**
 * A fake NodeContext for runner tests. Everything a runner may touch is explicit: unset services
 * throw a clear error, so a test fails loudly when a runner reaches for something it was not given.
 */
import type {
  DomainEvent,
  Embedding,
  HttpClient,
  Json,
  NodeContext,
  NodeEnvironment,
  Sandbox,
  WaitRequest,
} from '@gridflow/runtime';
import type { PrismaClient } from '@gridflow/db';

export interface FakeContextOptions<C> {
  config: C;
  input?: Json;
  trigger?: Json;
  node?: Partial<NodeContext['node']>;
  execution?: Partial<NodeContext['execution']>;
  step?: Partial<NodeContext['step']>;
  item?: NodeContext['item'];
  resume?: Json;
  signal?: AbortSignal;
  http?: HttpClient;
  sandbox?: Sandbox;
  db?: PrismaClient;
  embed?: (text: string) => Promise<Embedding>;
  env?: Partial<NodeEnvironment>;
  evaluate?: NodeContext['evaluate'];
}

export interface FakeContext<C> extends NodeContext<C> {
  /** Events recorded with `emit`. */
  events: DomainEvent[];
  /** Log lines recorded by `log`. */
  logs: Array<{ level: string; msg: string; data?: Record<string, unknown> }>;
}

function missing(what: string): never {
  throw new Error(`fake ctx: ${what} was not provided to createFakeContext`);
}

function unavailable<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      if (prop === 'then') return undefined; // not a thenable
      return missing(`${what}.${String(prop)}`);
    },
  });
}

export function createFakeContext<C>(options: FakeContextOptions<C>): FakeContext<C> {
  const events: DomainEvent[] = [];
  const logs: FakeContext<C>['logs'] = [];
  const log =
    (level: string) =>
    (msg: string, data?: Record<string, unknown>): void => {
      logs.push(data ? { level, msg, data } : { level, msg });
    };
  const executionId = options.execution?.id ?? 'exec-test';
  const nodeId = options.node?.id ?? 'node-test';
  const itemIndex = options.step?.itemIndex ?? null;
  const stepId = options.step?.id ?? `${executionId}:${nodeId}:${itemIndex ?? -1}`;
  return {
    config: options.config,
    input: options.input ?? null,
    trigger: options.trigger ?? null,
    node: {
      id: nodeId,
      name: options.node?.name ?? 'Test node',
      type: options.node?.type ?? 'test',
    },
    execution: {
      id: executionId,
      gridId: options.execution?.gridId ?? 'grid-test',
      workspaceId: options.execution?.workspaceId ?? 'ws-test',
      mode: options.execution?.mode ?? 'production',
    },
    step: {
      id: stepId,
      attempt: options.step?.attempt ?? 1,
      itemIndex,
      idempotencyKey: options.step?.idempotencyKey ?? `gf-${stepId}`,
    },
    ...(options.item ? { item: options.item } : {}),
    ...(options.resume !== undefined ? { resume: options.resume } : {}),
    signal: options.signal ?? new AbortController().signal,
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    http: options.http ?? unavailable<HttpClient>('http'),
    sandbox: options.sandbox ?? unavailable<Sandbox>('sandbox'),
    db: options.db ?? unavailable<PrismaClient>('db'),
    // Reversible and visibly not plaintext; real encryption is tested in @gridflow/db.
    encrypt: (plaintext) => `fake-enc:${Buffer.from(plaintext, 'utf8').toString('base64')}`,
    decrypt: (ciphertext) => {
      if (!ciphertext.startsWith('fake-enc:'))
        throw new Error('fake ctx: not a fake-encrypted value');
      return Buffer.from(ciphertext.slice('fake-enc:'.length), 'base64').toString('utf8');
    },
    embed: options.embed ?? (() => missing('embed')),
    env: { platformBaseUrls: {}, publicUrl: 'http://localhost:3000', ...options.env },
    emit: (event) => {
      events.push(event);
    },
    wait: (request: WaitRequest) => ({ kind: 'wait', wait: request }),
    evaluate: options.evaluate ?? (() => missing('evaluate')),
    events,
    logs,
  };
}
