import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import type { Socket } from 'socket.io-client';
import type { RuntimeEvent } from '@gridflow/runtime';
import { addMember, openSocket, simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';
import type { ExecutionSnapshot } from './hub.js';

let t: TestServer;
let owner: TestUser;
let key: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  t = await startTestServer({ engine: true });
  owner = await t.signup('live');
  key = (await owner.agent.post('/api/api-keys').send({ name: 'live', scopes: ['read', 'write'] })).body.key;
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await t?.close();
});

async function open(auth: Record<string, string> = { token: key }, extraHeaders?: Record<string, string>): Promise<Socket> {
  const s = await openSocket(t.url, auth, extraHeaders);
  sockets.push(s);
  return s;
}

type SubscribeReply = { ok: boolean; error?: string; snapshot?: ExecutionSnapshot };
const subscribe = (s: Socket, msg: Record<string, unknown>) => s.timeout(10_000).emitWithAck('subscribe', msg) as Promise<SubscribeReply>;

function chainDoc(n: number) {
  const doc = simpleDoc();
  for (let i = 2; i <= n; i++) {
    doc.nodes.push({ id: `c${i}`, type: 'code', typeVersion: 1, name: `C${i}`, position: { x: 200 * i, y: 0 }, config: { code: `return { i: ${i} };` } });
    doc.edges.push({ id: `e${i}`, source: i === 2 ? 'code' : `c${i - 1}`, sourceHandle: 'out', target: `c${i}`, targetHandle: 'in' });
  }
  return doc;
}

async function publishedGrid(doc: unknown) {
  const g = await owner.agent.post('/api/grids').send({ name: 'live', document: doc });
  expect((await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({})).status).toBe(201);
  return g.body.grid.id as string;
}

