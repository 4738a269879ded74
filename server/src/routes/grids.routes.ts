/**
 * Grids: CRUD with validation and optimistic concurrency, versions (publish, list, get, diff,
 * restore), export/import, webhook trigger info and secret rotation.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { emptyGridDocument, type GridDocument } from '@gridflow/runtime';
import type { Grid } from '@gridflow/db';
import type { ServerContext } from '../context.js';
import { ApiError, conflict, notFound } from '../http/errors.js';
import type { Api } from '../http/route.js';
import { audit } from '../audit.js';
import { diffGrids } from '../grids/diff.js';
import { parseDocument, problemDetails, syncTriggers, validate } from '../grids/publish.js';
import { encryptSecrets } from '../grids/secrets.js';

export const gridIdParam = z.object({ id: z.string().min(1).max(64) });
const versionParam = gridIdParam.extend({ n: z.coerce.number().int().positive('must be a version number (1, 2, …)') });
const diffParam = gridIdParam.extend({
  a: z.union([z.literal('draft'), z.coerce.number().int().positive()]),
  b: z.union([z.literal('draft'), z.coerce.number().int().positive()]),
});

const problemView = z.object({
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
  field: z.string().optional(),
});
const validationView = z.object({ ok: z.boolean(), errors: z.array(problemView), warnings: z.array(problemView) });

const gridSummaryView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  status: z.string(),
  draftVersion: z.number(),
  publishedVersionId: z.string().nullable(),
  publishedVersion: z.number().nullable(),
  publishedAt: z.date().nullable(),
  templateSlug: z.string().nullable(),
  tags: z.array(z.string()),
  createdAt: z.date(),
  updatedAt: z.date(),
});
const gridView = gridSummaryView.extend({ document: z.record(z.string(), z.unknown()) });

const tagsSchema = z.array(z.string().trim().min(1).max(40)).max(20);

/** A grid as the API returns it. */
export function toGridView(g: Grid & { publishedVersion?: { number: number } | null }, withDocument = true) {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    status: g.status,
    draftVersion: g.draftVersion,
    publishedVersionId: g.publishedVersionId,
    publishedVersion: g.publishedVersion?.number ?? null,
    publishedAt: g.publishedAt,
    templateSlug: g.templateSlug,
    tags: g.tags,
    createdAt: g.createdAt,
    updatedAt: g.updatedAt,
    ...(withDocument ? { document: g.document as Record<string, unknown> } : {}),
  };
}

function summarize(v: ReturnType<typeof validate>) {
  return { ok: v.ok, errors: v.errors, warnings: v.warnings };
}

/** `If-Match: "3"` / `If-Match: 3` or `draftVersion` in the body; one is required for a draft write. */
export function expectedVersion(header: string | undefined, bodyVersion: number | undefined): number | undefined {
  if (header !== undefined) {
    const m = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
    if (!m) throw new ApiError(400, 'VALIDATION_FAILED', 'If-Match must be the draft version, e.g. "3"', [{ path: 'header.if-match', message: 'expected a draft version number' }]);
    return Number(m[1]);
  }
  return bodyVersion;
}

export async function loadGrid(ctx: ServerContext, workspaceId: string, id: string) {
  const g = await ctx.db.prisma.grid.findFirst({
    where: { id, workspaceId, archivedAt: null },
    include: { publishedVersion: { select: { number: true } } },
  });
  if (!g) throw notFound('grid');
  return g;
}

