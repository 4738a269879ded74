import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyApprovalDecision } from '@gridflow/nodes/approval/definition';
import {
  addMember,
  simpleDoc,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';
import { resumeDecidedApprovals } from './approval-repair.js';

let t: TestServer;
let owner: TestUser;
beforeAll(async () => {
  t = await startTestServer({ kind: 'postgres', engine: true });
  owner = await t.signup('repair-owner');
});
afterAll(async () => {
  await t?.close();
});

describe('approval repair', () => {
  it('a decision stored without its resume (crash in between) still resumes the run, once', async () => {
    const approver = await t.signup('repair-approver');
    await addMember(owner, approver, 'approver');
    const doc = simpleDoc();
    doc.nodes.splice(1, 0, {
      id: 'approve',
      type: 'approval',
      typeVersion: 1,
      name: 'Approve',
      position: { x: 100, y: 0 },
      config: {
        title: 'Ship?',
        content: 'x',
        steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 1 }],
      },
    } as never);
    doc.edges[0] = {
      id: 'e1',
      source: 'trigger',
      sourceHandle: 'out',
      target: 'approve',
      targetHandle: 'main',
    };
    doc.edges.push({
      id: 'ea',
      source: 'approve',
      sourceHandle: 'approved',
      target: 'code',
      targetHandle: 'in',
    });
    const g = await owner.agent.post('/api/grids').send({ name: 'repair', document: doc });
    expect((await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({})).status).toBe(
      201,
    );
    const run = await owner.agent
      .post(`/api/grids/${g.body.grid.id}/runs`)
      .send({ input: { n: 5 } });
    expect(run.status).toBe(202);
    const executionId = run.body.executionId as string;
    let approvalId: string | undefined;
    for (let i = 0; i < 200 && !approvalId; i++) {
      const a = await t.db.prisma.approvalRequest.findFirst({
        where: { executionId, status: 'pending' },
      });
      approvalId = a?.id;
      if (!approvalId) await new Promise((r) => setTimeout(r, 50));
    }
    expect(approvalId).toBeDefined();

    // The decision is stored, as the route does first; the process "dies" before engine.resume.
    const approverUser = await t.db.prisma.user.findFirstOrThrow({
      where: { email: approver.email },
    });
    const result = await applyApprovalDecision(t.db.prisma, {
      workspaceId: owner.workspace.id,
      approvalId: approvalId!,
      userId: approverUser.id,
      decision: 'approved',
      comment: 'late but fine',
      publicUrl: 'http://localhost',
    });
    expect(result.status).toBe('final');
    await new Promise((r) => setTimeout(r, 300));
    expect(
      (await t.db.prisma.execution.findUniqueOrThrow({ where: { id: executionId } })).status,
    ).toBe('waiting');

    // Within the grace period it is left alone (a resume may be in flight); after it, resumed once.
    expect(await resumeDecidedApprovals(t.db, t.gf.ctx.engine!, 60_000)).toBe(0);
    expect(await resumeDecidedApprovals(t.db, t.gf.ctx.engine!, 0)).toBe(1);
    const done = await t.gf.ctx.engine!.waitForCompletion(executionId, 20_000);
    expect(done?.status).toBe('completed');
    expect(done?.outputs.approve).toMatchObject({ decision: 'approved', comment: 'late but fine' });
    expect(await resumeDecidedApprovals(t.db, t.gf.ctx.engine!, 0)).toBe(0);
  });
});
