/**
 * Approval decisions, for the server's decision endpoint: checks who may vote, records the vote,
 * applies N-of-M per step and multi-step progression, and says when the approval became final
 * (then the server resumes the run with `final`). One transaction, the request row locked, so
 * concurrent votes are counted once and only one of them finalises.
 */
import type { Prisma, PrismaClient } from '@gridflow/db';
import {
  ApprovalAlreadyDecidedError,
  ApprovalForbiddenError,
  ApprovalNotFoundError,
} from './errors.js';

export const MEMBERSHIP_ROLES = ['owner', 'admin', 'editor', 'approver', 'viewer'] as const;
export type MembershipRoleName = (typeof MEMBERSHIP_ROLES)[number];

/** One step as stored in `ApprovalRequest.steps`. */
export interface StoredApprovalStep {
  name: string;
  approverRoles: MembershipRoleName[];
  approverUserIds: string[];
  required: number;
}

/** Stored in `ApprovalRequest.escalationPolicy`. */
export interface StoredApprovalPolicy {
  escalation?: { afterHours: number; toRole: MembershipRoleName };
  timeout?: { afterHours: number; action: 'approve' | 'reject' };
  allowSelfApproval: boolean;
  /** Set once escalated: members of this role may also vote on the current step. */
  escalatedToRole?: MembershipRoleName;
}

export interface ApprovalFinal {
  decision: 'approved' | 'rejected';
  approverId: string | null;
  comment: string | null;
  executionId: string | null;
  nodeId: string | null;
  itemIndex: number | null;
}

export interface ApplyDecisionInput {
  workspaceId: string;
  approvalId: string;
  userId: string;
  decision: 'approved' | 'rejected';
  comment?: string | null;
  /** For links in the notifications of the next step. */
  publicUrl?: string;
}

export type ApplyDecisionResult =
  { status: 'recorded'; currentStep: number } | { status: 'final'; final: ApprovalFinal };

type Tx = Prisma.TransactionClient;

export function parseSteps(value: unknown): StoredApprovalStep[] {
  return Array.isArray(value) ? (value as StoredApprovalStep[]) : [];
}

export function parsePolicy(value: unknown): StoredApprovalPolicy {
  const p = (value && typeof value === 'object' ? value : {}) as Partial<StoredApprovalPolicy>;
  return { allowSelfApproval: false, ...p };
}

/** Whether a member with `role` / `userId` may vote on `step`. */
export function isEligible(
  step: StoredApprovalStep,
  policy: StoredApprovalPolicy,
  userId: string,
  role: string,
): boolean {
  return (
    step.approverUserIds.includes(userId) ||
    step.approverRoles.includes(role as MembershipRoleName) ||
    (policy.escalatedToRole !== undefined && policy.escalatedToRole === role)
  );
}

/** User ids of the workspace members who may vote on `step` (the requester excluded unless self-approval is allowed). */
export async function eligibleApprovers(
  db: Tx | PrismaClient,
  workspaceId: string,
  step: StoredApprovalStep,
  policy: StoredApprovalPolicy,
  requestedById: string | null,
  onlyRole?: MembershipRoleName,
): Promise<string[]> {
  const members = await db.membership.findMany({
    where: { workspaceId },
    select: { userId: true, role: true },
  });
  return members
    .filter((m) => (onlyRole ? m.role === onlyRole : isEligible(step, policy, m.userId, m.role)))
    .filter((m) => policy.allowSelfApproval || m.userId !== requestedById)
    .map((m) => m.userId);
}

export async function notifyApprovers(
  db: Tx | PrismaClient,
  args: {
    workspaceId: string;
    userIds: string[];
    approvalId: string;
    title: string;
    body: string;
    stepName: string;
    publicUrl?: string;
    escalated?: boolean;
  },
): Promise<number> {
  if (!args.userIds.length) return 0;
  const res = await db.notification.createMany({
    data: args.userIds.map((userId) => ({
      workspaceId: args.workspaceId,
      userId,
      type: args.escalated ? 'approval.escalated' : 'approval.requested',
      title: `${args.escalated ? 'Escalated approval' : 'Approval needed'}: ${args.title}`,
      body: args.body.slice(0, 500),
      link: `${(args.publicUrl ?? '').replace(/\/$/, '')}/approvals/${args.approvalId}`,
      data: {
        approvalId: args.approvalId,
        step: args.stepName,
        ...(args.escalated ? { escalated: true } : {}),
      },
    })),
  });
  return res.count;
}

