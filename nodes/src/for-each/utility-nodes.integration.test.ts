/**
 * The utility node types inside real runs: the runtime's engine (embedded: PGlite + in-process
 * queue, and scaled: PostgreSQL + BullMQ on Redis) with the registry's real types, the isolated-vm
 * sandbox, the SSRF-safe HTTP client against a local server, and the engine's own timer ending the
 * delay.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import { createEngine, type EngineInternals } from '@gridflow/runtime/engine-impl';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { createHttpClient } from '@gridflow/runtime/http-client';
import { gridDocumentSchema, type GridDocumentInput } from '@gridflow/runtime/document';
import { validateGrid, type ValidationRegistry } from '@gridflow/runtime/validate';
import type { Json } from '@gridflow/runtime/node-type';
import { registry } from '../registry.js';
import {
  listen,
  readRequest,
  sendJson,
  type Listening,
  type RecordedRequest,
} from '../testing/http-util.js';

/**
 * Until the runtime's port check calls `outputsFor(config)`, validate with a view in which the
 * branch type lists the ports of this document's branch nodes (the same adapter as @gridflow/templates).
 */
function registryFor(doc: GridDocumentInput): ValidationRegistry {
  return {
    get(type) {
      const t = registry.get(type);
      if (!t?.outputsFor) return t;
      const ports = new Map(t.outputs.map((p) => [p.name, p]));
      for (const n of doc.nodes) {
        if (n.type !== type) continue;
        const parsed = t.configSchema.safeParse(n.config);
        if (parsed.success)
          for (const p of t.outputsFor(parsed.data as never)) ports.set(p.name, p);
      }
      return { ...t, outputs: [...ports.values()] };
    },
  };
}

const modes = [
  { name: 'embedded (PGlite)', kind: 'pglite' as const, redisUrl: undefined },
  {
    name: 'scaled (PostgreSQL + Redis)',
    kind: 'postgres' as const,
    redisUrl: 'redis://127.0.0.1:6379',
  },
];

const node = (id: string, type: string, config: Record<string, unknown>, x = 0) => ({
  id,
  type,
  typeVersion: 1,
  name: id,
  position: { x, y: 0 },
  config,
});
const edge = (
  source: string,
  sourceHandle: string,
  target: string,
  targetHandle = 'in',
  kind: 'default' | 'error' = 'default',
) => ({
  id: `${source}-${sourceHandle}-${target}`,
  source,
  sourceHandle,
  target,
  targetHandle,
  kind,
});