describe('live stream', () => {
  it('refuses unauthenticated sockets', async () => {
    await expect(open({})).rejects.toThrow(/unauthenticated/);
    await expect(open({ token: 'gfk_nothing_' + 'x'.repeat(40) })).rejects.toThrow(/unauthenticated/);
  });

  it('streams a run’s events in order after the snapshot, with no gap, ending with the run’s completion', async () => {
    // A short delay first: code steps right after the trigger would run (and end the run) while it starts.
    const doc = chainDoc(6);
    doc.nodes.splice(1, 0, { id: 'wait', type: 'delay', typeVersion: 1, name: 'Wait', position: { x: 100, y: 0 }, config: { amount: 0.3, unit: 'seconds' } });
    doc.edges[0] = { id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'wait', targetHandle: 'in' };
    doc.edges.push({ id: 'ew', source: 'wait', sourceHandle: 'out', target: 'code', targetHandle: 'in' });
    const gridId = await publishedGrid(doc);
    const s = await open();
    const events: RuntimeEvent[] = [];
    s.on('event', (e: RuntimeEvent) => events.push(e));
    const run = await owner.agent.post(`/api/grids/${gridId}/runs`).send({ input: { n: 1 } });
    const reply = await subscribe(s, { executionId: run.body.executionId });
    expect(reply.ok).toBe(true);
    const snap = reply.snapshot!;
    await t.gf.ctx.engine!.waitForCompletion(run.body.executionId, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const seqs = events.map((e) => e.seq);
    expect(seqs.length).toBeGreaterThan(0);
    // seq never goes back and starts after the snapshot (a step's 'running' shares the seq of its 'pending')
    expect(seqs[0]).toBeGreaterThan(snap.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1]!);
    // every node of the chain is seen completing, in order
    const completed = events.filter((e) => e.type === 'step' && e.status === 'completed').map((e) => (e.type === 'step' ? e.nodeId : ''));
    const snapDone = snap.steps.filter((x) => x.status === 'completed').map((x) => x.nodeId);
    expect([...snapDone, ...completed]).toEqual(['trigger', 'wait', 'code', 'c2', 'c3', 'c4', 'c5', 'c6']);
    const last = events[events.length - 1] ?? null;
    const finalStatus = last ? (last.type === 'run' ? last.status : null) : snap.run.status;
    expect(finalStatus).toBe('completed');
    const final = await t.db.prisma.execution.findUniqueOrThrow({ where: { id: run.body.executionId } });
    expect(seqs.length ? seqs[seqs.length - 1] : snap.seq).toBe(final.eventSeq);
    const steps = events.filter((e) => e.type === 'step');
    for (const e of steps) expect(e).toMatchObject({ executionId: run.body.executionId, gridId, nodeId: expect.any(String), attempt: expect.any(Number) });
  });

  it('a client that reconnects with lastSeq gets the current state, then live events, nothing missed', async () => {
    const approver = await t.signup('live-approver');
    const asApprover = await addMember(owner, approver, 'approver');
    const doc = chainDoc(3);
    doc.nodes.splice(1, 0, {
      id: 'approve',
      type: 'approval',
      typeVersion: 1,
      name: 'Approve',
      position: { x: 100, y: 0 },
      config: { title: 'Live?', content: 'x', steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 1 }] },
    });
    doc.edges[0] = { id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'approve', targetHandle: 'main' };
    doc.edges.push({ id: 'ea', source: 'approve', sourceHandle: 'approved', target: 'code', targetHandle: 'in' });
    const gridId = await publishedGrid(doc);

    // the approver's session socket gets the approval notification
    const login = await supertest(t.url).post('/api/auth/login').send({ email: approver.email, password: approver.password });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const approverSocket = await open({ workspaceId: owner.workspace.id }, { cookie });
    const notifications: Array<{ type: string }> = [];
    approverSocket.on('notification', (n: { type: string }) => notifications.push(n));

    const s1 = await open();
    const seen: RuntimeEvent[] = [];
    s1.on('event', (e: RuntimeEvent) => seen.push(e));
    const run = await owner.agent.post(`/api/grids/${gridId}/runs`).send({});
    const first = await subscribe(s1, { executionId: run.body.executionId });
    expect(first.ok).toBe(true);
    for (let i = 0; i < 100; i++) {
      const cur = await t.db.prisma.execution.findUniqueOrThrow({ where: { id: run.body.executionId } });
      if (cur.status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    const lastSeq = seen.length ? seen[seen.length - 1]!.seq : first.snapshot!.seq;
    s1.disconnect();

    // while disconnected, the approval is decided and the run goes on
    const pending = (await asApprover.get('/api/approvals')).body.items;
    expect(pending).toHaveLength(1);
    await asApprover.post(`/api/approvals/${pending[0].id}/decision`).send({ decision: 'approve' });
    expect(notifications.map((n) => n.type)).toContain('approval.requested');

    const s2 = await open();
    const after: RuntimeEvent[] = [];
    s2.on('event', (e: RuntimeEvent) => after.push(e));
    const again = await subscribe(s2, { executionId: run.body.executionId, lastSeq });
    expect(again.ok).toBe(true);
    const snap = again.snapshot!;
    expect(snap.seq).toBeGreaterThanOrEqual(lastSeq);
    await t.gf.ctx.engine!.waitForCompletion(run.body.executionId, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    // what was missed is in the snapshot; what follows arrives live, contiguous
    const seqs = after.map((e) => e.seq);
    if (seqs.length) expect(seqs[0]).toBeGreaterThan(snap.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1]!);
    // snapshot + live events cover the whole chain after the approval
    const done = new Set([...snap.steps.filter((x) => x.status === 'completed').map((x) => x.nodeId), ...after.filter((e) => e.type === 'step' && e.status === 'completed').map((e) => (e.type === 'step' ? e.nodeId : ''))]);
    expect([...done].sort()).toEqual(['approve', 'c2', 'c3', 'code', 'trigger']);
    const final = await t.db.prisma.execution.findUniqueOrThrow({ where: { id: run.body.executionId } });
    expect(final.status).toBe('completed');
    expect(seqs.length ? seqs[seqs.length - 1] : snap.seq).toBe(final.eventSeq);
    expect(snap.run.executionId).toBe(run.body.executionId);
    expect(snap.execution).toMatchObject({ id: run.body.executionId, gridId, eventSeq: snap.seq });
    const approveStep = snap.steps.find((x) => x.nodeId === 'approve');
    expect(approveStep?.status === 'completed' || after.some((e) => e.type === 'step' && e.nodeId === 'approve' && e.status === 'completed')).toBe(true);
  });

  it('other workspaces’ executions and grids cannot be joined', async () => {
    const gridId = await publishedGrid(simpleDoc());
    const run = await owner.agent.post(`/api/grids/${gridId}/runs`).send({});
    const other = await t.signup('live-other');
    const k = (await other.agent.post('/api/api-keys').send({ name: 'x', scopes: ['read'] })).body.key;
    const s = await open({ token: k });
    expect(await subscribe(s, { executionId: run.body.executionId })).toEqual({ ok: false, error: 'execution not found' });
    expect(await subscribe(s, { gridId })).toEqual({ ok: false, error: 'grid not found' });
    const mine = await open();
    expect((await subscribe(mine, { gridId })).ok).toBe(true);
  });
});
