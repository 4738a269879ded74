import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';
import { sign, signedHeaders } from './signature.js';

let t: TestServer;
let owner: TestUser;
let hooks: ReturnType<typeof supertest>;

beforeAll(async () => {
  t = await startTestServer({ engine: true, options: { hookBodyLimit: '2kb', hookRateLimit: { windowMs: 60_000, max: 1000 } } });
  owner = await t.signup('hooks');
  hooks = supertest(t.url);
});
afterAll(async () => {
  await t?.close();
});

async function publish(trigger: Record<string, unknown>, code?: string) {
  const g = await owner.agent.post('/api/grids').send({ name: 'hook grid', document: simpleDoc({ mode: 'webhook', ...trigger }, code) });
  const p = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  return { gridId: g.body.grid.id as string, path: `/hooks/${p.body.webhooks[0].path}`, secret: p.body.webhooks[0].secret as string | undefined };
}

const runs = async (gridId: string) => t.db.prisma.execution.count({ where: { gridId } });

describe('webhooks in', () => {
  it('sync mode: waits for the run and answers with the chosen node’s output (W1 shape)', async () => {
    const h = await publish(
      { path: 'sync', responseMode: 'onComplete', responseNodeId: 'code' },
      'const b = input.body; return { n2: b.n * 2, len: b.text.length, upper: b.text.toUpperCase() };',
    );
    const r = await hooks.post(h.path).send({ n: 21, text: 'hello' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ n2: 42, len: 5, upper: 'HELLO' });
    expect(r.headers['x-gridflow-execution-id']).toBeTruthy();
    // also under /api/hooks
    expect((await hooks.post(h.path.replace('/hooks/', '/api/hooks/')).send({ n: 1, text: 'a' })).body).toEqual({ n2: 2, len: 1, upper: 'A' });
  });

  it('sync mode: a run slower than the timeout gives 504 with the execution id', async () => {
    const g = await owner.agent.post('/api/grids').send({
      name: 'slow',
      document: {
        ...simpleDoc({ mode: 'webhook', path: 'slow', responseMode: 'onComplete', responseNodeId: 'code', responseTimeoutMs: 1000 }),
        nodes: [
          { id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: { x: 0, y: 0 }, config: { mode: 'webhook', path: 'slow', responseMode: 'onComplete', responseNodeId: 'code', responseTimeoutMs: 1000 } },
          { id: 'code', type: 'delay', typeVersion: 1, name: 'Wait', position: { x: 200, y: 0 }, config: { mode: 'duration', amount: 1, unit: 'hours' } },
        ],
      },
    });
    expect((await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({})).status).toBe(201);
    const r = await hooks.post(`/hooks/${owner.workspace.slug}/slow`).send({});
    expect(r.status).toBe(504);
    expect(r.body.error.executionId).toEqual(expect.any(String));
  });

  it('immediate mode answers 202 with the execution id; unknown or unpublished paths are 404', async () => {
    const h = await publish({ path: 'async' });
    const r = await hooks.post(h.path).send({ n: 2 });
    expect(r.status).toBe(202);
    const done = await t.gf.ctx.engine!.waitForCompletion(r.body.executionId, 10_000);
    expect(done?.outputs.trigger).toMatchObject({ body: { n: 2 }, method: 'POST' });
    expect((await hooks.post(`/hooks/${owner.workspace.slug}/nope`).send({})).status).toBe(404);
    const draftOnly = await owner.agent.post('/api/grids').send({ name: 'draft', document: simpleDoc({ mode: 'webhook', path: 'draft-only' }) });
    expect(draftOnly.status).toBe(201);
    expect((await hooks.post(`/hooks/${owner.workspace.slug}/draft-only`).send({})).status).toBe(404);
    // deleting the grid stops its webhook at once (cache invalidated)
    await owner.agent.delete(`/api/grids/${h.gridId}`);
    expect((await hooks.post(h.path).send({})).status).toBe(404);
  });

  it('signed webhooks: valid signature runs; bad, missing, stale and replayed signatures are 401 and start nothing', async () => {
    const h = await publish({ path: 'signed', auth: 'hmac' });
    const body = JSON.stringify({ a: 1 });
    const ok = await hooks.post(h.path).set('Content-Type', 'application/json').set(signedHeaders(h.secret!, body)).send(body);
    expect(ok.status).toBe(202);
    const before = await runs(h.gridId);
    // replay of the very same request
    const replay = await hooks.post(h.path).set('Content-Type', 'application/json').set(signedHeaders(h.secret!, body, Number(ok.request.getHeader('x-gridflow-timestamp')) * 1000)).send(body);
    expect(replay.status).toBe(401);
    expect(replay.body.error.details[0].message).toBe('replayed');
    const wrong = await hooks.post(h.path).set('Content-Type', 'application/json').set(signedHeaders('not-the-secret', body)).send(body);
    expect(wrong.status).toBe(401);
    const missing = await hooks.post(h.path).send({ a: 1 });
    expect(missing.status).toBe(401);
    const oldTs = Math.floor(Date.now() / 1000) - 600;
    const stale = await hooks
      .post(h.path)
      .set('Content-Type', 'application/json')
      .set({ 'X-Gridflow-Timestamp': String(oldTs), 'X-Gridflow-Signature': sign(h.secret!, oldTs, body) })
      .send(body);
    expect(stale.status).toBe(401);
    expect(stale.body.error.details[0].path).toBe('header.x-gridflow-timestamp');
    const tampered = await hooks.post(h.path).set('Content-Type', 'application/json').set(signedHeaders(h.secret!, body)).send(JSON.stringify({ a: 2 }));
    expect(tampered.status).toBe(401);
    expect(await runs(h.gridId)).toBe(before);
  });

  it('idempotency: a repeated Idempotency-Key (or configured body field) returns the first run and starts nothing', async () => {
    const h = await publish({ path: 'idem', idempotencyField: 'article.id' });
    const first = await hooks.post(h.path).set('Idempotency-Key', 'k-1').send({ x: 1 });
    expect(first.status).toBe(202);
    const again = await hooks.post(h.path).set('Idempotency-Key', 'k-1').send({ x: 2 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ executionId: first.body.executionId, duplicate: true });
    const byField1 = await hooks.post(h.path).send({ article: { id: 77 } });
    const byField2 = await hooks.post(h.path).send({ article: { id: 77 } });
    expect(byField2.body.executionId).toBe(byField1.body.executionId);
    // concurrent duplicates start one run
    const burst = await Promise.all(Array.from({ length: 5 }, () => hooks.post(h.path).set('Idempotency-Key', 'k-burst').send({})));
    expect(new Set(burst.map((r) => r.body.executionId)).size).toBe(1);
    expect(await runs(h.gridId)).toBe(3);
  });

  it('413 for an oversized body, 415 for a non-JSON body, 400 for broken JSON, 405 for the wrong method; none starts a run', async () => {
    const h = await publish({ path: 'limits' });
    expect((await hooks.post(h.path).send({ big: 'x'.repeat(4096) })).status).toBe(413);
    const u415 = await hooks.post(h.path).set('Content-Type', 'text/plain').send('hello');
    expect(u415.status).toBe(415);
    const bad = await hooks.post(h.path).set('Content-Type', 'application/json').send('{"a":');
    expect(bad.status).toBe(400);
    expect((await hooks.put(h.path).send({})).status).toBe(405);
    expect(await runs(h.gridId)).toBe(0);
    const m = await hooks.get('/metrics');
    expect(m.text).toMatch(/gridflow_webhook_requests_total\{status="413"\} \d/);
  });
});

describe('webhook rate limit', () => {
  it('answers 429 past the per-trigger limit', async () => {
    const t2 = await startTestServer({ engine: true, options: { hookRateLimit: { windowMs: 60_000, max: 3 } } });
    try {
      const u = await t2.signup('rl');
      const g = await u.agent.post('/api/grids').send({ name: 'rl', document: simpleDoc({ mode: 'webhook', path: 'rl' }) });
      const p = await u.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await supertest(t2.url).post(`/hooks/${p.body.webhooks[0].path}`).send({})).status);
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
    } finally {
      await t2.close();
    }
  });
});
