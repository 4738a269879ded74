/**
 * approval: human in the loop. First run creates the ApprovalRequest (one per step id) and
 * notifications, emits `approval.requested` and suspends the run until the escalation or timeout
 * time. The server records votes with `applyApprovalDecision` and resumes the run with the final
 * decision; a timer resume escalates (once) or applies the timeout action.
 */
import { z } from 'zod';
import {
  defineNodeType,
  output,
  UserError,
  type Json,
  type NodeContext,
  type NodeResult,
} from '@gridflow/runtime';
import type { Prisma } from '@gridflow/db';
import {
  eligibleApprovers,
  MEMBERSHIP_ROLES,
  notifyApprovers,
  parsePolicy,
  parseSteps,
  type StoredApprovalPolicy,
  type StoredApprovalStep,
} from './decision.js';

const role = z.enum(MEMBERSHIP_ROLES);

export const approvalConfigSchema = z.object({
  steps: z
    .array(
      z.object({
        name: z.string().min(1),
        approvers: z
          .object({
            roles: z.array(role).default([]),
            userIds: z.array(z.string().min(1)).default([]),
          })
          .refine(
            (a) => a.roles.length > 0 || a.userIds.length > 0,
            'Name at least one approver role or user',
          ),
        /** N of the M eligible approvers must approve. */
        required: z.number().int().min(1).default(1),
      }),
    )
    .min(1, 'Add at least one approval step'),
  /** The text to review; empty = the input's `text`. */
  content: z.string().default('').meta({ 'x-gridflow-widget': 'expression' }),
  title: z.string().min(1).default('Review content'),
  autoApprove: z
    .object({
      minScore: z.number().min(0).max(100),
      /** Usually `{{ $node["Brand guard"].score }}`; resolved before the run. */
      scoreFrom: z.union([z.number(), z.string()]),
    })
    .optional(),
  escalation: z.object({ afterHours: z.number().positive(), toRole: role }).optional(),
  timeout: z
    .object({ afterHours: z.number().positive(), action: z.enum(['reject', 'approve']) })
    .optional(),
  allowSelfApproval: z.boolean().default(false),
});

export type ApprovalConfig = z.infer<typeof approvalConfigSchema>;

const HOUR = 3_600_000;

function inputField(input: Json, field: string): Json | undefined {
  return input && typeof input === 'object' && !Array.isArray(input)
    ? (input as Record<string, Json>)[field]
    : undefined;
}

const resumeSchema = z.union([
  z.object({
    decision: z.enum(['approved', 'rejected']),
    approverId: z.string().nullable().optional(),
    comment: z.string().nullable().optional(),
  }),
  z.object({ reason: z.literal('timer') }),
]);

type Ctx = NodeContext<ApprovalConfig>;

interface RequestRow {
  id: string;
  title: string;
  status: string;
  currentStep: number;
  steps: Prisma.JsonValue;
  escalationPolicy: Prisma.JsonValue;
  escalationLevel: number;
  escalateAt: Date | null;
  dueAt: Date | null;
  requestedById: string | null;
  resolvedById: string | null;
  payload: Prisma.JsonValue;
}

function decided(
  ctx: Ctx,
  request: RequestRow,
  decision: 'approved' | 'rejected',
  extra: Record<string, Json>,
): NodeResult {
  const payload = (request.payload ?? {}) as Record<string, Json>;
  ctx.emit({ type: 'approval.decided', data: { approvalId: request.id, decision, ...extra } });
  return output(
    {
      decision,
      approverId: null,
      comment: null,
      approvalId: request.id,
      title: request.title,
      text: payload['content'] ?? '',
      contentId: payload['contentId'] ?? null,
      ...extra,
    },
    [decision],
  );
}

/** The next time the run must wake up: escalation (if not yet escalated and earlier) or timeout. */
function nextWake(request: RequestRow): Date | undefined {
  if (
    request.escalationLevel === 0 &&
    request.escalateAt &&
    (!request.dueAt || request.escalateAt < request.dueAt)
  )
    return request.escalateAt;
  return request.dueAt ?? undefined;
}

