/**
 * Templates (gallery, install as a new draft grid) and node type descriptions for the editor.
 */
import { z } from 'zod';
import type { NodeRegistry } from '@gridflow/runtime';
import type { ServerContext } from '../context.js';
import type { TemplateDefinition } from '../deps.js';
import { notFound } from '../http/errors.js';
import type { Api } from '../http/route.js';
import { audit } from '../audit.js';
import { parseDocument, validate } from '../grids/publish.js';
import { toGridView } from './grids.routes.js';
import { applySetup, missingSetup, SetupError } from '@gridflow/templates/setup';
import { ApiError } from '../http/errors.js';
import { encryptSecrets } from '../grids/secrets.js';

const stable = (v: unknown) => JSON.stringify(v);

/**
 * Upserts the shipped templates (built-in: workspaceId null). A row is rewritten only when its
 * templateVersion (kept in `settings`) changed, so install counts and ids survive restarts.
 */
export async function syncTemplates(ctx: ServerContext, templates: TemplateDefinition[]): Promise<{ created: number; updated: number }> {
  const { prisma } = ctx.db;
  let created = 0;
  let updated = 0;
  for (const t of templates) {
    const settings = { templateVersion: t.templateVersion, requirements: t.requirements ?? null };
    const data = {
      name: t.title,
      description: t.description,
      category: t.category,
      document: t.document as object,
      tags: t.tags,
      previewImageUrl: t.previewImageUrl ?? null,
      settings,
    };
    const existing = await prisma.template.findUnique({ where: { slug: t.slug } });
    if (!existing) {
      await prisma.template.create({ data: { slug: t.slug, workspaceId: null, ...data } });
      created++;
    } else if (existing.workspaceId === null && stable((existing.settings as { templateVersion?: unknown }).templateVersion) !== stable(t.templateVersion)) {
      await prisma.template.update({ where: { id: existing.id }, data });
      updated++;
    }
  }
  ctx.log.info({ created, updated, total: templates.length }, 'templates synced');
  return { created, updated };
}

/** Local fallback of @gridflow/nodes' describeNodeTypes: JSON Schema of each config, ports, UI metadata. */
export function describeRegistry(registry: NodeRegistry) {
  return registry.list().map((t) => {
    let configSchema: unknown;
    try {
      configSchema = z.toJSONSchema(t.configSchema, { io: 'input', unrepresentable: 'any' });
    } catch {
      configSchema = { type: 'object' };
    }
    return {
      type: t.type,
      version: t.version,
      label: t.label,
      description: t.description,
      icon: t.icon,
      category: t.category,
      isTrigger: !!t.isTrigger,
      inputs: t.inputs,
      outputs: t.outputs,
      rawFields: t.rawFields ?? [],
      configSchema,
    };
  });
}

const templateView = (t: {
  id: string;
  slug: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  previewImageUrl: string | null;
  isFeatured: boolean;
  installCount: number;
  settings: unknown;
  workspaceId: string | null;
}) => ({
  id: t.id,
  slug: t.slug,
  title: t.name,
  description: t.description,
  category: t.category,
  tags: t.tags,
  previewImageUrl: t.previewImageUrl,
  isFeatured: t.isFeatured,
  installCount: t.installCount,
  builtIn: t.workspaceId === null,
  templateVersion: (t.settings as { templateVersion?: unknown } | null)?.templateVersion ?? null,
  requirements: (t.settings as { requirements?: unknown } | null)?.requirements ?? null,
});