describe.each(modes)('utility nodes in a real run: $name', ({ kind, redisUrl }) => {
  let db: Database;
  let engine: EngineInternals;
  let server: Listening;
  const received: RecordedRequest[] = [];
  const sandbox = createSandbox({ poolSize: 2 });
  let ids: { workspaceId: string; gridId: string };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const ws = await db.prisma.workspace.create({
      data: { name: 'Utility', slug: `utility-${randomBytes(4).toString('hex')}` },
    });
    const grid = await db.prisma.grid.create({
      data: { workspaceId: ws.id, name: 'Utility grid', document: {} },
    });
    ids = { workspaceId: ws.id, gridId: grid.id };
    server = await listen(async (req, res) => {
      const r = await readRequest(req);
      received.push(r);
      if (r.path === '/flaky' && received.filter((x) => x.path === '/flaky').length === 1) {
        return sendJson(res, 503, { error: 'try later' }, { 'retry-after': '0' });
      }
      sendJson(res, 200, { ok: true, got: r.body, auth: r.headers.authorization ?? null });
    });
    engine = createEngine({
      db,
      registry,
      ...(redisUrl ? { redisUrl } : {}),
      queuePrefix: `gft-utility-${randomBytes(4).toString('hex')}`,
      workers: 4,
      services: {
        sandbox,
        http: (signal) => createHttpClient({ signal, allowPrivateNetwork: true }),
        embed: async () => {
          throw new Error('not used');
        },
        encrypt: (s) => `fake-enc:${Buffer.from(s).toString('base64')}`,
        decrypt: (s) => Buffer.from(s.replace(/^fake-enc:/, ''), 'base64').toString('utf8'),
        env: { platformBaseUrls: {}, publicUrl: 'http://localhost:3000' },
      },
      leaseMs: 10_000,
      sweepIntervalMs: 250,
      staleMs: 5000,
    });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await Promise.all([db?.close(), server?.close()]);
    sandbox.dispose();
  });

  async function run(doc: GridDocumentInput, trigger: Json, timeoutMs = 60_000) {
    const check = validateGrid(doc, registryFor(doc));
    expect(check.errors).toEqual([]);
    const document = gridDocumentSchema.parse(doc);
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document,
      triggerType: 'manual',
      triggerData: trigger,
    });
    const summary = await engine.waitForCompletion(executionId, timeoutMs);
    if (!summary) throw new Error('run did not finish');
    return summary;
  }

  it('trigger → transform → branch → for-each(code → http) → delay (engine timer) → transform', async () => {
    const before = received.length;
    const doc: GridDocumentInput = {
      schemaVersion: 1,
      nodes: [
        node('start', 'trigger', {
          mode: 'manual',
          fields: [
            { name: 'campaign', type: 'string', required: true },
            { name: 'limit', type: 'number', default: 2 },
          ],
        }),
        node(
          'shape',
          'transform',
          {
            operations: [
              {
                op: 'set',
                path: 'posts',
                value: [
                  { title: 'One', likes: 3 },
                  { title: 'Two', likes: 40 },
                  { title: 'Three', likes: 12 },
                ],
              },
              {
                op: 'map',
                path: 'posts',
                expression:
                  '{{ { title: item.title.toUpperCase(), likes: item.likes, rank: index + 1 } }}',
              },
              { op: 'rename', from: 'campaign', to: 'meta.campaign' },
            ],
          },
          200,
        ),
        node(
          'route',
          'branch',
          {
            routes: [
              {
                port: 'many',
                label: 'more than limit',
                expression: 'input.posts.length > nodes.start.output.limit',
              },
              { port: 'few', conditions: [{ field: 'input.posts', operator: 'isNotEmpty' }] },
            ],
          },
          400,
        ),
        node('each', 'for-each', { items: '{{ input.posts }}', concurrency: 2 }, 600),
        node(
          'score',
          'code',
          {
            code: 'return { ...item, hot: item.likes >= 10, campaign: nodes.shape.output.meta.campaign };',
          },
          800,
        ),
        node(
          'send',
          'http',
          {
            method: 'POST',
            url: `${server.url}/posts`,
            auth: { type: 'bearer', token: `fake-enc:${Buffer.from('tok-9').toString('base64')}` },
            body: {
              type: 'json',
              json: { title: '{{ input.title }}', hot: '{{ input.hot }}', at: '{{ itemIndex }}' },
            },
          },
          1000,
        ),
        node(
          'pause',
          'delay',
          { mode: 'until', until: '{{ new Date(Date.now() + 1200).toISOString() }}' },
          800,
        ),
        node(
          'report',
          'transform',
          {
            operations: [{ op: 'map', path: '', expression: '{{ item.body.got.title }}' }],
          },
          1000,
        ),
        node(
          'fewPath',
          'transform',
          { operations: [{ op: 'set', path: 'path', value: 'few' }] },
          600,
        ),
      ],
      edges: [
        edge('start', 'out', 'shape'),
        edge('shape', 'out', 'route'),
        edge('route', 'many', 'each'),
        edge('route', 'few', 'fewPath'),
        edge('each', 'item', 'score'),
        edge('score', 'out', 'send'),
        edge('each', 'done', 'pause'),
        edge('pause', 'out', 'report'),
      ],
    };
    const started = Date.now();
    const summary = await run(doc, { campaign: 'winter' });
    expect(summary.error).toBeUndefined();
    expect(summary.status).toBe('completed');
    // The branch took the first matching route only.
    expect(summary.outputs.fewPath).toBeUndefined();
    // For-each: three items, in order, each through code and http.
    expect(summary.outputs.each).toMatchObject({
      items: [
        { title: 'ONE', rank: 1 },
        { title: 'TWO', rank: 2 },
        { title: 'THREE', rank: 3 },
      ],
    });
    const sent = received.slice(before).filter((r) => r.path === '/posts');
    expect(sent).toHaveLength(3);
    expect(sent.map((r) => r.headers.authorization)).toEqual([
      'Bearer tok-9',
      'Bearer tok-9',
      'Bearer tok-9',
    ]);
    expect(
      sent.map((r) => r.body).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      { title: 'ONE', hot: false, at: 0 },
      { title: 'THREE', hot: true, at: 2 },
      { title: 'TWO', hot: true, at: 1 },
    ]);
    // Delay: suspended, then resumed by the engine's own timer, input passed through.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(summary.outputs.report).toEqual(['ONE', 'TWO', 'THREE']);
  });

  it('a UserError from a utility node fails the step with the field, and an error edge handles it', async () => {
    const doc: GridDocumentInput = {
      schemaVersion: 1,
      nodes: [
        node('start', 'trigger', { mode: 'manual' }),
        node('each', 'for-each', { items: '{{ trigger.notAList }}' }, 200),
        node('body', 'transform', {}, 400),
        node(
          'handled',
          'code',
          { code: 'return { caught: input.error.message, field: input.error.field };' },
          400,
        ),
      ],
      edges: [
        edge('start', 'out', 'each'),
        edge('each', 'item', 'body'),
        edge('each', 'error', 'handled', 'in', 'error'),
      ],
    };
    const summary = await run(doc, { notAList: 'text' });
    expect(summary.status).toBe('completed');
    expect(summary.outputs.handled).toEqual({
      caught: expect.stringMatching(
        /For each: "items" must resolve to a list, but it resolved to text/,
      ),
      field: 'config.items',
    });
  });

  it('http: a 503 is retried by the engine (RetryAfterError) and then succeeds', async () => {
    const doc: GridDocumentInput = {
      schemaVersion: 1,
      nodes: [
        node('start', 'trigger', { mode: 'manual' }),
        node('call', 'http', { url: `${server.url}/flaky` }, 200),
      ],
      edges: [edge('start', 'out', 'call')],
      settings: { retry: { maxAttempts: 3, backoffMs: 10, maxDelayMs: 100 } },
    };
    const summary = await run(doc, {});
    expect(summary.status).toBe('completed');
    expect(summary.outputs.call).toMatchObject({ status: 200, body: { ok: true } });
    const attempts = await db.sql.query<{ attempt: number }>(
      `SELECT attempt FROM execution_steps WHERE node_id = 'call' ORDER BY attempt DESC LIMIT 1`,
    );
    expect(attempts.rows[0]?.attempt).toBeGreaterThanOrEqual(2);
  });

  it('code: endless code ends as a user error at its time limit, not a crashed worker', async () => {
    const doc: GridDocumentInput = {
      schemaVersion: 1,
      nodes: [
        node('start', 'trigger', { mode: 'manual' }),
        node('spin', 'code', { code: 'for (;;) {}', timeoutMs: 300 }, 200),
      ],
      edges: [edge('start', 'out', 'spin')],
    };
    const summary = await run(doc, {});
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ kind: 'user', code: 'CODE_TIMEOUT' });
    // The engine still runs the next grid.
    const next = await run(
      { ...doc, nodes: [doc.nodes[0]!, node('spin', 'code', { code: 'return 42' }, 200)] },
      {},
    );
    expect(next.outputs.spin).toBe(42);
  });
});
