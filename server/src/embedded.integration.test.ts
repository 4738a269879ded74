/** Smoke suite on embedded PGlite (the default `npm start` database): the main paths end to end. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { simpleDoc, startTestServer, type TestServer, type TestUser } from './testing/harness.js';

let t: TestServer;
let owner: TestUser;
beforeAll(async () => {
  t = await startTestServer({ kind: 'pglite', engine: true });
  owner = await t.signup('embedded');
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('embedded (PGlite) smoke', () => {
  it('auth, grid save with concurrency, publish, sync webhook, run, executions, audit', async () => {
    expect(t.db.kind).toBe('pglite');
    const g = await owner.agent.post('/api/grids').send({
      name: 'embedded',
      document: simpleDoc({ mode: 'webhook', path: 'emb', responseMode: 'onComplete', responseNodeId: 'code' }, 'return { n2: input.body.n * 2 };'),
    });
    expect(g.status).toBe(201);
    expect((await owner.agent.put(`/api/grids/${g.body.grid.id}`).set('If-Match', '1').send({ name: 'embedded 2' })).status).toBe(200);
    expect((await owner.agent.put(`/api/grids/${g.body.grid.id}`).set('If-Match', '1').send({ name: 'stale' })).status).toBe(409);
    const pub = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({ note: 'v1' });
    expect(pub.status).toBe(201);
    const hook = await supertest(t.url).post(`/hooks/${pub.body.webhooks[0].path}`).send({ n: 21 });
    expect(hook.status).toBe(200);
    expect(hook.body).toEqual({ n2: 42 });
    const dup1 = await supertest(t.url).post(`/hooks/${pub.body.webhooks[0].path}`).set('Idempotency-Key', 'same').send({ n: 1 });
    const dup2 = await supertest(t.url).post(`/hooks/${pub.body.webhooks[0].path}`).set('Idempotency-Key', 'same').send({ n: 1 });
    expect(dup2.body).toEqual({ executionId: dup1.headers['x-gridflow-execution-id'], duplicate: true });
    const run = await owner.agent.post(`/api/grids/${g.body.grid.id}/runs`).send({ input: { body: { n: 5 } } });
    expect(run.status).toBe(202);
    expect((await t.gf.ctx.engine!.waitForCompletion(run.body.executionId, 30_000))?.outputs.code).toEqual({ n2: 10 });
    const list = await owner.agent.get(`/api/executions?gridId=${g.body.grid.id}&status=completed`);
    expect(list.body.items.length).toBe(3);
    const detail = await owner.agent.get(`/api/executions/${run.body.executionId}`);
    expect(detail.body.steps).toHaveLength(2);
    const audit = await owner.agent.get('/api/audit');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['grid.publish', 'grid.run', 'user.signup']));
    const other = await t.signup('embedded-other');
    expect((await other.agent.get(`/api/grids/${g.body.grid.id}`)).status).toBe(404);
    expect((await supertest(t.url).get('/readyz')).status).toBe(200);
  });
});
