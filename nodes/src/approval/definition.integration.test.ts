import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import type { Json, OutputResult, WaitResult } from '@gridflow/runtime';
import {
  applyApprovalDecision,
  approvalConfigSchema,
  approvalNode,
  ApprovalAlreadyDecidedError,
  ApprovalForbiddenError,
  ApprovalNotFoundError,
} from './definition.js';
import { createFakeContext } from '../testing/fake-context.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';

let db: Database;
let seed: SeededWorkspace;
let gridId: string;
beforeAll(async () => {
  db = await createTestDatabase('postgres');
  seed = await seedWorkspace(db.prisma);
  gridId = (
    await db.prisma.grid.create({
      data: { workspaceId: seed.workspaceId, name: 'g', document: {} },
    })
  ).id;
});
afterAll(() => db?.close());

/** An execution started by `startedBy`, so the approval knows its requester. */
async function execution(startedBy: string | null = null) {
  return db.prisma.execution.create({
    data: {
      workspaceId: seed.workspaceId,
      gridId,
      triggerType: 'manual',
      triggerData: {},
      status: 'waiting',
      startedById: startedBy,
    },
  });
}

function ctxFor(
  executionId: string,
  config: Record<string, unknown>,
  extra: { resume?: Json; input?: Json } = {},
) {
  return createFakeContext({
    config: approvalConfigSchema.parse(config),
    db: db.prisma,
    node: { id: 'approve1', type: 'approval' },
    execution: { id: executionId, gridId, workspaceId: seed.workspaceId },
    input: extra.input ?? { text: 'Spring workshop post', contentId: null },
    ...(extra.resume !== undefined ? { resume: extra.resume } : {}),
  });
}

const twoSteps = {
  title: 'Spring post',
  steps: [
    { name: 'Review', approvers: { roles: ['approver', 'editor'] }, required: 2 },
    { name: 'Legal', approvers: { userIds: [] as string[] }, required: 1 },
  ],
  escalation: { afterHours: 24, toRole: 'admin' },
  timeout: { afterHours: 72, action: 'reject' },
};

