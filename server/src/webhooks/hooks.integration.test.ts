import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import supertest from 'supertest';
import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
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

/** A POST through node:http, `chunks` written one by one (chunked unless `headers` give a Content-Length). */
function rawPost(base: string, path: string, chunks: Array<string | Buffer>, headers: Record<string, string | number> = {}) {
  const { hostname, port } = new URL(base);
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: { error?: { code: string; message: string } } & Record<string, unknown> }>((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: 'POST', headers }, (res) => {
      const got: Buffer[] = [];
      res.on('data', (c: Buffer) => got.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(got).toString() || 'null') }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** express-rate-limit's draft-8 partition key of a rate-limit key. */
const partitionKey = (key: string) => Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');

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

describe('webhooks in: what the Express path did, kept without Express', () => {
  it('answers carry the rate-limit headers (express-rate-limit, draft-8), nosniff and the JSON type; no ETag', async () => {
    const h = await publish({ path: 'headers' });
    const pk = partitionKey(`${owner.workspace.slug}/headers`);
    const first = await hooks.post(h.path).send({});
    expect(first.status).toBe(202);
    expect(first.headers).toMatchObject({
      ratelimit: '"1000-in-1min"; r=999; t=60',
      'ratelimit-policy': `"1000-in-1min"; q=1000; w=60; pk=:${pk}:`,
      'x-content-type-options': 'nosniff',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(JSON.stringify(first.body))),
    });
    expect(first.headers.etag).toBeUndefined();
    expect(first.headers['retry-after']).toBeUndefined();
    // /api/hooks/ counts against the same key; errors carry the headers too
    const viaApi = await hooks.put(h.path.replace('/hooks/', '/api/hooks/')).send({});
    expect(viaApi.status).toBe(405);
    expect(viaApi.headers.allow).toBe('POST');
    expect(viaApi.headers.ratelimit).toMatch(/^"1000-in-1min"; r=998; t=(59|60)$/);
    expect(viaApi.body.error.message).toBe('This webhook accepts POST');
  });

  it('paths match as Express matched them, the query reaches the run; other paths under /hooks get the app’s 404', async () => {
    const h = await publish({ path: 'paths', responseMode: 'onComplete', responseNodeId: 'code' }, 'return { query: input.query, method: input.method };');
    const ws = owner.workspace.slug;
    for (const path of [`${h.path}/`, h.path.replace('/hooks/', '/HOOKS/'), `/Api/Hooks/${ws}/paths`, `/hooks/${ws}/path%73`]) {
      const r = await hooks.post(path).send({});
      expect(r.status, path).toBe(200);
      expect(r.body).toEqual({ query: {}, method: 'POST' });
    }
    const q = await hooks.post(`${h.path}?x=1&x=2&y=a+b&z=%E2%82%AC&e&a[b]=c`).send({});
    expect(q.body.query).toEqual({ x: ['1', '2'], y: 'a b', z: '€', e: '', 'a[b]': 'c' });
    const badQuery = await hooks.post(`${h.path}?a=%00`).send({});
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.details[0].path).toBe('query.a');
    // not a webhook path: Express's 404 (with helmet's headers)
    for (const path of [`${h.path}//`, `${h.path}/x`, `/hooks/${ws}`, '/hooks', `/hooks//${ws}/paths`]) {
      const r = await hooks.post(path).send({});
      expect(r.status, path).toBe(404);
      expect(r.body.error.message).toBe(`No route for POST ${path}`);
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    }
    // a webhook path with no webhook on it
    for (const path of [`/hooks/${ws}/paths%2F`, '/hooks/%E2%82%AC/p', '/hooks/a%00/b']) {
      const r = await hooks.post(path).send({});
      expect(r.status, path).toBe(404);
      expect(r.body.error.message).toBe('No published grid listens on this webhook path');
    }
    // a malformed escape is the caller's mistake (Express answered 500)
    const malformed = await hooks.post('/hooks/%E2/p').send({});
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('BAD_REQUEST');
  });

  it('413 decided by Content-Length, and as a chunked body grows past the limit; the size is checked before the path', async () => {
    const h = await publish({ path: 'sizes' });
    const big = JSON.stringify({ big: 'x'.repeat(3000) });
    const byLength = await rawPost(t.url, h.path, [big], { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(big) });
    expect(byLength.status).toBe(413);
    expect(byLength.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large', details: [] } });
    expect(byLength.headers.ratelimit).toBeTruthy();
    const chunked = await rawPost(t.url, h.path, ['{"big":"', 'x'.repeat(1500), 'x'.repeat(1500), '"}'], { 'Content-Type': 'application/json' });
    expect(chunked.status).toBe(413);
    const small = await rawPost(t.url, h.path, ['{"n":', '1}'], { 'Content-Type': 'application/json' });
    expect(small.status).toBe(202);
    const done = await t.gf.ctx.engine!.waitForCompletion(small.body.executionId as string, 10_000);
    expect(done?.outputs.trigger).toMatchObject({ body: { n: 1 } });
    expect((await rawPost(t.url, `/hooks/${owner.workspace.slug}/nope`, [big], { 'Content-Type': 'application/json' })).status).toBe(413);
    expect(await runs(h.gridId)).toBe(1);
  });

  it('gzip, deflate and br bodies are inflated (the limit applies inflated); other encodings are 415, a corrupt body 400', async () => {
    const h = await publish({ path: 'encoded', responseMode: 'onComplete', responseNodeId: 'code' }, 'return input.body;');
    const body = JSON.stringify({ n: 7 });
    for (const [encoding, data] of [
      ['gzip', zlib.gzipSync(body)],
      ['Deflate', zlib.deflateSync(body)],
      ['br', zlib.brotliCompressSync(body)],
    ] as const) {
      const r = await rawPost(t.url, h.path, [data], { 'Content-Type': 'application/json', 'Content-Encoding': encoding });
      expect(r.status, encoding).toBe(200);
      expect(r.body).toEqual({ n: 7 });
    }
    const bomb = zlib.gzipSync(JSON.stringify({ big: 'x'.repeat(100_000) }));
    expect((await rawPost(t.url, h.path, [bomb], { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })).status).toBe(413);
    const unknown = await rawPost(t.url, h.path, [body], { 'Content-Type': 'application/json', 'Content-Encoding': 'foo' });
    expect(unknown.status).toBe(415);
    expect(unknown.body.error?.message).toBe('unsupported content encoding "foo"');
    const corrupt = await rawPost(t.url, h.path, ['not gzip'], { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.error?.code).toBe('BAD_REQUEST');
  });

  it('an unexpected error is a logged 500 in the error shape; a client leaving mid-body starts nothing; the server goes on', async () => {
    const h = await publish({ path: 'trouble' });
    const engine = t.gf.ctx.engine!;
    const startRun = engine.startRun;
    const logged = vi.spyOn(t.gf.ctx.log, 'error');
    engine.startRun = async () => {
      throw new Error('boom');
    };
    try {
      const r = await hooks.post(h.path).send({});
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error', details: [] } });
      expect(r.headers.ratelimit).toBeTruthy();
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ message: 'boom' }) }), 'unhandled error');
    } finally {
      engine.startRun = startRun;
      logged.mockRestore();
    }
    const { hostname, port } = new URL(t.url);
    for (const encoding of ['identity', 'gzip']) {
      await new Promise<void>((resolve) => {
        const s = net.connect(Number(port), hostname, () => {
          s.write(`POST ${h.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: ${encoding}\r\nContent-Length: 1000\r\n\r\n`);
          s.write(encoding === 'gzip' ? zlib.gzipSync('{"a":1}').subarray(0, 10) : '{"a":');
          setTimeout(() => s.destroy(), 50);
        });
        s.on('close', () => resolve());
      });
    }
    expect((await hooks.post(h.path).send({})).status).toBe(202);
    expect(await runs(h.gridId)).toBe(1);
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

  it('429 carries Retry-After and the RateLimit headers; allowed origins get CORS headers, their preflight a 204 that is not counted', async () => {
    const t2 = await startTestServer({ engine: true, options: { hookRateLimit: { windowMs: 1500, max: 2 }, corsOrigins: ['http://app.example'] } });
    try {
      const u = await t2.signup('rl2');
      const g = await u.agent.post('/api/grids').send({ name: 'rl', document: simpleDoc({ mode: 'webhook', path: 'rl' }) });
      const path = `/hooks/${(await u.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({})).body.webhooks[0].path}`;
      const client = supertest(t2.url);
      const preflight = await client.options(path).set('Origin', 'http://app.example').set('Access-Control-Request-Method', 'POST');
      expect(preflight.status).toBe(204);
      expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': 'http://app.example', 'access-control-allow-credentials': 'true', vary: 'Origin' });
      expect(preflight.headers.ratelimit).toBeUndefined();
      // another origin's OPTIONS is a call like any other: 405, counted
      const foreign = await client.options(path).set('Origin', 'http://evil.example');
      expect(foreign.status).toBe(405);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      const allowed = await client.post(path).set('Origin', 'http://app.example').send({});
      expect(allowed.status).toBe(202);
      expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': 'http://app.example', vary: 'Origin', ratelimit: '"2-in-1.5sec"; r=0; t=2' });
      const limited = await client.post(path).send({});
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'Too many calls to this webhook; slow down', details: [] } });
      expect(limited.headers).toMatchObject({
        'retry-after': expect.stringMatching(/^[12]$/),
        ratelimit: expect.stringMatching(/^"2-in-1.5sec"; r=0; t=[12]$/),
        'ratelimit-policy': `"2-in-1.5sec"; q=2; w=2; pk=:${partitionKey(path.slice('/hooks/'.length))}:`,
      });
      const metrics = (await client.get('/metrics')).text;
      expect(metrics).toMatch(/gridflow_webhook_requests_total\{status="429"\} 1\n/);
      expect(metrics).toMatch(/gridflow_webhook_requests_total\{status="405"\} 1\n/);
    } finally {
      await t2.close();
    }
  });
});