export function registerGridRoutes(api: Api, ctx: ServerContext) {
  const { prisma } = ctx.db;

  api.route({
    method: 'get',
    path: '/api/grids',
    summary: 'Grids of the current workspace (without documents)',
    tags: ['grids'],
    auth: 'viewer',
    query: z.object({
      status: z.enum(['draft', 'published']).optional(),
      q: z.string().max(120).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    response: z.object({ items: z.array(gridSummaryView) }),
    handler: async ({ caller, query }) => {
      const grids = await prisma.grid.findMany({
        where: {
          workspaceId: caller.workspaceId,
          archivedAt: null,
          ...(query.status ? { status: query.status } : {}),
          ...(query.q ? { name: { contains: query.q, mode: 'insensitive' as const } } : {}),
        },
        include: { publishedVersion: { select: { number: true } } },
        orderBy: { updatedAt: 'desc' },
        take: query.limit,
      });
      return { items: grids.map((g) => toGridView(g, false)) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/grids',
    summary: 'Create a draft grid (validation problems are reported, not refused)',
    tags: ['grids'],
    auth: 'editor',
    status: 201,
    body: z.object({
      name: z.string().trim().min(1, 'is required').max(200),
      description: z.string().max(2000).optional(),
      document: z.unknown().optional(),
      tags: tagsSchema.optional(),
    }),
    response: z.object({ grid: gridView, validation: validationView }),
    handler: async ({ body, caller, req, ip }) => {
      const doc = encryptSecrets(body.document === undefined ? emptyGridDocument() : parseDocument(body.document), ctx.registry, ctx.crypto);
      const grid = await prisma.grid.create({
        data: {
          workspaceId: caller.workspaceId,
          name: body.name,
          description: body.description ?? null,
          document: doc as object,
          settings: doc.settings as object,
          tags: body.tags ?? [],
          createdById: caller.user.id,
          updatedById: caller.user.id,
        },
      });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'grid.create', entityType: 'grid', entityId: grid.id, after: { name: grid.name } });
      return { grid: toGridView(grid), validation: summarize(validate(doc, ctx.registry)) };
    },
  });

  api.route({
    method: 'get',
    path: '/api/grids/:id',
    summary: 'A grid with its draft document and current validation problems',
    tags: ['grids'],
    auth: 'viewer',
    params: gridIdParam,
    response: z.object({ grid: gridView, validation: validationView }),
    handler: async ({ caller, params, res }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      res.setHeader('ETag', `"${g.draftVersion}"`);
      return { grid: toGridView(g), validation: summarize(validate(g.document, ctx.registry)) };
    },
  });

  api.route({
    method: 'put',
    path: '/api/grids/:id',
    summary: 'Save the draft. Send If-Match: "<draftVersion>" (or draftVersion in the body); a stale version is a 409',
    tags: ['grids'],
    auth: 'editor',
    errors: [409],
    params: gridIdParam,
    body: z.object({
      name: z.string().trim().min(1).max(200).optional(),
      description: z.string().max(2000).nullable().optional(),
      document: z.unknown().optional(),
      tags: tagsSchema.optional(),
      draftVersion: z.number().int().positive().optional(),
    }),
    response: z.object({ grid: gridView, validation: validationView }),
    handler: async ({ caller, params, body, req, res, ip }) => {
      const expected = expectedVersion(req.headers['if-match'], body.draftVersion);
      if (expected === undefined) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'Name the draft version you edited: If-Match header or draftVersion', [
          { path: 'body.draftVersion', message: 'required (or send If-Match)' },
        ]);
      }
      const doc = body.document === undefined ? undefined : encryptSecrets(parseDocument(body.document), ctx.registry, ctx.crypto);
      const before = await loadGrid(ctx, caller.workspaceId, params.id);
      const r = await prisma.grid.updateMany({
        where: { id: params.id, workspaceId: caller.workspaceId, archivedAt: null, draftVersion: expected },
        data: {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.tags !== undefined ? { tags: body.tags } : {}),
          ...(doc ? { document: doc as object, settings: doc.settings as object } : {}),
          updatedById: caller.user.id,
          draftVersion: { increment: 1 },
        },
      });
      if (!r.count) {
        throw conflict(`The draft changed since version ${expected} (now ${before.draftVersion}): reload and re-apply your changes`, {
          currentDraftVersion: before.draftVersion,
        });
      }
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'grid.update',
        entityType: 'grid',
        entityId: g.id,
        before: { name: before.name, draftVersion: before.draftVersion },
        after: { name: g.name, draftVersion: g.draftVersion, documentChanged: !!doc },
      });
      res.setHeader('ETag', `"${g.draftVersion}"`);
      return { grid: toGridView(g), validation: summarize(validate(g.document, ctx.registry)) };
    },
  });

  api.route({
    method: 'delete',
    path: '/api/grids/:id',
    summary: 'Delete (archive) a grid: its triggers stop; past executions stay readable by id',
    tags: ['grids'],
    auth: 'editor',
    status: 204,
    params: gridIdParam,
    handler: async ({ caller, params, req, ip }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      await prisma.$transaction(async (tx) => {
        await tx.grid.update({ where: { id: g.id }, data: { status: 'archived', archivedAt: new Date() } });
        await tx.webhookTrigger.updateMany({ where: { gridId: g.id, workspaceId: caller.workspaceId }, data: { isActive: false } });
        await tx.schedule.updateMany({ where: { gridId: g.id, workspaceId: caller.workspaceId }, data: { isActive: false } });
        await audit(tx, { caller, req, ip }, caller.workspaceId, { action: 'grid.delete', entityType: 'grid', entityId: g.id, before: { name: g.name } });
      });
      ctx.triggers.invalidateGrid(g.id);
      return undefined;
    },
  });

  // ------------------------------------------------------------ versions

  const versionSummary = z.object({
    id: z.string(),
    number: z.number(),
    note: z.string().nullable(),
    publishedById: z.string().nullable(),
    publishedAt: z.date(),
    current: z.boolean(),
  });

  api.route({
    method: 'post',
    path: '/api/grids/:id/versions',
    summary: 'Publish the draft as immutable version n (refused while it has validation errors); syncs webhook and schedule triggers',
    tags: ['versions'],
    auth: 'editor',
    status: 201,
    errors: [409],
    params: gridIdParam,
    body: z.object({ note: z.string().max(2000).optional(), draftVersion: z.number().int().positive().optional() }),
    response: z.object({
      version: versionSummary,
      webhooks: z.array(z.object({ nodeId: z.string(), path: z.string(), url: z.string(), secret: z.string().optional() })),
    }),
    handler: async ({ caller, params, body, req, ip }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const expected = expectedVersion(req.headers['if-match'], body.draftVersion);
      if (expected !== undefined && expected !== g.draftVersion) {
        throw conflict(`The draft changed since version ${expected} (now ${g.draftVersion})`, { currentDraftVersion: g.draftVersion });
      }
      const v = validate(g.document, ctx.registry);
      if (!v.ok || !v.document) {
        throw new ApiError(400, 'VALIDATION_FAILED', `The draft has ${v.errors.length} problem(s); fix them before publishing`, problemDetails(v.errors));
      }
      const doc = v.document;
      const ws = await prisma.workspace.findUniqueOrThrow({ where: { id: caller.workspaceId }, select: { slug: true } });
      let result;
      try {
        result = await prisma.$transaction(async (tx) => {
          // Row lock: concurrent publishes of one grid get consecutive numbers.
          await tx.$queryRaw`SELECT id FROM grids WHERE id = ${g.id} FOR UPDATE`;
          const last = await tx.gridVersion.findFirst({ where: { gridId: g.id }, orderBy: { number: 'desc' }, select: { number: true } });
          const version = await tx.gridVersion.create({
            data: {
              workspaceId: caller.workspaceId,
              gridId: g.id,
              number: (last?.number ?? 0) + 1,
              document: doc as object,
              settings: doc.settings as object,
              note: body.note ?? null,
              publishedById: caller.user.id,
            },
          });
          await tx.grid.update({ where: { id: g.id }, data: { publishedVersionId: version.id, publishedAt: version.publishedAt, status: 'published' } });
          const webhooks = await syncTriggers(tx, ctx.crypto, { id: g.id, workspaceId: caller.workspaceId }, ws.slug, doc);
          await audit(tx, { caller, req, ip }, caller.workspaceId, {
            action: 'grid.publish',
            entityType: 'grid',
            entityId: g.id,
            after: { version: version.number, note: version.note, webhooks: webhooks.map((w) => w.path) },
          });
          return { version, webhooks };
        });
      } finally {
        ctx.triggers.invalidateGrid(g.id);
      }
      const { version, webhooks } = result;
      return {
        version: { id: version.id, number: version.number, note: version.note, publishedById: version.publishedById, publishedAt: version.publishedAt, current: true },
        webhooks: webhooks.map((w) => ({ ...w, url: `${ctx.opts.publicUrl}/hooks/${w.path}` })),
      };
    },
  });

  api.route({
    method: 'get',
    path: '/api/grids/:id/versions',
    summary: 'Published versions, newest first',
    tags: ['versions'],
    auth: 'viewer',
    params: gridIdParam,
    response: z.object({ items: z.array(versionSummary) }),
    handler: async ({ caller, params }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const vs = await prisma.gridVersion.findMany({
        where: { gridId: g.id, workspaceId: caller.workspaceId },
        orderBy: { number: 'desc' },
        select: { id: true, number: true, note: true, publishedById: true, publishedAt: true },
      });
      return { items: vs.map((v) => ({ ...v, current: v.id === g.publishedVersionId })) };
    },
  });

  async function loadVersion(workspaceId: string, gridId: string, n: number) {
    const v = await prisma.gridVersion.findFirst({ where: { gridId, workspaceId, number: n } });
    if (!v) throw notFound(`version ${n}`);
    return v;
  }

  api.route({
    method: 'get',
    path: '/api/grids/:id/versions/:n',
    summary: 'One published version with its document',
    tags: ['versions'],
    auth: 'viewer',
    params: versionParam,
    response: versionSummary.extend({ document: z.record(z.string(), z.unknown()) }),
    handler: async ({ caller, params }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const v = await loadVersion(caller.workspaceId, g.id, params.n);
      return { id: v.id, number: v.number, note: v.note, publishedById: v.publishedById, publishedAt: v.publishedAt, current: v.id === g.publishedVersionId, document: v.document as Record<string, unknown> };
    },
  });

  api.route({
    method: 'get',
    path: '/api/grids/:id/versions/:a/diff/:b',
    summary: 'What changed from version a to version b (either may be "draft"): nodes, edges, config fields, settings',
    tags: ['versions'],
    auth: 'viewer',
    params: diffParam,
    handler: async ({ caller, params }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const docOf = async (x: 'draft' | number) => parseDocument(x === 'draft' ? g.document : (await loadVersion(caller.workspaceId, g.id, x)).document, `version.${x}`);
      return { a: params.a, b: params.b, ...diffGrids(await docOf(params.a), await docOf(params.b)) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/grids/:id/versions/:n/restore',
    summary: 'Draft := version n (honours If-Match / draftVersion when given)',
    tags: ['versions'],
    auth: 'editor',
    errors: [409],
    params: versionParam,
    body: z.object({ draftVersion: z.number().int().positive().optional() }),
    response: z.object({ grid: gridView, validation: validationView }),
    handler: async ({ caller, params, body, req, res, ip }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const v = await loadVersion(caller.workspaceId, g.id, params.n);
      const expected = expectedVersion(req.headers['if-match'], body.draftVersion) ?? g.draftVersion;
      const r = await prisma.grid.updateMany({
        where: { id: g.id, workspaceId: caller.workspaceId, draftVersion: expected },
        data: { document: v.document as object, settings: v.settings as object, draftVersion: { increment: 1 }, updatedById: caller.user.id },
      });
      if (!r.count) throw conflict(`The draft changed since version ${expected}`, { currentDraftVersion: g.draftVersion });
      const after = await loadGrid(ctx, caller.workspaceId, g.id);
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'grid.restore',
        entityType: 'grid',
        entityId: g.id,
        before: { draftVersion: g.draftVersion },
        after: { draftVersion: after.draftVersion, restoredVersion: v.number },
      });
      res.setHeader('ETag', `"${after.draftVersion}"`);
      return { grid: toGridView(after), validation: summarize(validate(after.document, ctx.registry)) };
    },
  });

  // ------------------------------------------------------------ export / import

  api.route({
    method: 'get',
    path: '/api/grids/:id/export',
    summary: 'The draft as a portable JSON file (template format: name, description, tags, document)',
    tags: ['grids'],
    auth: 'viewer',
    params: gridIdParam,
    query: z.object({ version: z.coerce.number().int().positive().optional() }),
    handler: async ({ caller, params, query, res }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const document = query.version ? (await loadVersion(caller.workspaceId, g.id, query.version)).document : g.document;
      const slug = g.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'grid';
      res.setHeader('Content-Disposition', `attachment; filename="${slug}.gridflow.json"`);
      return { format: 'gridflow.grid', formatVersion: 1, name: g.name, description: g.description ?? '', tags: g.tags, exportedAt: new Date().toISOString(), document };
    },
  });

  api.route({
    method: 'post',
    path: '/api/grids/import',
    summary: 'Create a draft grid from an exported file, a template file or a bare grid document',
    tags: ['grids'],
    auth: 'editor',
    status: 201,
    body: z.union([
      z.object({
        name: z.string().trim().min(1).max(200).optional(),
        title: z.string().trim().min(1).max(200).optional(),
        description: z.string().max(2000).optional(),
        tags: tagsSchema.optional(),
        document: z.unknown(),
      }),
      z.object({ schemaVersion: z.number(), nodes: z.array(z.unknown()), edges: z.array(z.unknown()) }).loose(),
    ]),
    response: z.object({ grid: gridView, validation: validationView }),
    handler: async ({ caller, body, req, ip }) => {
      const wrapped = 'document' in body;
      const doc: GridDocument = encryptSecrets(parseDocument(wrapped ? body.document : body, wrapped ? 'body.document' : 'body'), ctx.registry, ctx.crypto);
      const meta = wrapped ? (body as { name?: string; title?: string; description?: string; tags?: string[] }) : {};
      const grid = await prisma.grid.create({
        data: {
          workspaceId: caller.workspaceId,
          name: meta.name ?? meta.title ?? 'Imported grid',
          description: meta.description ?? null,
          tags: meta.tags ?? [],
          document: doc as object,
          settings: doc.settings as object,
          createdById: caller.user.id,
          updatedById: caller.user.id,
        },
      });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'grid.import', entityType: 'grid', entityId: grid.id, after: { name: grid.name } });
      return { grid: toGridView(grid), validation: summarize(validate(doc, ctx.registry)) };
    },
  });

  // ------------------------------------------------------------ webhook triggers

  const webhookView = z.object({
    nodeId: z.string(),
    path: z.string(),
    url: z.string(),
    isActive: z.boolean(),
    signed: z.boolean(),
    lastReceivedAt: z.date().nullable(),
  });

  api.route({
    method: 'get',
    path: '/api/grids/:id/webhooks',
    summary: 'Webhook URLs of the published version (secrets are never shown again)',
    tags: ['webhooks'],
    auth: 'viewer',
    params: gridIdParam,
    response: z.object({ items: z.array(webhookView) }),
    handler: async ({ caller, params }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const ts = await prisma.webhookTrigger.findMany({ where: { gridId: g.id, workspaceId: caller.workspaceId }, orderBy: { createdAt: 'asc' } });
      return {
        items: ts.map((t) => ({
          nodeId: t.nodeId,
          path: t.path,
          url: `${ctx.opts.publicUrl}/hooks/${t.path}`,
          isActive: t.isActive,
          signed: !!t.secretEncrypted,
          lastReceivedAt: t.lastReceivedAt,
        })),
      };
    },
  });

  api.route({
    method: 'post',
    path: '/api/grids/:id/webhooks/:nodeId/secret',
    summary: "Rotate a webhook trigger's HMAC secret; the new secret is returned once",
    tags: ['webhooks'],
    auth: 'editor',
    params: gridIdParam.extend({ nodeId: z.string().min(1).max(64) }),
    response: z.object({ nodeId: z.string(), secret: z.string() }),
    handler: async ({ caller, params, req, ip }) => {
      const g = await loadGrid(ctx, caller.workspaceId, params.id);
      const t = await prisma.webhookTrigger.findFirst({ where: { gridId: g.id, nodeId: params.nodeId, workspaceId: caller.workspaceId } });
      if (!t) throw notFound('webhook trigger (publish the grid first)');
      const secret = randomBytes(24).toString('hex');
      await prisma.webhookTrigger.update({ where: { id: t.id }, data: { secretEncrypted: ctx.crypto.encrypt(secret, `webhook_trigger:${t.id}`) } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'webhook.rotate_secret', entityType: 'webhook_trigger', entityId: t.id, after: { path: t.path } });
      ctx.triggers.invalidateGrid(g.id);
      return { nodeId: t.nodeId, secret };
    },
  });
}
