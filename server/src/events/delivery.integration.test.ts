import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { startTestServer, type TestServer, type TestUser } from '../testing/harness.js';
import { createEventSink } from './event-sink.js';
import { DeliveryWorker, isPrivateAddress } from './delivery-worker.js';
import { verifySignature } from '../webhooks/signature.js';
import { createLogger } from '../ops/logger.js';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let t: TestServer;
let owner: TestUser;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let failFirst = 2;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.signup('delivery');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(500).end('boom');
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const addr = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/in`;
});
afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await t?.close();
});

describe('outbound event delivery', () => {
  it('queues a delivery in the step transaction, signs it, retries with backoff after failures, logs each attempt', async () => {
    const sub = await owner.agent.post('/api/event-subscriptions').send({ name: 'r', url: receiverUrl, events: ['execution.failed', 'post.published'] });
    const other = await owner.agent.post('/api/event-subscriptions').send({ name: 'other', url: receiverUrl, events: ['approval.requested'] });
    expect(sub.status).toBe(201);
    const sink = createEventSink({ maxAttempts: 5 });
    const event = { type: 'execution.failed', workspaceId: owner.workspace.id, executionId: 'exec-1', data: { error: { message: 'x' } } };
    // A rolled-back step transaction delivers nothing.
    await t.db.sql
      .transaction(async (tx) => {
        await sink(tx, [event]);
        throw new Error('rollback');
      })
      .catch(() => undefined);
    expect(await t.db.prisma.eventDelivery.count()).toBe(0);
    await t.db.sql.transaction((tx) => sink(tx, [event]));
    // the same event again (step re-delivered) is absorbed by the idempotency key
    await t.db.sql.transaction((tx) => sink(tx, [event]));
    const rows = await t.db.prisma.eventDelivery.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.subscriptionId).toBe(sub.body.subscription.id);
    expect(other.status).toBe(201);

    const worker = new DeliveryWorker(t.db, t.gf.ctx.crypto, createLogger('silent'), { deliveryPollMs: 30, deliveryBaseBackoffMs: 100, deliveryAllowPrivate: true });
    worker.start();
    const deadline = Date.now() + 20_000;
    let d = rows[0]!;
    while (Date.now() < deadline) {
      d = await t.db.prisma.eventDelivery.findUniqueOrThrow({ where: { id: rows[0]!.id } });
      if (d.status !== 'pending') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await worker.stop();
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, responseCode: 200 });
    expect(received).toHaveLength(3);
    for (const r of received) {
      const check = verifySignature(sub.body.secret, r.body, r.headers['x-gridflow-signature'] as string, r.headers['x-gridflow-timestamp'] as string);
      expect(check.ok).toBe(true);
      expect(r.headers['x-gridflow-event']).toBe('execution.failed');
      expect(r.headers['x-gridflow-event-id']).toBe(received[0]!.headers['x-gridflow-event-id']);
    }
    expect(JSON.parse(received[0]!.body.toString())).toMatchObject({ type: 'execution.failed', executionId: 'exec-1', data: { error: { message: 'x' } } });
    expect(received.map((r) => r.headers['x-gridflow-attempt'])).toEqual(['1', '2', '3']);

    const api = await owner.agent.get(`/api/event-subscriptions/${sub.body.subscription.id}/deliveries`);
    expect(api.body.items[0].attemptLog.map((a: { status: string; responseCode: number }) => [a.status, a.responseCode])).toEqual([
      ['retrying', 500],
      ['retrying', 500],
      ['delivered', 200],
    ]);
    expect(api.body.items[0].attemptLog[0].durationMs).toEqual(expect.any(Number));
    const s = await t.db.prisma.eventSubscription.findUniqueOrThrow({ where: { id: sub.body.subscription.id } });
    expect(s).toMatchObject({ successCount: 1, failureCount: 2 });
  });

  it('gives up after max attempts', async () => {
    received.length = 0;
    failFirst = 100;
    const sub = await owner.agent.post('/api/event-subscriptions').send({ name: 'dead', url: receiverUrl, events: ['content.generated'] });
    await t.db.sql.transaction((tx) =>
      createEventSink({ maxAttempts: 2 })(tx, [{ type: 'content.generated', workspaceId: owner.workspace.id, executionId: 'exec-2', nodeId: 'publish', data: { url: 'x' } }]),
    );
    const worker = new DeliveryWorker(t.db, t.gf.ctx.crypto, createLogger('silent'), { deliveryPollMs: 30, deliveryBaseBackoffMs: 50, deliveryAllowPrivate: true });
    worker.start();
    let status = 'pending';
    for (let i = 0; i < 200 && status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await t.db.prisma.eventDelivery.findFirstOrThrow({ where: { subscriptionId: sub.body.subscription.id } })).status;
    }
    await worker.stop();
    expect(status).toBe('failed');
    expect(received).toHaveLength(2);
  });

  it('refuses private targets unless allowed', async () => {
    expect(isPrivateAddress('127.0.0.1')).toBe(true);
    expect(isPrivateAddress('10.1.2.3')).toBe(true);
    expect(isPrivateAddress('169.254.169.254')).toBe(true);
    expect(isPrivateAddress('::1')).toBe(true);
    expect(isPrivateAddress('::ffff:192.168.1.1')).toBe(true);
    expect(isPrivateAddress('93.184.216.34')).toBe(false);
    received.length = 0;
    const sub = await owner.agent.post('/api/event-subscriptions').send({ name: 'ssrf', url: receiverUrl, events: ['guard.scored'] });
    await t.db.sql.transaction((tx) => createEventSink({ maxAttempts: 1 })(tx, [{ type: 'guard.scored', workspaceId: owner.workspace.id, executionId: 'e3', data: {} }]));
    const worker = new DeliveryWorker(t.db, t.gf.ctx.crypto, createLogger('silent'), { deliveryPollMs: 30, deliveryBaseBackoffMs: 50, deliveryAllowPrivate: false });
    await worker.tick();
    const d = await t.db.prisma.eventDelivery.findFirstOrThrow({ where: { subscriptionId: sub.body.subscription.id } });
    expect(d.status).toBe('failed');
    expect(d.lastError).toMatch(/private address/);
    expect(received).toHaveLength(0);
  });
});
