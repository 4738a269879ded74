/**
 * Workspaces, members (add/invite by email, change role, remove) and API keys.
 * Member and key routes act on the current workspace (X-Workspace-Id or the session's).
 */
import { z } from 'zod';
import type { ServerContext } from '../context.js';
import { ApiError, conflict, forbidden, notFound } from '../http/errors.js';
import { ROLES, SCOPES, hasRole, type Api, type Role } from '../http/route.js';
import { audit } from '../audit.js';
import { newApiKey } from '../auth/tokens.js';
import { createWorkspaceData, emailSchema, workspaceView } from './auth.routes.js';

const roleSchema = z.enum(ROLES);
const idParam = z.object({ id: z.string().min(1).max(64) });
const userIdParam = z.object({ userId: z.string().min(1).max(64) });

const memberView = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  joinedAt: z.date(),
  invited: z.boolean(),
});

const apiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  role: roleSchema,
  createdById: z.string().nullable(),
  lastUsedAt: z.date().nullable(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  createdAt: z.date(),
});

export function registerWorkspaceRoutes(api: Api, ctx: ServerContext) {
  const { prisma } = ctx.db;

  api.route({
    method: 'get',
    path: '/api/workspaces',
    summary: 'Workspaces the caller belongs to',
    tags: ['workspaces'],
    auth: 'user',
    response: z.object({ items: z.array(workspaceView) }),
    handler: async ({ caller }) => {
      const ms = await prisma.membership.findMany({
        where: { userId: caller.user.id, workspace: { isActive: true }, ...(caller.via === 'apiKey' ? { workspaceId: caller.workspaceId! } : {}) },
        include: { workspace: true },
        orderBy: { joinedAt: 'asc' },
      });
      return { items: ms.map((m) => ({ id: m.workspace.id, name: m.workspace.name, slug: m.workspace.slug, role: m.role })) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/workspaces',
    summary: 'Create a workspace (the caller becomes its owner)',
    tags: ['workspaces'],
    auth: 'user',
    status: 201,
    body: z.object({ name: z.string().trim().min(1, 'is required').max(120) }),
    response: workspaceView,
    handler: async ({ body, caller, req, ip }) => {
      if (caller.via === 'apiKey') throw forbidden('API keys cannot create workspaces');
      const ws = await prisma.$transaction(async (tx) => {
        const ws = await tx.workspace.create({ data: createWorkspaceData(body.name) });
        await tx.membership.create({ data: { workspaceId: ws.id, userId: caller.user.id, role: 'owner' } });
        await audit(tx, { caller, req, ip }, ws.id, { action: 'workspace.create', entityType: 'workspace', entityId: ws.id, after: { name: ws.name, slug: ws.slug } });
        return ws;
      });
      return { id: ws.id, name: ws.name, slug: ws.slug, role: 'owner' };
    },
  });

  api.route({
    method: 'patch',
    path: '/api/workspaces/current',
    summary: 'Rename the current workspace or change its settings',
    tags: ['workspaces'],
    auth: 'admin',
    scope: 'admin',
    body: z.object({ name: z.string().trim().min(1).max(120).optional(), settings: z.record(z.string(), z.unknown()).optional() }),
    response: workspaceView,
    handler: async ({ body, caller, req, ip }) => {
      const before = await prisma.workspace.findUniqueOrThrow({ where: { id: caller.workspaceId } });
      const ws = await prisma.workspace.update({
        where: { id: caller.workspaceId },
        data: { ...(body.name ? { name: body.name } : {}), ...(body.settings ? { settings: body.settings as object } : {}) },
      });
      await audit(prisma, { caller, req, ip }, ws.id, {
        action: 'workspace.update',
        entityType: 'workspace',
        entityId: ws.id,
        before: { name: before.name, settings: before.settings },
        after: { name: ws.name, settings: ws.settings },
      });
      return { id: ws.id, name: ws.name, slug: ws.slug, role: caller.role };
    },
  });

  // ------------------------------------------------------------ members

  const toMember = (m: { userId: string; role: string; joinedAt: Date; user: { email: string; name: string; passwordHash: string | null } }) => ({
    userId: m.userId,
    email: m.user.email,
    name: m.user.name,
    role: m.role as Role,
    joinedAt: m.joinedAt,
    invited: m.user.passwordHash === null,
  });

  api.route({
    method: 'get',
    path: '/api/members',
    summary: 'Members of the current workspace',
    tags: ['workspaces'],
    auth: 'viewer',
    response: z.object({ items: z.array(memberView) }),
    handler: async ({ caller }) => {
      const ms = await prisma.membership.findMany({ where: { workspaceId: caller.workspaceId }, include: { user: true }, orderBy: { joinedAt: 'asc' } });
      return { items: ms.map(toMember) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/members',
    summary: 'Add a member by email (an unknown email is invited: the person claims the account by signing up)',
    tags: ['workspaces'],
    auth: 'admin',
    scope: 'admin',
    status: 201,
    errors: [409],
    body: z.object({ email: emailSchema, role: roleSchema, name: z.string().trim().min(1).max(120).optional() }),
    response: memberView,
    handler: async ({ body, caller, req, ip }) => {
      if (body.role === 'owner' && caller.role !== 'owner') throw forbidden('Only an owner can add another owner');
      const m = await prisma.$transaction(async (tx) => {
        const user =
          (await tx.user.findUnique({ where: { email: body.email } })) ??
          (await tx.user.create({ data: { email: body.email, name: body.name ?? body.email.split('@')[0]!, passwordHash: null } }));
        const exists = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: caller.workspaceId, userId: user.id } } });
        if (exists) throw conflict('This person is already a member', { field: 'email' });
        const m = await tx.membership.create({
          data: { workspaceId: caller.workspaceId, userId: user.id, role: body.role, invitedById: caller.user.id },
          include: { user: true },
        });
        await audit(tx, { caller, req, ip }, caller.workspaceId, {
          action: 'member.add',
          entityType: 'membership',
          entityId: m.id,
          after: { email: user.email, role: m.role },
        });
        return m;
      });
      return toMember(m);
    },
  });

  async function loadMember(workspaceId: string, userId: string) {
    const m = await prisma.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } }, include: { user: true } });
    if (!m) throw notFound('member');
    return m;
  }

  async function assertNotLastOwner(workspaceId: string) {
    const owners = await prisma.membership.count({ where: { workspaceId, role: 'owner' } });
    if (owners <= 1) throw conflict('A workspace needs at least one owner');
  }

  api.route({
    method: 'patch',
    path: '/api/members/:userId',
    summary: "Change a member's role",
    tags: ['workspaces'],
    auth: 'admin',
    scope: 'admin',
    errors: [409],
    params: userIdParam,
    body: z.object({ role: roleSchema }),
    response: memberView,
    handler: async ({ params, body, caller, req, ip }) => {
      const m = await loadMember(caller.workspaceId, params.userId);
      if ((m.role === 'owner' || body.role === 'owner') && caller.role !== 'owner') throw forbidden('Only an owner can grant or take away the owner role');
      if (m.role === 'owner' && body.role !== 'owner') await assertNotLastOwner(caller.workspaceId);
      const updated = await prisma.membership.update({ where: { id: m.id }, data: { role: body.role }, include: { user: true } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'member.role',
        entityType: 'membership',
        entityId: m.id,
        before: { email: m.user.email, role: m.role },
        after: { email: m.user.email, role: updated.role },
      });
      return toMember(updated);
    },
  });

  api.route({
    method: 'delete',
    path: '/api/members/:userId',
    summary: 'Remove a member from the current workspace',
    tags: ['workspaces'],
    auth: 'admin',
    scope: 'admin',
    status: 204,
    errors: [409],
    params: userIdParam,
    handler: async ({ params, caller, req, ip }) => {
      const m = await loadMember(caller.workspaceId, params.userId);
      if (m.role === 'owner') {
        if (caller.role !== 'owner') throw forbidden('Only an owner can remove an owner');
        await assertNotLastOwner(caller.workspaceId);
      }
      await prisma.$transaction(async (tx) => {
        await tx.membership.delete({ where: { id: m.id } });
        // Their sessions must not keep acting in this workspace.
        await tx.session.deleteMany({ where: { userId: m.userId, workspaceId: caller.workspaceId } });
        await audit(tx, { caller, req, ip }, caller.workspaceId, {
          action: 'member.remove',
          entityType: 'membership',
          entityId: m.id,
          before: { email: m.user.email, role: m.role },
        });
      });
      return undefined;
    },
  });

  // ------------------------------------------------------------ API keys

  api.route({
    method: 'get',
    path: '/api/api-keys',
    summary: 'API keys of the current workspace (never the secret)',
    tags: ['api-keys'],
    auth: 'admin',
    scope: 'admin',
    response: z.object({ items: z.array(apiKeyView) }),
    handler: async ({ caller }) => {
      const keys = await prisma.apiKey.findMany({ where: { workspaceId: caller.workspaceId }, orderBy: { createdAt: 'desc' } });
      return { items: keys.map(({ keyHash: _h, workspaceId: _w, ...k }) => ({ ...k, role: k.role as Role })) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/api-keys',
    summary: 'Create an API key; the key is returned once and only its hash is stored',
    tags: ['api-keys'],
    auth: 'admin',
    scope: 'admin',
    status: 201,
    body: z.object({
      name: z.string().trim().min(1, 'is required').max(120),
      scopes: z.array(z.enum(SCOPES)).min(1, 'needs at least one scope').default(['read', 'write']),
      role: roleSchema.default('editor'),
      expiresAt: z.coerce.date().optional(),
    }),
    response: z.object({ apiKey: apiKeyView, key: z.string() }),
    handler: async ({ body, caller, req, ip }) => {
      if (!hasRole(caller.role, body.role)) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'A key cannot have a higher role than its creator', [{ path: 'body.role', message: `at most ${caller.role}` }]);
      }
      if (body.expiresAt && body.expiresAt.getTime() <= Date.now()) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'Invalid body: body.expiresAt', [{ path: 'body.expiresAt', message: 'must be in the future' }]);
      }
      const { key, prefix, keyHash } = newApiKey();
      const created = await prisma.apiKey.create({
        data: {
          workspaceId: caller.workspaceId,
          name: body.name,
          prefix: `gfk_${prefix}`,
          keyHash,
          scopes: [...new Set(body.scopes)],
          role: body.role,
          createdById: caller.user.id,
          expiresAt: body.expiresAt ?? null,
        },
      });
      const { keyHash: _h, workspaceId: _w, ...view } = created;
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'api_key.create', entityType: 'api_key', entityId: created.id, after: view });
      return { apiKey: { ...view, role: view.role as Role }, key };
    },
  });

  api.route({
    method: 'delete',
    path: '/api/api-keys/:id',
    summary: 'Revoke an API key',
    tags: ['api-keys'],
    auth: 'admin',
    scope: 'admin',
    status: 204,
    params: idParam,
    handler: async ({ params, caller, req, ip }) => {
      const key = await prisma.apiKey.findFirst({ where: { id: params.id, workspaceId: caller.workspaceId } });
      if (!key) throw notFound('API key');
      await prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: key.revokedAt ?? new Date() } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'api_key.revoke',
        entityType: 'api_key',
        entityId: key.id,
        before: { name: key.name, prefix: key.prefix },
      });
      return undefined;
    },
  });

  // ------------------------------------------------------------ notifications and audit

  api.route({
    method: 'get',
    path: '/api/notifications',
    summary: "The caller's notifications in the current workspace (newest first)",
    tags: ['notifications'],
    auth: 'viewer',
    query: z.object({ unread: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
    handler: async ({ caller, query }) => {
      const items = await prisma.notification.findMany({
        where: { workspaceId: caller.workspaceId, userId: caller.user.id, ...(query.unread === 'true' ? { readAt: null } : {}) },
        orderBy: { createdAt: 'desc' },
        take: query.limit,
      });
      return { items };
    },
  });

  api.route({
    method: 'post',
    path: '/api/notifications/:id/read',
    summary: 'Mark a notification read',
    tags: ['notifications'],
    auth: 'viewer',
    scope: 'read',
    status: 204,
    params: idParam,
    handler: async ({ caller, params }) => {
      const r = await prisma.notification.updateMany({
        where: { id: params.id, workspaceId: caller.workspaceId, userId: caller.user.id },
        data: { readAt: new Date() },
      });
      if (!r.count) throw notFound('notification');
      return undefined;
    },
  });

  api.route({
    method: 'get',
    path: '/api/audit',
    summary: 'Audit log of the current workspace (newest first, cursor-paginated)',
    tags: ['audit'],
    auth: 'admin',
    scope: 'admin',
    query: z.object({
      entityType: z.string().max(64).optional(),
      entityId: z.string().max(64).optional(),
      action: z.string().max(64).optional(),
      cursor: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    handler: async ({ caller, query }) => {
      const cur = decodeCursor(query.cursor, 'query.cursor');
      const items = await prisma.auditLog.findMany({
        where: {
          workspaceId: caller.workspaceId,
          ...(query.entityType ? { entityType: query.entityType } : {}),
          ...(query.entityId ? { entityId: query.entityId } : {}),
          ...(query.action ? { action: query.action } : {}),
          ...(cur ? { OR: [{ createdAt: { lt: cur.at } }, { createdAt: cur.at, id: { lt: cur.id } }] } : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
      });
      const page = items.slice(0, query.limit);
      const last = page[page.length - 1];
      return { items: page, nextCursor: items.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
    },
  });
}

// Keyset pagination over (createdAt desc, id desc): the cursor is the last row's pair.
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, path: string): { at: Date; id: string } | null {
  if (!cursor) return null;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const i = raw.indexOf('|');
  const at = new Date(raw.slice(0, i));
  if (i < 0 || Number.isNaN(at.getTime())) throw new ApiError(400, 'VALIDATION_FAILED', `Invalid ${path}`, [{ path, message: 'not a cursor from a previous page' }]);
  return { at, id: raw.slice(i + 1) };
}
