/**
 * Scaled mode: an API-only server (no step workers) and a separate worker engine sharing
 * PostgreSQL and Redis (BullMQ queue + Redis event bus), like `npm start` + `npm run worker`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import type { Socket } from 'socket.io-client';
import type { RuntimeEvent, Engine } from '@gridflow/runtime';
import { registry } from '@gridflow/nodes';
import { openSocket, simpleDoc, startTestServer, type TestServer, type TestUser } from './testing/harness.js';
import { signedHeaders } from './webhooks/signature.js';
import { createGridflowEngine, createServices, type Services } from './runtime-wiring.js';
import { createLogger } from './ops/logger.js';

const REDIS = 'redis://127.0.0.1:6379';
const prefix = `gft-scaled-${process.pid}-${Date.now()}`;
let t: TestServer;
let owner: TestUser;
let worker: Engine & { stop(): Promise<void> };
let services: Services;
let socket: Socket | undefined;

beforeAll(async () => {
  t = await startTestServer({ engine: true, workers: 0, redisUrl: REDIS, queuePrefix: prefix });
  services = createServices({ httpAllowPrivate: true, platformUrls: {}, publicUrl: 'http://localhost', openaiApiKey: undefined, openaiBaseUrl: undefined }, t.gf.ctx.crypto);
  worker = createGridflowEngine({ db: t.db, registry, services, workers: 4, redisUrl: REDIS, queuePrefix: prefix, log: createLogger('silent') });
  await worker.start();
  owner = await t.signup('scaled');
}, 180_000);
afterAll(async () => {
  socket?.disconnect();
  await worker?.stop();
  services?.sandbox.dispose();
  await t?.close();
});

describe('scaled mode (PostgreSQL + Redis, steps in another engine)', () => {
  it('readyz checks Redis; a sync webhook and the live stream work through the queue and the Redis bus', async () => {
    const ready = await supertest(t.url).get('/readyz');
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok' });

    const g = await owner.agent.post('/api/grids').send({
      name: 'scaled',
      document: simpleDoc({ mode: 'webhook', path: 'scaled', responseMode: 'onComplete', responseNodeId: 'code' }, 'return { n2: input.body.n * 2 };'),
    });
    const pub = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
    const hook = await supertest(t.url).post(`/hooks/${pub.body.webhooks[0].path}`).send({ n: 21 });
    expect(hook.status).toBe(200);
    expect(hook.body).toEqual({ n2: 42 });

    const key = (await owner.agent.post('/api/api-keys').send({ name: 's', scopes: ['read'] })).body.key;
    socket = await openSocket(t.url, { token: key });
    const events: RuntimeEvent[] = [];
    socket.on('event', (e: RuntimeEvent) => events.push(e));
    const run = await owner.agent.post(`/api/grids/${g.body.grid.id}/runs`).send({ input: { body: { n: 2 } } });
    const ack = (await socket.timeout(10_000).emitWithAck('subscribe', { executionId: run.body.executionId })) as { ok: boolean; snapshot: { seq: number } };
    expect(ack.ok).toBe(true);
    const done = await t.gf.ctx.engine!.waitForCompletion(run.body.executionId, 20_000);
    expect(done?.outputs.code).toEqual({ n2: 4 });
    await new Promise((r) => setTimeout(r, 300));
    const final = await t.db.prisma.execution.findUniqueOrThrow({ where: { id: run.body.executionId } });
    const last = events[events.length - 1];
    expect(last ? last.seq : ack.snapshot.seq).toBe(final.eventSeq);
    if (last) expect(last).toMatchObject({ type: 'run', status: 'completed' });
  });

  it('an editor showing a grid live on one API server sees the runs another server ran while they started', async () => {
    // Sync webhook runs end within their first statement; their events go through Redis only while
    // some process watches the grid (the socket's subscribe tells the engine).
    const other = await startTestServer({ db: t.db, engine: true, workers: 0, redisUrl: REDIS, queuePrefix: prefix, deps: { crypto: t.gf.ctx.crypto } });
    let s: Socket | undefined;
    try {
      const g = await owner.agent.post('/api/grids').send({
        name: 'watched',
        document: simpleDoc({ mode: 'webhook', path: 'watched-scaled', responseMode: 'onComplete', responseNodeId: 'code' }, 'return { n2: input.body.n * 2 };'),
      });
      const pub = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
      const path = pub.body.webhooks[0].path as string;
      // Past the other server's start-up period (it publishes everything until it has heard every
      // watcher's repeat: 6 s).
      await new Promise((r) => setTimeout(r, 6_500));
      const key = (await owner.agent.post('/api/api-keys').send({ name: 'w', scopes: ['read'] })).body.key;
      s = await openSocket(t.url, { token: key });
      const seen: RuntimeEvent[] = [];
      s.on('grid-event', (e: RuntimeEvent) => seen.push(e));
      const unseen = await supertest(other.url).post(`/hooks/${path}`).send({ n: 1 });
      expect(unseen.body).toEqual({ n2: 2 });
      expect((await s.timeout(10_000).emitWithAck('subscribe', { gridId: g.body.grid.id })).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // the other server hears of the watch
      const hook = await supertest(other.url).post(`/hooks/${path}`).send({ n: 21 });
      expect(hook.body).toEqual({ n2: 42 });
      const id = hook.headers['x-gridflow-execution-id'] as string;
      const end = Date.now() + 10_000;
      while (Date.now() < end && !seen.some((e) => e.executionId === id && e.type === 'run' && e.status === 'completed'))
        await new Promise((r) => setTimeout(r, 25));
      expect(seen.filter((e) => e.executionId === id).map((e) => `${e.type}:${'nodeId' in e ? e.nodeId : ''}:${e.status}`)).toEqual(
        expect.arrayContaining(['run::running', 'step:code:completed', 'run::completed']),
      );
      // The run from before the watch was not sent to this server (nobody watched its grid then).
      expect(seen.some((e) => e.executionId === unseen.headers['x-gridflow-execution-id'])).toBe(false);
    } finally {
      s?.disconnect();
      await other.close();
    }
  });

  it('a signed webhook replayed to another API server process is refused (signatures shared through Redis)', async () => {
    const other = await startTestServer({ db: t.db, engine: true, workers: 0, redisUrl: REDIS, queuePrefix: prefix, deps: { crypto: t.gf.ctx.crypto } });
    try {
      const g = await owner.agent.post('/api/grids').send({ name: 'signed', document: simpleDoc({ mode: 'webhook', path: 'signed-scaled', auth: 'hmac' }) });
      const pub = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
      const { path, secret } = pub.body.webhooks[0] as { path: string; secret: string };
      const body = JSON.stringify({ n: 1 });
      const headers = signedHeaders(secret, body);
      const first = await supertest(t.url).post(`/hooks/${path}`).set('Content-Type', 'application/json').set(headers).send(body);
      expect(first.status).toBe(202);
      const replay = await supertest(other.url).post(`/hooks/${path}`).set('Content-Type', 'application/json').set(headers).send(body);
      expect(replay.status).toBe(401);
      expect(replay.body.error.details[0].message).toBe('replayed');
      // A new signature goes through on either server.
      const fresh = await supertest(other.url).post(`/hooks/${path}`).set('Content-Type', 'application/json').set(signedHeaders(secret, body, Date.now() + 1000)).send(body);
      expect(fresh.status).toBe(202);
      expect(await t.db.prisma.execution.count({ where: { gridId: g.body.grid.id } })).toBe(2);
    } finally {
      await other.close();
    }
  });
});
