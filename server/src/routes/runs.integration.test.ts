import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { addMember, simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

let t: TestServer;
let owner: TestUser;
let stranger: TestUser;
let target: Server;
let targetUrl: string;
let targetStatus = 400;

beforeAll(async () => {
  t = await startTestServer({ engine: true });
  owner = await t.signup('runs');
  stranger = await t.signup('runs-stranger');
  target = createServer((_req, res) => {
    res.writeHead(targetStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ status: targetStatus }));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const addr = target.address();
  targetUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/x`;
});
afterAll(async () => {
  await new Promise((r) => target?.close(r));
  await t?.close();
});

const wait = (id: string) => t.gf.ctx.engine!.waitForCompletion(id, 20_000);

async function grid(doc: unknown, publish = true) {
  const g = await owner.agent.post('/api/grids').send({ name: 'run me', document: doc });
  expect(g.status).toBe(201);
  if (publish) {
    const p = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
    expect(p.status, JSON.stringify(p.body)).toBe(201);
  }
  return g.body.grid.id as string;
}

describe('runs', () => {
  it('runs the published version and the draft as a test run; refuses without a published version', async () => {
    const unpublished = await grid(simpleDoc(), false);
    expect((await owner.agent.post(`/api/grids/${unpublished}/runs`).send({ input: { n: 1 } })).status).toBe(409);
    const test = await owner.agent.post(`/api/grids/${unpublished}/runs`).send({ version: 'draft', input: { n: 4 } });
    expect(test.status).toBe(202);
    expect((await wait(test.body.executionId))?.outputs.code).toEqual({ n2: 8 });

    const id = await grid(simpleDoc());
    const run = await owner.agent.post(`/api/grids/${id}/runs`).send({ input: { n: 21 } });
    expect(run.status).toBe(202);
    const done = await wait(run.body.executionId);
    expect(done).toMatchObject({ status: 'completed', outputs: { code: { n2: 42 } } });
    const detail = await owner.agent.get(`/api/executions/${run.body.executionId}`);
    expect(detail.body.execution).toMatchObject({ status: 'completed', triggerType: 'manual', gridId: id, triggerData: { n: 21 } });
    expect(detail.body.steps.map((s: { nodeId: string; status: string }) => [s.nodeId, s.status])).toEqual([
      ['trigger', 'completed'],
      ['code', 'completed'],
    ]);
    expect(detail.body.steps[1].output).toEqual({ n2: 42 });

    expect((await owner.agent.post(`/api/grids/${id}/runs`).send({ version: 'old' })).body.error.details[0].path).toBe('body.version');
    expect((await stranger.agent.post(`/api/grids/${id}/runs`).send({})).status).toBe(404);
    expect((await stranger.agent.get(`/api/executions/${run.body.executionId}`)).status).toBe(404);
    const viewer = await addMember(owner, await t.signup('runs-viewer'), 'viewer');
    expect((await viewer.post(`/api/grids/${id}/runs`).send({})).status).toBe(403);
    expect((await viewer.get(`/api/executions/${run.body.executionId}`)).status).toBe(200);
  });

  it('a finished run queues execution.completed / execution.failed deliveries for matching subscriptions (in the step transaction)', async () => {
    const sub = await owner.agent.post('/api/event-subscriptions').send({ name: 'runs', url: 'https://example.com/in', events: ['execution.completed', 'execution.failed'] });
    const other = await owner.agent.post('/api/event-subscriptions').send({ name: 'other', url: 'https://example.com/in2', events: ['post.published'] });
    const id = await grid(simpleDoc());
    const ok = await owner.agent.post(`/api/grids/${id}/runs`).send({ input: { n: 3 } });
    await wait(ok.body.executionId);
    const failing = await grid(simpleDoc(undefined, 'throw new Error("bad")'));
    const bad = await owner.agent.post(`/api/grids/${failing}/runs`).send({});
    await wait(bad.body.executionId);
    const deliveries = await t.db.prisma.eventDelivery.findMany({ where: { subscriptionId: sub.body.subscription.id }, orderBy: { createdAt: 'asc' } });
    expect(deliveries.map((d) => [d.event, (d.payload as { executionId: string }).executionId])).toEqual([
      ['execution.completed', ok.body.executionId],
      ['execution.failed', bad.body.executionId],
    ]);
    expect(await t.db.prisma.eventDelivery.count({ where: { subscriptionId: other.body.subscription.id } })).toBe(0);
    await owner.agent.delete(`/api/event-subscriptions/${sub.body.subscription.id}`);
    await owner.agent.delete(`/api/event-subscriptions/${other.body.subscription.id}`);
  });

  it('lists executions with filters and cursor pagination, scoped to the workspace', async () => {
    const id = await grid(simpleDoc());
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await owner.agent.post(`/api/grids/${id}/runs`).send({ input: { n: i } })).body.executionId);
    await Promise.all(ids.map(wait));
    const p1 = await owner.agent.get(`/api/executions?gridId=${id}&limit=2`);
    expect(p1.body.items).toHaveLength(2);
    const p2 = await owner.agent.get(`/api/executions?gridId=${id}&limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items).toHaveLength(1);
    expect(p2.body.nextCursor).toBeNull();
    expect([...p1.body.items, ...p2.body.items].map((e: { id: string }) => e.id).sort()).toEqual([...ids].sort());
    expect((await owner.agent.get(`/api/executions?gridId=${id}&status=failed`)).body.items).toEqual([]);
    expect((await owner.agent.get('/api/executions?status=weird')).body.error.details[0].path).toBe('query.status');
    expect((await stranger.agent.get(`/api/executions?gridId=${id}`)).body.items).toEqual([]);
  });

  it('cancels a waiting run; a second cancel is a 409', async () => {
    const doc = simpleDoc();
    doc.nodes[1] = { id: 'code', type: 'delay', typeVersion: 1, name: 'Wait', position: { x: 200, y: 0 }, config: { mode: 'duration', amount: 1, unit: 'hours' } };
    const id = await grid(doc);
    const run = await owner.agent.post(`/api/grids/${id}/runs`).send({});
    for (let i = 0; i < 100; i++) {
      const d = await owner.agent.get(`/api/executions/${run.body.executionId}`);
      if (d.body.execution.status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await stranger.agent.post(`/api/executions/${run.body.executionId}/cancel`)).status).toBe(404);
    const c = await owner.agent.post(`/api/executions/${run.body.executionId}/cancel`);
    expect(c.status).toBe(200);
    expect((await owner.agent.get(`/api/executions/${run.body.executionId}`)).body.execution.status).toBe('cancelled');
    expect((await owner.agent.post(`/api/executions/${run.body.executionId}/cancel`)).status).toBe(409);
  });

  it('retries a failed run from the failed step, reusing completed steps', async () => {
    targetStatus = 400;
    const doc = simpleDoc();
    doc.nodes[1] = { id: 'code', type: 'http', typeVersion: 1, name: 'Call', position: { x: 200, y: 0 }, config: { method: 'GET', url: targetUrl } };
    const id = await grid(doc);
    const run = await owner.agent.post(`/api/grids/${id}/runs`).send({ input: { n: 1 } });
    expect((await wait(run.body.executionId))?.status).toBe('failed');
    targetStatus = 200;
    const retry = await owner.agent.post(`/api/executions/${run.body.executionId}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.retryOf).toBe(run.body.executionId);
    const done = await wait(retry.body.executionId);
    expect(done?.status).toBe('completed');
    expect(done?.outputs.code).toMatchObject({ status: 200 });
    const detail = await owner.agent.get(`/api/executions/${retry.body.executionId}`);
    expect(detail.body.execution).toMatchObject({ triggerType: 'retry', retryOfId: run.body.executionId });
    // a completed run cannot be retried
    expect((await owner.agent.post(`/api/executions/${retry.body.executionId}/retry`)).status).toBe(409);
    expect((await stranger.agent.post(`/api/executions/${run.body.executionId}/retry`)).status).toBe(404);
  });

  it('approval: pending list for eligible members, decision resumes the run; 403/404/409 cases', async () => {
    const approverUser = await t.signup('approver');
    const asApprover = await addMember(owner, approverUser, 'approver');
    const viewer = await addMember(owner, await t.signup('approval-viewer'), 'viewer');
    const doc = simpleDoc();
    doc.nodes.splice(1, 0, {
      id: 'approve',
      type: 'approval',
      typeVersion: 1,
      name: 'Approve',
      position: { x: 100, y: 0 },
      config: { title: 'Post it?', content: 'Hello world', steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 1 }] },
    });
    doc.edges = [
      { id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'approve', targetHandle: 'main' },
      { id: 'e2', source: 'approve', sourceHandle: 'approved', target: 'code', targetHandle: 'in' },
    ];
    const id = await grid(doc);
    const run = await owner.agent.post(`/api/grids/${id}/runs`).send({ input: { n: 5 } });
    let pending: Array<{ id: string; canDecide: boolean }> = [];
    for (let i = 0; i < 100 && !pending.length; i++) {
      pending = (await asApprover.get('/api/approvals?status=pending')).body.items;
      if (!pending.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(pending).toHaveLength(1);
    expect(pending[0]!.canDecide).toBe(true);
    // the owner (not in the approver role list) does not see it as theirs; the viewer cannot decide
    expect((await owner.agent.get('/api/approvals')).body.items).toHaveLength(0);
    expect((await owner.agent.get('/api/approvals?mine=false')).body.items).toHaveLength(1);
    expect((await viewer.post(`/api/approvals/${pending[0]!.id}/decision`).send({ decision: 'approve' })).status).toBe(403);
    expect((await owner.agent.post(`/api/approvals/${pending[0]!.id}/decision`).send({ decision: 'approve' })).status).toBe(403);
    expect((await stranger.agent.post(`/api/approvals/${pending[0]!.id}/decision`).send({ decision: 'approve' })).status).toBe(404);
    expect((await asApprover.post(`/api/approvals/${pending[0]!.id}/decision`).send({ decision: 'maybe' })).body.error.details[0].path).toBe('body.decision');
    const notes = await asApprover.get('/api/notifications?unread=true');
    expect(notes.body.items.map((n: { type: string }) => n.type)).toContain('approval.requested');

    const d = await asApprover.post(`/api/approvals/${pending[0]!.id}/decision`).send({ decision: 'approve', comment: 'ship it' });
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ status: 'final', resumed: 'resumed', approval: { status: 'approved' } });
    const done = await wait(run.body.executionId);
    expect(done?.status).toBe('completed');
    expect(done?.outputs.approve).toMatchObject({ decision: 'approved', comment: 'ship it' });
    expect((await asApprover.post(`/api/approvals/${pending[0]!.id}/decision`).send({ decision: 'reject' })).status).toBe(409);
    const audit = await owner.agent.get(`/api/audit?entityId=${pending[0]!.id}`);
    expect(audit.body.items[0]).toMatchObject({ action: 'approval.approve' });
  });

  it('tests one node with the given input, or with its input of the latest run', async () => {
    const id = await grid(simpleDoc());
    const given = await owner.agent.post(`/api/grids/${id}/nodes/code/test`).send({ input: { n: 50 } });
    expect(given.status).toBe(200);
    expect(given.body).toMatchObject({ status: 'completed', output: { n2: 100 } });
    const run = await owner.agent.post(`/api/grids/${id}/runs`).send({ input: { n: 7 } });
    await wait(run.body.executionId);
    const pinned = await owner.agent.post(`/api/grids/${id}/nodes/code/test`).send({});
    expect(pinned.body).toMatchObject({ status: 'completed', output: { n2: 14 }, input: { n: 7 } });
    const failing = await owner.agent
      .post(`/api/grids/${id}/nodes/code/test`)
      .send({ input: {}, document: simpleDoc(undefined, 'throw new Error("nope")') });
    expect(failing.body).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('nope') } });
    expect((await owner.agent.post(`/api/grids/${id}/nodes/ghost/test`).send({})).status).toBe(404);
    expect((await stranger.agent.post(`/api/grids/${id}/nodes/code/test`).send({})).status).toBe(404);
    const viewer = await addMember(owner, await t.signup('test-viewer'), 'viewer');
    expect((await viewer.post(`/api/grids/${id}/nodes/code/test`).send({})).status).toBe(403);
    // nothing was stored by the tests
    expect(await t.db.prisma.execution.count({ where: { gridId: id } })).toBe(1);
  });

  it('encrypts secret node config fields on save', async () => {
    const doc = simpleDoc();
    doc.nodes[1] = { id: 'code', type: 'http', typeVersion: 1, name: 'Call', position: { x: 200, y: 0 }, config: { url: targetUrl, auth: { type: 'bearer', token: 'PLAIN-TOKEN' } } };
    const g = await owner.agent.post('/api/grids').send({ name: 'secret', document: doc });
    expect(JSON.stringify(g.body)).not.toContain('PLAIN-TOKEN');
    const token = g.body.grid.document.nodes[1].config.auth.token as string;
    expect(token).toMatch(/^gf1\./);
    expect(t.gf.ctx.crypto.decrypt(token)).toBe('PLAIN-TOKEN');
    // saving the ciphertext back keeps it as is
    const again = await owner.agent.put(`/api/grids/${g.body.grid.id}`).set('If-Match', '1').send({ document: g.body.grid.document });
    expect(again.body.grid.document.nodes[1].config.auth.token).toBe(token);
  });
});