export function registerTemplateRoutes(api: Api, ctx: ServerContext) {
  const { prisma } = ctx.db;
  const visible = (workspaceId: string) => ({ OR: [{ workspaceId: null }, { workspaceId }] });

  api.route({
    method: 'get',
    path: '/api/templates',
    summary: 'Template gallery: built-in and this workspace’s templates, filtered by category and search',
    tags: ['templates'],
    auth: 'viewer',
    query: z.object({ category: z.string().max(80).optional(), q: z.string().max(200).optional() }),
    handler: async ({ caller, query }) => {
      const rows = await prisma.template.findMany({
        where: {
          AND: [
            visible(caller.workspaceId),
            ...(query.category ? [{ category: query.category }] : []),
            ...(query.q
              ? [{ OR: [{ name: { contains: query.q, mode: 'insensitive' as const } }, { description: { contains: query.q, mode: 'insensitive' as const } }, { tags: { has: query.q.toLowerCase() } }] }]
              : []),
          ],
        },
        orderBy: [{ isFeatured: 'desc' }, { name: 'asc' }],
      });
      return { items: rows.map(templateView) };
    },
  });

  async function loadTemplate(workspaceId: string, slug: string) {
    const t = await prisma.template.findFirst({ where: { slug, ...visible(workspaceId) } });
    if (!t) throw notFound('template');
    return t;
  }

  api.route({
    method: 'get',
    path: '/api/templates/:slug',
    summary: 'One template with its document (for the read-only preview)',
    tags: ['templates'],
    auth: 'viewer',
    params: z.object({ slug: z.string().min(1).max(120) }),
    handler: async ({ caller, params }) => {
      const t = await loadTemplate(caller.workspaceId, params.slug);
      return { ...templateView(t), document: t.document };
    },
  });

  api.route({
    method: 'post',
    path: '/api/templates/:slug/install',
    summary: 'Install a template as a new draft grid, applying setup answers (checklist item id → value); returns the grid, its validation and what is still to fill in',
    tags: ['templates'],
    auth: 'editor',
    status: 201,
    params: z.object({ slug: z.string().min(1).max(120) }),
    body: z.object({ name: z.string().trim().min(1).max(200).optional(), answers: z.record(z.string(), z.unknown()).default({}) }),
    handler: async ({ caller, params, body, req, ip }) => {
      const t = await loadTemplate(caller.workspaceId, params.slug);
      const setupChecklist = ((t.settings as { requirements?: { setupChecklist?: unknown } } | null)?.requirements?.setupChecklist ?? []) as Parameters<typeof applySetup>[0]['setupChecklist'];
      let raw: unknown = t.document;
      try {
        raw = applySetup({ document: parseDocument(t.document, 'template.document'), setupChecklist }, body.answers, { allowIncomplete: true });
      } catch (err) {
        if (err instanceof SetupError) throw new ApiError(400, 'VALIDATION_FAILED', err.message, [{ path: `body.answers.${err.itemId}`, message: err.message }]);
        throw err;
      }
      const doc = encryptSecrets(parseDocument(raw, 'template.document'), ctx.registry, ctx.crypto);
      const missing = missingSetup({ setupChecklist }, body.answers);
      const grid = await prisma.$transaction(async (tx) => {
        const grid = await tx.grid.create({
          data: {
            workspaceId: caller.workspaceId,
            name: body.name ?? t.name,
            description: t.description,
            document: doc as object,
            settings: doc.settings as object,
            tags: t.tags,
            templateSlug: t.slug,
            createdById: caller.user.id,
            updatedById: caller.user.id,
          },
        });
        await tx.template.update({ where: { id: t.id }, data: { installCount: { increment: 1 } } });
        await audit(tx, { caller, req, ip }, caller.workspaceId, { action: 'template.install', entityType: 'grid', entityId: grid.id, after: { template: t.slug, name: grid.name } });
        return grid;
      });
      return { grid: toGridView(grid), validation: validate(doc, ctx.registry), requirements: templateView(t).requirements, missingSetup: missing };
    },
  });

  api.route({
    method: 'get',
    path: '/api/node-types',
    summary: "Every node type: config JSON Schema, ports and UI metadata (the editor's forms)",
    tags: ['node-types'],
    auth: 'viewer',
    handler: async () => {
      const items = ctx.deps.describeNodeTypes ? ctx.deps.describeNodeTypes(ctx.registry) : describeRegistry(ctx.registry);
      return { items };
    },
  });
}