export async function applyApprovalDecision(
  db: PrismaClient,
  input: ApplyDecisionInput,
): Promise<ApplyDecisionResult> {
  const { workspaceId, approvalId, userId, decision } = input;
  const comment = input.comment?.trim() ? input.comment.trim() : null;
  return db.$transaction(async (tx) => {
    // Serialise votes on this request.
    const locked = await tx.$queryRaw<Array<{ id: string }>>`
      SELECT id FROM approval_requests WHERE id = ${approvalId} AND workspace_id = ${workspaceId} FOR UPDATE`;
    if (!locked.length) throw new ApprovalNotFoundError();
    const request = await tx.approvalRequest.findFirstOrThrow({
      where: { id: approvalId, workspaceId },
    });
    if (request.status !== 'pending')
      throw new ApprovalAlreadyDecidedError(`This approval is already ${request.status}.`);

    const membership = await tx.membership.findUnique({
      where: { workspaceId_userId: { workspaceId, userId } },
    });
    if (!membership) throw new ApprovalForbiddenError('You are not a member of this workspace.');
    const steps = parseSteps(request.steps);
    const policy = parsePolicy(request.escalationPolicy);
    const step = steps[request.currentStep];
    if (!step) throw new ApprovalAlreadyDecidedError('This approval has no open step.');
    if (!isEligible(step, policy, userId, membership.role)) {
      throw new ApprovalForbiddenError(`You are not an approver of step "${step.name}".`);
    }
    if (decision === 'approved' && request.requestedById === userId && !policy.allowSelfApproval) {
      throw new ApprovalForbiddenError('You cannot approve your own request.');
    }
    const voted = await tx.approvalAction.findFirst({
      where: {
        workspaceId,
        requestId: approvalId,
        stepIndex: request.currentStep,
        actorId: userId,
        action: { in: ['approve', 'reject'] },
      },
    });
    if (voted) throw new ApprovalAlreadyDecidedError(`You already voted on step "${step.name}".`);

    await tx.approvalAction.create({
      data: {
        workspaceId,
        requestId: approvalId,
        stepIndex: request.currentStep,
        action: decision === 'approved' ? 'approve' : 'reject',
        actorId: userId,
        comment,
      },
    });

    const final = (d: 'approved' | 'rejected'): ApplyDecisionResult => ({
      status: 'final',
      final: {
        decision: d,
        approverId: userId,
        comment,
        executionId: request.executionId,
        nodeId: request.nodeId,
        itemIndex: request.itemIndex,
      },
    });

    if (decision === 'rejected') {
      // Any rejection rejects the whole request.
      await tx.approvalRequest.update({
        where: { id: approvalId },
        data: { status: 'rejected', resolvedAt: new Date(), resolvedById: userId },
      });
      return final('rejected');
    }
    const approvals = await tx.approvalAction.findMany({
      where: {
        workspaceId,
        requestId: approvalId,
        stepIndex: request.currentStep,
        action: 'approve',
      },
      distinct: ['actorId'],
      select: { actorId: true },
    });
    if (approvals.length < step.required)
      return { status: 'recorded', currentStep: request.currentStep };
    const nextIndex = request.currentStep + 1;
    const next = steps[nextIndex];
    if (!next) {
      await tx.approvalRequest.update({
        where: { id: approvalId },
        data: { status: 'approved', resolvedAt: new Date(), resolvedById: userId },
      });
      return final('approved');
    }
    // The next step starts; escalation applied to the previous step does not carry over.
    const nextPolicy: StoredApprovalPolicy = { ...policy };
    delete nextPolicy.escalatedToRole;
    await tx.approvalRequest.update({
      where: { id: approvalId },
      data: {
        currentStep: nextIndex,
        escalationPolicy: nextPolicy as unknown as Prisma.InputJsonValue,
      },
    });
    const payload = (request.payload ?? {}) as { content?: string };
    const userIds = await eligibleApprovers(
      tx,
      workspaceId,
      next,
      nextPolicy,
      request.requestedById,
    );
    await notifyApprovers(tx, {
      workspaceId,
      userIds,
      approvalId,
      title: request.title,
      body: payload.content ?? '',
      stepName: next.name,
      ...(input.publicUrl ? { publicUrl: input.publicUrl } : {}),
    });
    return { status: 'recorded', currentStep: nextIndex };
  });
}