describe('approval node and decisions', () => {
  it('requests approval, notifies eligible members (not the requester), enforces N-of-M and steps, resumes approved', async () => {
    const exec = await execution(seed.users.editor);
    const config = {
      ...twoSteps,
      steps: [
        twoSteps.steps[0]!,
        { ...twoSteps.steps[1]!, approvers: { userIds: [seed.users.owner] } },
      ],
    };
    const ctx = ctxFor(exec.id, config);
    const before = Date.now();
    const res = (await approvalNode.run(ctx)) as WaitResult;
    expect(res.kind).toBe('wait');
    const until = res.wait.until!.getTime();
    expect(until - before).toBeGreaterThanOrEqual(24 * 3_600_000 - 1000);
    expect(until - before).toBeLessThan(24 * 3_600_000 + 60_000);
    const approvalId = (res.wait.payload as { approvalId: string }).approvalId;
    expect(ctx.events[0]).toMatchObject({
      type: 'approval.requested',
      data: { approvalId, step: 'Review', required: 2 },
    });

    const notified = await db.prisma.notification.findMany({
      where: { workspaceId: seed.workspaceId, data: { path: ['approvalId'], equals: approvalId } },
    });
    expect(notified.map((n) => n.userId).sort()).toEqual(
      [seed.users.approver, seed.users.approver2].sort(),
    );
    expect(notified[0]!.link).toBe(`http://localhost:3000/approvals/${approvalId}`);

    // A re-delivered first run neither duplicates the request nor the notifications.
    const again = (await approvalNode.run(ctxFor(exec.id, config))) as WaitResult;
    expect(again.kind).toBe('wait');
    expect(
      await db.prisma.notification.count({
        where: { data: { path: ['approvalId'], equals: approvalId } },
      }),
    ).toBe(2);

    const base = { workspaceId: seed.workspaceId, approvalId };
    await expect(
      applyApprovalDecision(db.prisma, {
        ...base,
        userId: seed.users.viewer,
        decision: 'approved',
      }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    await expect(
      applyApprovalDecision(db.prisma, {
        ...base,
        userId: seed.users.editor,
        decision: 'approved',
      }),
    ).rejects.toThrow(/own request/);
    await expect(
      applyApprovalDecision(db.prisma, {
        ...base,
        workspaceId: 'other',
        userId: seed.users.approver,
        decision: 'approved',
      }),
    ).rejects.toBeInstanceOf(ApprovalNotFoundError);
    expect(
      await applyApprovalDecision(db.prisma, {
        ...base,
        userId: seed.users.approver,
        decision: 'approved',
      }),
    ).toEqual({ status: 'recorded', currentStep: 0 });
    const dbl = await applyApprovalDecision(db.prisma, {
      ...base,
      userId: seed.users.approver,
      decision: 'approved',
    }).catch((e: unknown) => e);
    expect(dbl).toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect((dbl as ApprovalAlreadyDecidedError).httpStatus).toBe(409);
    // Second approval completes step 1 and notifies the Legal step's named user.
    expect(
      await applyApprovalDecision(db.prisma, {
        ...base,
        userId: seed.users.approver2,
        decision: 'approved',
        comment: 'ok',
      }),
    ).toEqual({ status: 'recorded', currentStep: 1 });
    expect(
      await db.prisma.notification.count({
        where: { userId: seed.users.owner, data: { path: ['approvalId'], equals: approvalId } },
      }),
    ).toBe(1);
    await expect(
      applyApprovalDecision(db.prisma, {
        ...base,
        userId: seed.users.approver,
        decision: 'approved',
      }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    const final = await applyApprovalDecision(db.prisma, {
      ...base,
      userId: seed.users.owner,
      decision: 'approved',
      comment: 'Ship it',
    });
    expect(final).toEqual({
      status: 'final',
      final: {
        decision: 'approved',
        approverId: seed.users.owner,
        comment: 'Ship it',
        executionId: exec.id,
        nodeId: 'approve1',
        itemIndex: -1,
      },
    });
    await expect(
      applyApprovalDecision(db.prisma, { ...base, userId: seed.users.owner, decision: 'rejected' }),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecidedError);

    const resumed = (await approvalNode.run(
      ctxFor(exec.id, config, {
        resume: { decision: 'approved', approverId: seed.users.owner, comment: 'Ship it' },
      }),
    )) as OutputResult;
    expect(resumed.ports).toEqual(['approved']);
    expect(resumed.output).toMatchObject({
      decision: 'approved',
      approverId: seed.users.owner,
      comment: 'Ship it',
      approvalId,
      text: 'Spring workshop post',
    });
  });

  it('any rejection rejects; self-approval works when allowed', async () => {
    const exec = await execution(seed.users.approver);
    const ctx = ctxFor(exec.id, {
      steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 2 }],
      allowSelfApproval: true,
    });
    const res = (await approvalNode.run(ctx)) as WaitResult;
    const approvalId = (res.wait.payload as { approvalId: string }).approvalId;
    expect(res.wait.until).toBeUndefined();
    expect(
      await applyApprovalDecision(db.prisma, {
        workspaceId: seed.workspaceId,
        approvalId,
        userId: seed.users.approver,
        decision: 'approved',
      }),
    ).toMatchObject({ status: 'recorded' });
    const rej = await applyApprovalDecision(db.prisma, {
      workspaceId: seed.workspaceId,
      approvalId,
      userId: seed.users.approver2,
      decision: 'rejected',
      comment: 'Off-brand',
    });
    expect(rej).toMatchObject({
      status: 'final',
      final: { decision: 'rejected', comment: 'Off-brand' },
    });
    const out = (await approvalNode.run(
      ctxFor(
        exec.id,
        { steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 2 }] },
        {
          resume: { decision: 'rejected', approverId: seed.users.approver2, comment: 'Off-brand' },
        },
      ),
    )) as OutputResult;
    expect(out.ports).toEqual(['rejected']);
  });

  it('concurrent votes count once and finalise once', async () => {
    const exec = await execution(null);
    const res = (await approvalNode.run(
      ctxFor(exec.id, {
        steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 2 }],
      }),
    )) as WaitResult;
    const approvalId = (res.wait.payload as { approvalId: string }).approvalId;
    const results = await Promise.all(
      [seed.users.approver, seed.users.approver2].map((userId) =>
        applyApprovalDecision(db.prisma, {
          workspaceId: seed.workspaceId,
          approvalId,
          userId,
          decision: 'approved',
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['final', 'recorded']);
  });

  it('escalates on the first timer, then applies the timeout action', async () => {
    const exec = await execution(null);
    const config = {
      ...twoSteps,
      steps: [{ name: 'Review', approvers: { userIds: [seed.users.approver] }, required: 1 }],
    };
    const first = (await approvalNode.run(ctxFor(exec.id, config))) as WaitResult;
    const approvalId = (first.wait.payload as { approvalId: string }).approvalId;
    const ctx = ctxFor(exec.id, config, { resume: { reason: 'timer' } });
    const escalated = (await approvalNode.run(ctx)) as WaitResult;
    expect(escalated.kind).toBe('wait');
    const req = await db.prisma.approvalRequest.findFirstOrThrow({ where: { id: approvalId } });
    expect(escalated.wait.until!.getTime()).toBe(req.dueAt!.getTime());
    expect(req.escalationLevel).toBe(1);
    const adminNote = await db.prisma.notification.findFirstOrThrow({
      where: { userId: seed.users.admin, data: { path: ['approvalId'], equals: approvalId } },
    });
    expect(adminNote.type).toBe('approval.escalated');
    expect(ctx.events[0]).toMatchObject({
      type: 'approval.requested',
      data: { escalated: true, toRole: 'admin' },
    });
    // After escalation an admin may decide... but the timeout comes first here.
    const timedOut = (await approvalNode.run(
      ctxFor(exec.id, config, { resume: { reason: 'timer' } }),
    )) as OutputResult;
    expect(timedOut.ports).toEqual(['rejected']);
    expect(timedOut.output).toMatchObject({ decision: 'rejected', reason: 'timeout' });
    expect(
      (await db.prisma.approvalRequest.findFirstOrThrow({ where: { id: approvalId } })).status,
    ).toBe('expired');
  });

  it('an escalated role may vote', async () => {
    const exec = await execution(null);
    const config = {
      ...twoSteps,
      steps: [{ name: 'Review', approvers: { userIds: [seed.users.approver] }, required: 1 }],
    };
    const first = (await approvalNode.run(ctxFor(exec.id, config))) as WaitResult;
    const approvalId = (first.wait.payload as { approvalId: string }).approvalId;
    await expect(
      applyApprovalDecision(db.prisma, {
        workspaceId: seed.workspaceId,
        approvalId,
        userId: seed.users.admin,
        decision: 'approved',
      }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    await approvalNode.run(ctxFor(exec.id, config, { resume: { reason: 'timer' } }));
    expect(
      await applyApprovalDecision(db.prisma, {
        workspaceId: seed.workspaceId,
        approvalId,
        userId: seed.users.admin,
        decision: 'approved',
      }),
    ).toMatchObject({ status: 'final' });
  });

  it('auto-approves at or above the score without waiting', async () => {
    const exec = await execution(null);
    const ctx = ctxFor(exec.id, {
      steps: [{ name: 'Review', approvers: { roles: ['approver'] } }],
      autoApprove: { minScore: 90, scoreFrom: '92' },
    });
    const res = (await approvalNode.run(ctx)) as OutputResult;
    expect(res.ports).toEqual(['approved']);
    expect(res.output).toMatchObject({ decision: 'approved', auto: true, score: 92 });
    expect(
      await db.prisma.notification.count({
        where: {
          data: { path: ['approvalId'], equals: (res.output as { approvalId: string }).approvalId },
        },
      }),
    ).toBe(0);
    const low = (await approvalNode.run(
      ctxFor((await execution(null)).id, {
        steps: [{ name: 'Review', approvers: { roles: ['approver'] } }],
        autoApprove: { minScore: 90, scoreFrom: 71 },
      }),
    )) as WaitResult;
    expect(low.kind).toBe('wait');
  });

  it('rejects unsatisfiable steps and bad config', async () => {
    const exec = await execution(null);
    await expect(
      approvalNode.run(
        ctxFor(exec.id, {
          steps: [{ name: 'Review', approvers: { roles: ['approver'] }, required: 3 }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'UserError', field: 'config.steps' });
    expect(approvalConfigSchema.safeParse({ steps: [] }).success).toBe(false);
    expect(approvalConfigSchema.safeParse({ steps: [{ name: 'x', approvers: {} }] }).success).toBe(
      false,
    );
    expect(
      approvalConfigSchema.safeParse({ steps: [{ name: 'x', approvers: { roles: ['king'] } }] })
        .success,
    ).toBe(false);
  });
});
