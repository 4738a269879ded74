/** Random JSON bodies, queries and webhook payloads: never a 5xx, every rejection in the error shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import supertest from 'supertest';
import { simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

let t: TestServer;
let owner: TestUser;
let gridId: string;
let hookPath: string;

beforeAll(async () => {
  t = await startTestServer({ engine: true, options: { hookRateLimit: { windowMs: 1000, max: 100_000 } } });
  owner = await t.signup('fuzz');
  const g = await owner.agent.post('/api/grids').send({ name: 'fuzz', document: simpleDoc({ mode: 'webhook', path: 'fuzz', idempotencyField: 'id' }) });
  gridId = g.body.grid.id;
  hookPath = `/hooks/${(await owner.agent.post(`/api/grids/${gridId}/versions`).send({})).body.webhooks[0].path}`;
});
afterAll(async () => {
  await t?.close();
});

const anyJson = fc.jsonValue({ maxDepth: 4 });
const docLike = fc.record(
  {
    schemaVersion: fc.oneof(fc.constant(1), fc.integer()),
    nodes: fc.array(fc.record({ id: fc.string(), type: fc.constantFrom('trigger', 'code', 'http', 'nope'), typeVersion: fc.integer(), name: fc.string(), position: fc.record({ x: fc.double(), y: fc.integer() }), config: fc.dictionary(fc.string(), anyJson) }, { requiredKeys: [] }), { maxLength: 4 }),
    edges: fc.array(fc.record({ id: fc.string(), source: fc.string(), target: fc.string(), kind: fc.string() }, { requiredKeys: [] }), { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

function shapeOk(status: number, body: unknown) {
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    expect(typeof e?.code).toBe('string');
    expect(typeof e?.message).toBe('string');
    expect(Array.isArray(e?.details)).toBe(true);
  }
}

describe('hostile input', () => {
  it('text PostgreSQL cannot store (NUL, lone surrogates) is a 400 naming the field, everywhere', async () => {
    const nul = await owner.agent.post('/api/grids').send({ name: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(nul.body.error.details[0].path).toBe('body.name');
    const doc = simpleDoc();
    doc.nodes[1]!.name = 'x\ud800y';
    const sur = await owner.agent.post('/api/grids').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'ok', document: doc }));
    expect(sur.status).toBe(400);
    expect(sur.body.error.details[0].path).toBe('body.document.nodes[1].name');
    expect((await owner.agent.get('/api/executions?gridId=%00')).body.error.details[0].path).toBe('query.gridId');
    const hook = await supertest(t.url).post(hookPath).set('Content-Type', 'application/json').send('{"text":"\\u0000"}');
    expect(hook.status).toBe(400);
    expect(hook.body.error.details[0].path).toBe('body.text');
    expect((await supertest(t.url).post('/hooks/a%00/b').send({})).status).toBe(404);
  });

  it('API write routes answer 2xx/4xx to random bodies', async () => {
    const routes: Array<[string, string]> = [
      ['post', '/api/grids'],
      ['put', `/api/grids/${gridId}`],
      ['post', '/api/grids/import'],
      ['post', `/api/grids/${gridId}/runs`],
      ['post', '/api/brand-profiles'],
      ['post', '/api/social-accounts'],
      ['post', '/api/event-subscriptions'],
      ['post', '/api/api-keys'],
      ['post', '/api/members'],
      ['post', '/api/approvals/x/decision'],
      ['post', '/api/auth/login'],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.oneof(anyJson, fc.record({ name: fc.string(), document: docLike }), docLike), async ([method, path], body) => {
        const r = await (owner.agent as unknown as Record<string, (p: string) => supertest.Test>)[method]!(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
        shapeOk(r.status, r.body);
      }),
      { numRuns: 150 },
    );
  });

  it('query strings and headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('gridId', 'status', 'cursor', 'limit', 'q', 'mine'), fc.string()), fc.string(), async (query, ifMatch) => {
        const qs = new URLSearchParams(query).toString();
        shapeOk(...(await owner.agent.get(`/api/executions?${qs}`).then((r) => [r.status, r.body] as const)));
        shapeOk(...(await owner.agent.get(`/api/audit?${qs}`).then((r) => [r.status, r.body] as const)));
        shapeOk(...(await owner.agent.get(`/api/approvals?${qs}`).then((r) => [r.status, r.body] as const)));
        const safe = ifMatch.replace(/[^\x20-\x7e]/g, '');
        shapeOk(...(await owner.agent.put(`/api/grids/${gridId}`).set('If-Match', safe).send({ name: 'x' }).then((r) => [r.status, r.body] as const)));
      }),
      { numRuns: 60 },
    );
  });

  it('webhook bodies and headers', async () => {
    const hooks = supertest(t.url);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson.map((j) => JSON.stringify(j)), fc.string()), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), fc.string({ maxLength: 300 }), async (body, type, key) => {
        const k = key.replace(/[^\x20-\x7e]/g, '');
        const req = hooks.post(hookPath).set('Content-Type', type);
        const r = await (k ? req.set('Idempotency-Key', k) : req).send(body);
        shapeOk(r.status, r.body);
      }),
      { numRuns: 120 },
    );
  });
});