function waitFor(ctx: Ctx, request: RequestRow): NodeResult {
  const until = nextWake(request);
  const steps = parseSteps(request.steps);
  return ctx.wait({
    ...(until ? { until } : {}),
    payload: {
      approvalId: request.id,
      title: request.title,
      step: steps[request.currentStep]?.name ?? null,
      escalationLevel: request.escalationLevel,
    },
  });
}

async function onTimer(ctx: Ctx, request: RequestRow): Promise<NodeResult> {
  const workspaceId = ctx.execution.workspaceId;
  const policy = parsePolicy(request.escalationPolicy);
  const steps = parseSteps(request.steps);
  const step = steps[request.currentStep]!;
  const payload = (request.payload ?? {}) as { content?: string };

  if (
    policy.escalation &&
    request.escalationLevel === 0 &&
    request.escalateAt &&
    (!request.dueAt || request.escalateAt < request.dueAt)
  ) {
    const toRole = policy.escalation.toRole;
    const escalatedPolicy: StoredApprovalPolicy = { ...policy, escalatedToRole: toRole };
    const updated = await ctx.db.$transaction(async (tx) => {
      const res = await tx.approvalRequest.updateMany({
        where: { id: request.id, workspaceId, status: 'pending', escalationLevel: 0 },
        data: {
          escalationLevel: 1,
          escalatedAt: new Date(),
          escalationPolicy: escalatedPolicy as unknown as Prisma.InputJsonValue,
        },
      });
      if (res.count === 0) return false;
      await tx.approvalAction.create({
        data: {
          workspaceId,
          requestId: request.id,
          stepIndex: request.currentStep,
          action: 'escalate',
          metadata: { toRole, afterHours: policy.escalation!.afterHours },
        },
      });
      const userIds = await eligibleApprovers(
        tx,
        workspaceId,
        step,
        escalatedPolicy,
        request.requestedById,
        toRole,
      );
      await notifyApprovers(tx, {
        workspaceId,
        userIds,
        approvalId: request.id,
        title: request.title,
        body: payload.content ?? '',
        stepName: step.name,
        publicUrl: ctx.env.publicUrl,
        escalated: true,
      });
      return true;
    });
    const fresh = (await ctx.db.approvalRequest.findFirstOrThrow({
      where: { id: request.id, workspaceId },
    })) as RequestRow;
    // Lost the race to a decision (or it landed meanwhile): that decision wins.
    if (!updated || fresh.status !== 'pending') return resumeFromState(ctx, fresh);
    ctx.emit({
      type: 'approval.requested',
      data: {
        approvalId: request.id,
        title: request.title,
        step: step.name,
        escalated: true,
        toRole,
      },
    });
    ctx.log.info(`Approval escalated to ${toRole}`, { approvalId: request.id });
    return waitFor(ctx, fresh);
  }

  if (policy.timeout) {
    const action = policy.timeout.action;
    const status = action === 'approve' ? 'approved' : 'expired';
    const res = await ctx.db.approvalRequest.updateMany({
      where: { id: request.id, workspaceId, status: 'pending' },
      data: { status, resolvedAt: new Date() },
    });
    if (res.count === 0) {
      // Someone decided just before the timer: their decision wins.
      return resumeFromState(
        ctx,
        (await ctx.db.approvalRequest.findFirstOrThrow({
          where: { id: request.id, workspaceId },
        })) as RequestRow,
      );
    }
    await ctx.db.approvalAction.create({
      data: {
        workspaceId,
        requestId: request.id,
        stepIndex: request.currentStep,
        action: action === 'approve' ? 'approve' : 'reject',
        metadata: { timeout: true, afterHours: policy.timeout.afterHours },
      },
    });
    return decided(ctx, request, action === 'approve' ? 'approved' : 'rejected', {
      reason: 'timeout',
      comment: `No decision within ${policy.timeout.afterHours} h: ${action === 'approve' ? 'approved' : 'rejected'} automatically.`,
    });
  }
  // A timer without a due action (e.g. woken early): keep waiting.
  return waitFor(ctx, request);
}

