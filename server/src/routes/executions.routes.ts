/**
 * Runs: manual / test runs, execution list and detail, cancel, retry, node test, approvals.
 */
import { z } from 'zod';
import type { Json } from '@gridflow/runtime';
import type { ServerContext } from '../context.js';
import { requireEngine } from '../context.js';
import { ApiError, conflict, notFound } from '../http/errors.js';
import type { Api, Role } from '../http/route.js';
import { applyApprovalDecision as nodesApplyDecision, ApprovalError } from '@gridflow/nodes/approval/definition';
import { isEligible, parsePolicy, parseSteps } from '@gridflow/nodes/approval/decision';
import { audit } from '../audit.js';
import { parseDocument, problemDetails, validate } from '../grids/publish.js';
import { encryptSecrets } from '../grids/secrets.js';
import { gridIdParam, loadGrid } from './grids.routes.js';
import { decodeCursor, encodeCursor } from './workspaces.routes.js';

const EXEC_STATUSES = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'] as const;
const idParam = z.object({ id: z.string().min(1).max(64) });
const jsonValue = z.json();

const executionView = z.object({
  id: z.string(),
  gridId: z.string(),
  gridVersionId: z.string().nullable(),
  triggerType: z.string(),
  status: z.string(),
  startedById: z.string().nullable(),
  retryOfId: z.string().nullable(),
  error: z.unknown(),
  stepsTotal: z.number(),
  stepsCompleted: z.number(),
  stepsFailed: z.number(),
  eventSeq: z.number(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});

const execSelect = {
  id: true,
  gridId: true,
  gridVersionId: true,
  triggerType: true,
  status: true,
  startedById: true,
  retryOfId: true,
  error: true,
  stepsTotal: true,
  stepsCompleted: true,
  stepsFailed: true,
  eventSeq: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} as const;

/** Whether `userId` with `role` may vote on the approval's current step (the approval node's rule). */
export function mayDecide(a: { steps: unknown; currentStep: number; escalationPolicy: unknown; requestedById: string | null }, userId: string, role: Role): boolean {
  const step = parseSteps(a.steps)[a.currentStep];
  if (!step) return false;
  const policy = parsePolicy(a.escalationPolicy);
  return isEligible(step, policy, userId, role) && (policy.allowSelfApproval || a.requestedById !== userId);
}

export function registerExecutionRoutes(api: Api, ctx: ServerContext) {
  const { prisma } = ctx.db;

  api.route({
    method: 'post',
    path: '/api/grids/:id/runs',
    summary: 'Run the latest published version, or the draft as a test run, with an input',
    tags: ['runs'],
    auth: 'editor',
    status: 202,
    errors: [409, 503],
    params: gridIdParam,
    body: z.object({ input: jsonValue.default({}), version: z.enum(['published', 'draft']).default('published') }),
    response: z.object({ executionId: z.string() }),
    handler: async ({ caller, params, body, req, ip }) => {
      const engine = requireEngine(ctx);
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      let document;
      let gridVersionId: string | null = null;
      if (body.version === 'draft') {
        const v = validate(g.document, ctx.registry);
        if (!v.ok || !v.document) throw new ApiError(400, 'VALIDATION_FAILED', `The draft has ${v.errors.length} problem(s)`, problemDetails(v.errors));
        document = v.document;
      } else {
        if (!g.publishedVersionId) throw conflict('This grid has no published version: publish it, or run the draft ({"version":"draft"})');
        const version = await prisma.gridVersion.findFirstOrThrow({ where: { id: g.publishedVersionId, workspaceId: caller.workspaceId } });
        document = parseDocument(version.document, 'version.document');
        gridVersionId = version.id;
      }
      const { executionId } = await engine.startRun({
        workspaceId: caller.workspaceId,
        gridId: g.id,
        gridVersionId,
        document,
        triggerType: body.version === 'draft' ? 'test' : 'manual',
        triggerData: body.input as Json,
        startedById: caller.user.id,
      });
      try {
        await audit(prisma, { caller, req, ip }, caller.workspaceId, {
          action: body.version === 'draft' ? 'grid.test_run' : 'grid.run',
          entityType: 'execution',
          entityId: executionId,
          after: { gridId: g.id, version: body.version },
        });
      } catch (err) {
        // The run has started: a 5xx now would make the client retry and run the grid twice
        // (seen by server/faults when PostgreSQL restarts between the start and the audit row).
        ctx.log.error({ err, executionId }, 'audit row of a started run could not be written');
      }
      return { executionId };
    },
  });

  api.route({
    method: 'get',
    path: '/api/executions',
    summary: 'Executions, newest first, filtered by grid and status, cursor-paginated',
    tags: ['runs'],
    auth: 'viewer',
    query: z.object({
      gridId: z.string().max(64).optional(),
      status: z.enum(EXEC_STATUSES).optional(),
      cursor: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    response: z.object({ items: z.array(executionView), nextCursor: z.string().nullable() }),
    handler: async ({ caller, query }) => {
      const cur = decodeCursor(query.cursor, 'query.cursor');
      const rows = await prisma.execution.findMany({
        where: {
          workspaceId: caller.workspaceId,
          ...(query.gridId ? { gridId: query.gridId } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(cur ? { OR: [{ createdAt: { lt: cur.at } }, { createdAt: cur.at, id: { lt: cur.id } }] } : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
        select: execSelect,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return { items: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
    },
  });

  async function loadExecution(workspaceId: string, id: string) {
    const ex = await prisma.execution.findFirst({ where: { id, workspaceId } });
    if (!ex) throw notFound('execution');
    return ex;
  }

  api.route({
    method: 'get',
    path: '/api/executions/:id',
    summary: 'One execution with its steps (input, output, error, timings)',
    tags: ['runs'],
    auth: 'viewer',
    params: idParam,
    handler: async ({ caller, params }) => {
      const ex = await prisma.execution.findFirst({ where: { id: params.id, workspaceId: caller.workspaceId }, select: { ...execSelect, triggerData: true } });
      if (!ex) throw notFound('execution');
      const steps = await prisma.executionStep.findMany({
        where: { executionId: ex.id, workspaceId: caller.workspaceId },
        // Steps written by one statement (a trigger completed at start and the step it made ready)
        // share createdAt: the one that started first comes first.
        orderBy: [{ createdAt: 'asc' }, { startedAt: { sort: 'asc', nulls: 'last' } }, { itemIndex: 'asc' }],
      });
      return {
        execution: ex,
        steps: steps.map((s) => ({
          id: s.id,
          nodeId: s.nodeId,
          itemIndex: s.itemIndex < 0 ? null : s.itemIndex,
          attempt: s.attempt,
          status: s.status,
          input: s.input,
          output: s.output,
          ports: s.ports,
          error: s.error,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
          durationMs: s.startedAt && s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
        })),
      };
    },
  });

  api.route({
    method: 'post',
    path: '/api/executions/:id/cancel',
    summary: "Cancel a run: pending steps are dropped, the running node's signal fires",
    tags: ['runs'],
    auth: 'editor',
    errors: [409, 503],
    params: idParam,
    response: z.object({ cancelled: z.boolean() }),
    handler: async ({ caller, params, req, ip }) => {
      const engine = requireEngine(ctx);
      const ex = await loadExecution(caller.workspaceId, params.id);
      const cancelled = await engine.cancel(caller.workspaceId, ex.id);
      if (!cancelled) throw conflict(`The execution is already ${ex.status}`);
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'execution.cancel', entityType: 'execution', entityId: ex.id, before: { status: ex.status } });
      return { cancelled };
    },
  });

  api.route({
    method: 'post',
    path: '/api/executions/:id/retry',
    summary: 'Re-run a failed or cancelled execution from the failed step, reusing completed steps',
    tags: ['runs'],
    auth: 'editor',
    status: 202,
    errors: [409, 503],
    params: idParam,
    response: z.object({ executionId: z.string(), retryOf: z.string() }),
    handler: async ({ caller, params, req, ip }) => {
      const engine = requireEngine(ctx);
      const ex = await loadExecution(caller.workspaceId, params.id);
      if (ex.status !== 'failed' && ex.status !== 'cancelled') throw conflict(`Only failed or cancelled executions can be retried (this one is ${ex.status})`);
      let raw: unknown = ex.document;
      if (!raw && ex.gridVersionId) raw = (await prisma.gridVersion.findFirst({ where: { id: ex.gridVersionId, workspaceId: caller.workspaceId } }))?.document;
      if (!raw) throw conflict('The grid version of this execution no longer exists');
      const { executionId } = await engine.startRun({
        workspaceId: caller.workspaceId,
        gridId: ex.gridId,
        gridVersionId: ex.gridVersionId,
        document: parseDocument(raw, 'execution.document'),
        triggerType: 'retry',
        triggerData: ex.triggerData as Json,
        startedById: caller.user.id,
        retryOf: ex.id,
      });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'execution.retry', entityType: 'execution', entityId: executionId, after: { retryOf: ex.id } });
      return { executionId, retryOf: ex.id };
    },
  });

  api.route({
    method: 'post',
    path: '/api/grids/:id/nodes/:nodeId/test',
    summary: "Run one node of the draft (or of the given document) with the given input, outside a run",
    tags: ['runs'],
    auth: 'editor',
    errors: [503],
    params: gridIdParam.extend({ nodeId: z.string().min(1).max(64) }),
    body: z.object({ input: jsonValue.optional(), trigger: jsonValue.optional(), document: z.unknown().optional() }),
    handler: async ({ caller, params, body }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const document = body.document === undefined ? parseDocument(g.document, 'grid.document') : encryptSecrets(parseDocument(body.document), ctx.registry, ctx.crypto);
      if (!document.nodes.some((n) => n.id === params.nodeId)) throw notFound('node');
      if (!ctx.deps.executeNodeOnce) throw new ApiError(503, 'UNAVAILABLE', 'Node testing is not available in this process');
      const result = await ctx.deps.executeNodeOnce({
        workspaceId: caller.workspaceId,
        gridId: g.id,
        document,
        nodeId: params.nodeId,
        ...(body.input !== undefined ? { input: body.input as Json } : {}),
        ...(body.trigger !== undefined ? { trigger: body.trigger as Json } : {}),
      });
      return result as object;
    },
  });

  // ------------------------------------------------------------ approvals

  api.route({
    method: 'get',
    path: '/api/approvals',
    summary: 'Approval requests (default: pending ones the caller may decide)',
    tags: ['approvals'],
    auth: 'viewer',
    query: z.object({
      status: z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled']).default('pending'),
      mine: z.enum(['true', 'false']).default('true'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    handler: async ({ caller, query }) => {
      const rows = await prisma.approvalRequest.findMany({
        where: { workspaceId: caller.workspaceId, status: query.status },
        orderBy: { createdAt: 'desc' },
        take: query.limit * 4,
        include: { actions: { orderBy: { createdAt: 'asc' } } },
      });
      const items = rows
        .filter((a) => query.mine === 'false' || query.status !== 'pending' || mayDecide(a, caller.user.id, caller.role))
        .slice(0, query.limit)
        .map((a) => ({ ...a, itemIndex: a.itemIndex < 0 ? null : a.itemIndex, canDecide: a.status === 'pending' && mayDecide(a, caller.user.id, caller.role) }));
      return { items };
    },
  });

  api.route({
    method: 'post',
    path: '/api/approvals/:id/decision',
    summary: 'Approve or reject (only members allowed by the current approval step); the final decision resumes the run',
    tags: ['approvals'],
    auth: 'approver',
    errors: [409],
    params: idParam,
    body: z.object({ decision: z.enum(['approve', 'reject']), comment: z.string().max(5000).optional() }),
    handler: async ({ caller, params, body, req, ip }) => {
      const a = await prisma.approvalRequest.findFirst({ where: { id: params.id, workspaceId: caller.workspaceId } });
      if (!a) throw notFound('approval');
      const apply = ctx.deps.applyApprovalDecision ?? nodesApplyDecision;
      let result;
      try {
        result = await apply(prisma, {
          workspaceId: caller.workspaceId,
          approvalId: a.id,
          userId: caller.user.id,
          decision: body.decision === 'approve' ? 'approved' : 'rejected',
          comment: body.comment ?? null,
          publicUrl: ctx.opts.publicUrl,
        });
      } catch (err) {
        if (err instanceof ApprovalError) throw new ApiError(err.httpStatus, err.httpStatus === 404 ? 'NOT_FOUND' : err.httpStatus === 403 ? 'FORBIDDEN' : 'CONFLICT', err.message);
        throw err;
      }
      let resumed: string | null = null;
      if (result.status === 'final') {
        const f = result.final;
        if (f.executionId && f.nodeId) {
          const engine = requireEngine(ctx);
          resumed = await engine.resume(f.executionId, f.nodeId, { decision: f.decision, approverId: f.approverId, comment: f.comment }, f.itemIndex === null || f.itemIndex < 0 ? null : f.itemIndex);
        }
      }
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: `approval.${body.decision}`,
        entityType: 'approval',
        entityId: a.id,
        before: { status: a.status, currentStep: a.currentStep },
        after: { decision: body.decision, comment: body.comment ?? null, final: result.status === 'final' },
      });
      const after = await prisma.approvalRequest.findFirst({ where: { id: a.id, workspaceId: caller.workspaceId } });
      return { status: result.status, approval: after, resumed };
    },
  });
}