/** Output for a request that is already final (re-delivery, or a decision that raced the timer). */
async function resumeFromState(ctx: Ctx, request: RequestRow): Promise<NodeResult> {
  if (request.status === 'pending') return waitFor(ctx, request);
  const decision = request.status === 'approved' ? 'approved' : 'rejected';
  const last = await ctx.db.approvalAction.findFirst({
    where: {
      workspaceId: ctx.execution.workspaceId,
      requestId: request.id,
      action: decision === 'approved' ? 'approve' : 'reject',
    },
    orderBy: { createdAt: 'desc' },
  });
  return decided(ctx, request, decision, {
    approverId: last?.actorId ?? request.resolvedById,
    comment: last?.comment ?? null,
    ...(request.status === 'expired' ? { reason: 'timeout' } : {}),
  });
}

export const approvalNode = defineNodeType({
  type: 'approval',
  version: 1,
  label: 'Approval',
  description:
    'Pauses the run until people approve or reject (N-of-M per step, multi-step), with auto-approve, escalation and timeout.',
  icon: '✅',
  category: 'content',
  inputs: [{ name: 'main', label: 'in' }],
  outputs: [
    { name: 'approved', label: 'approved' },
    { name: 'rejected', label: 'rejected' },
  ],
  configSchema: approvalConfigSchema,
  summary: (c) => c.steps.map((s) => `${s.name} (${s.required})`).join(' → '),
  async run(ctx) {
    const { config, execution } = ctx;
    const workspaceId = execution.workspaceId;
    const itemIndex = ctx.step.itemIndex ?? -1;
    const existing = (await ctx.db.approvalRequest.findFirst({
      where: { workspaceId, executionId: execution.id, nodeId: ctx.node.id, itemIndex },
    })) as RequestRow | null;

    if (ctx.resume !== undefined) {
      if (!existing)
        throw new UserError(
          'The approval request of this step no longer exists.',
          undefined,
          'APPROVAL_MISSING',
        );
      const resume = resumeSchema.safeParse(ctx.resume);
      if (!resume.success)
        throw new UserError(
          `Unexpected resume payload for an approval: ${JSON.stringify(ctx.resume)}`,
          undefined,
          'APPROVAL_BAD_RESUME',
        );
      if ('reason' in resume.data) return onTimer(ctx, existing);
      const fresh = (await ctx.db.approvalRequest.findFirstOrThrow({
        where: { id: existing.id, workspaceId },
      })) as RequestRow;
      if (fresh.status !== 'pending') return resumeFromState(ctx, fresh);
      // Resumed with a decision the request does not show yet (e.g. an operator resumed directly): record it.
      const decision = resume.data.decision;
      await ctx.db.approvalRequest.updateMany({
        where: { id: existing.id, workspaceId, status: 'pending' },
        data: {
          status: decision,
          resolvedAt: new Date(),
          resolvedById: resume.data.approverId ?? null,
        },
      });
      return decided(ctx, existing, decision, {
        approverId: resume.data.approverId ?? null,
        comment: resume.data.comment ?? null,
      });
    }

    // Re-delivery of the first run: the request exists; do not notify twice.
    if (existing) return resumeFromState(ctx, existing);

    const content =
      config.content ||
      (typeof inputField(ctx.input, 'text') === 'string'
        ? (inputField(ctx.input, 'text') as string)
        : '');
    const contentIdIn = inputField(ctx.input, 'contentId');
    const contentId =
      typeof contentIdIn === 'string'
        ? ((
            await ctx.db.generatedContent.findFirst({
              where: { id: contentIdIn, workspaceId },
              select: { id: true },
            })
          )?.id ?? null)
        : null;
    const steps: StoredApprovalStep[] = config.steps.map((s) => ({
      name: s.name,
      approverRoles: s.approvers.roles,
      approverUserIds: s.approvers.userIds,
      required: s.required,
    }));
    const policy: StoredApprovalPolicy = {
      allowSelfApproval: config.allowSelfApproval,
      ...(config.escalation ? { escalation: config.escalation } : {}),
      ...(config.timeout ? { timeout: config.timeout } : {}),
    };
    const execRow = await ctx.db.execution.findFirst({
      where: { id: execution.id, workspaceId },
      select: { startedById: true },
    });
    const requestedById = execRow?.startedById ?? null;
    const now = Date.now();

    let score: number | null = null;
    if (config.autoApprove) {
      const raw = config.autoApprove.scoreFrom;
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (String(raw).trim() === '' || !Number.isFinite(n)) {
        throw new UserError(
          `Auto-approve score "${String(raw)}" is not a number. Point "score from" at a compliance score.`,
          'config.autoApprove.scoreFrom',
          'APPROVAL_BAD_SCORE',
        );
      }
      score = n;
    }
    const autoApproved = score !== null && score >= config.autoApprove!.minScore;

    // Every step must be satisfiable by the members who exist.
    if (!autoApproved) {
      for (const s of steps) {
        const eligible = await eligibleApprovers(ctx.db, workspaceId, s, policy, requestedById);
        if (eligible.length < s.required) {
          throw new UserError(
            `Step "${s.name}" needs ${s.required} approval(s) but only ${eligible.length} member(s) can approve it. Add approvers or lower "required".`,
            'config.steps',
            'APPROVAL_UNSATISFIABLE',
          );
        }
      }
    }

    const data = {
      workspaceId,
      executionId: execution.id,
      nodeId: ctx.node.id,
      itemIndex,
      contentId,
      title: config.title,
      summary: content.slice(0, 280),
      payload: { content, contentId, score, stepId: ctx.step.id },
      steps: steps as unknown as Prisma.InputJsonValue,
      escalationPolicy: policy as unknown as Prisma.InputJsonValue,
      requestedById,
      status: autoApproved ? 'approved' : 'pending',
      ...(autoApproved ? { resolvedAt: new Date(now) } : {}),
      dueAt: config.timeout ? new Date(now + config.timeout.afterHours * HOUR) : null,
      escalateAt: config.escalation ? new Date(now + config.escalation.afterHours * HOUR) : null,
    };

    const created = await ctx.db.$transaction(async (tx) => {
      // Unique (executionId, nodeId, itemIndex): a concurrent duplicate delivery loses here.
      const row = await tx.approvalRequest.upsert({
        where: {
          executionId_nodeId_itemIndex: {
            executionId: execution.id,
            nodeId: ctx.node.id,
            itemIndex,
          },
        },
        create: data,
        update: {},
      });
      const isNew =
        (await tx.approvalAction.count({ where: { requestId: row.id } })) === 0 &&
        (await tx.notification.count({
          where: { workspaceId, data: { path: ['approvalId'], equals: row.id } },
        })) === 0;
      if (!isNew) return { row, isNew };
      if (autoApproved) {
        await tx.approvalAction.create({
          data: {
            workspaceId,
            requestId: row.id,
            stepIndex: 0,
            action: 'approve',
            comment: `Auto-approved: score ${score} ≥ ${config.autoApprove!.minScore}`,
            metadata: { auto: true, score },
          },
        });
      } else {
        const userIds = await eligibleApprovers(tx, workspaceId, steps[0]!, policy, requestedById);
        await notifyApprovers(tx, {
          workspaceId,
          userIds,
          approvalId: row.id,
          title: config.title,
          body: content,
          stepName: steps[0]!.name,
          publicUrl: ctx.env.publicUrl,
        });
      }
      return { row, isNew };
    });
    const request = created.row as RequestRow;

    if (autoApproved) {
      return decided(ctx, request, 'approved', {
        auto: true,
        score,
        comment: `Auto-approved: score ${score} ≥ ${config.autoApprove!.minScore}`,
      });
    }
    if (!created.isNew) return resumeFromState(ctx, request);
    ctx.emit({
      type: 'approval.requested',
      data: {
        approvalId: request.id,
        title: config.title,
        step: steps[0]!.name,
        required: steps[0]!.required,
        link: `${ctx.env.publicUrl.replace(/\/$/, '')}/approvals/${request.id}`,
        ...(request.dueAt ? { dueAt: request.dueAt.toISOString() } : {}),
      },
    });
    return waitFor(ctx, request);
  },
});

export { applyApprovalDecision } from './decision.js';
export type { ApplyDecisionInput, ApplyDecisionResult, ApprovalFinal } from './decision.js';
export {
  ApprovalError,
  ApprovalNotFoundError,
  ApprovalForbiddenError,
  ApprovalAlreadyDecidedError,
} from './errors.js';
