/**
 * Sign-up, login/logout (httpOnly SameSite=Lax session cookie), `GET /api/me`, workspace switch.
 */
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ServerContext } from '../context.js';
import { ApiError, conflict, notFound, unauthenticated } from '../http/errors.js';
import type { Api } from '../http/route.js';
import { audit } from '../audit.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../auth/password.js';
import { newSessionToken, SESSION_COOKIE, SESSION_TTL_MS, sha256Hex } from '../auth/tokens.js';

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }));
const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters');

export const workspaceView = z.object({ id: z.string(), name: z.string(), slug: z.string(), role: z.string() });
export const userView = z.object({ id: z.string(), email: z.string(), name: z.string() });

export function slugify(name: string): string {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${base || 'workspace'}-${randomBytes(3).toString('hex')}`;
}

export function createWorkspaceData(name: string) {
  return { name, slug: slugify(name) };
}

async function startSession(ctx: ServerContext, req: Request, res: Response, userId: string, workspaceId: string) {
  const { token, tokenHash } = newSessionToken();
  await ctx.db.prisma.session.create({
    data: {
      tokenHash,
      userId,
      workspaceId,
      expiresAt: new Date(Date.now() + SESSION_TTL_MS),
      ipAddress: req.ip ?? null,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 300) : null,
    },
  });
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.opts.secureCookies,
    maxAge: SESSION_TTL_MS,
    path: '/',
  });
}

export function registerAuthRoutes(api: Api, ctx: ServerContext, loginLimiter: (req: Request, res: Response, next: () => void) => void) {
  const { prisma } = ctx.db;

  api.route({
    method: 'post',
    path: '/api/auth/signup',
    summary: 'Create an account, its first workspace (you are owner) and a session',
    tags: ['auth'],
    auth: 'none',
    status: 201,
    errors: [409, 429],
    body: z.object({
      email: emailSchema,
      password: passwordSchema,
      name: z.string().trim().min(1, 'is required').max(120),
      workspaceName: z.string().trim().min(1).max(120).optional(),
    }),
    response: z.object({ user: userView, workspace: workspaceView }),
    handler: async ({ body, req, res, ip }) => {
      const passwordHash = await hashPassword(body.password);
      const existing = await prisma.user.findUnique({ where: { email: body.email } });
      // An invited user (added by email, no password yet) claims the account by signing up.
      if (existing && existing.passwordHash) throw conflict('An account with this email already exists', { field: 'email' });
      const { user, workspace } = await prisma.$transaction(async (tx) => {
        const user = existing
          ? await tx.user.update({ where: { id: existing.id }, data: { passwordHash, name: body.name } })
          : await tx.user.create({ data: { email: body.email, name: body.name, passwordHash } });
        const workspace = await tx.workspace.create({ data: createWorkspaceData(body.workspaceName ?? `${body.name}'s workspace`) });
        await tx.membership.create({ data: { workspaceId: workspace.id, userId: user.id, role: 'owner' } });
        await audit(tx, { caller: { user, workspaceId: workspace.id, role: 'owner', via: 'session' }, req, ip }, workspace.id, {
          action: 'user.signup',
          entityType: 'user',
          entityId: user.id,
          after: { email: user.email, name: user.name, workspace: workspace.name },
        });
        return { user, workspace };
      });
      await startSession(ctx, req, res, user.id, workspace.id);
      return { user: { id: user.id, email: user.email, name: user.name }, workspace: { id: workspace.id, name: workspace.name, slug: workspace.slug, role: 'owner' } };
    },
  });

  api.router.post('/api/auth/login', loginLimiter);
  api.route({
    method: 'post',
    path: '/api/auth/login',
    summary: 'Log in with email and password; sets the session cookie',
    tags: ['auth'],
    auth: 'none',
    errors: [429],
    body: z.object({ email: emailSchema, password: z.string().min(1, 'is required').max(200) }),
    response: z.object({ user: userView, workspace: workspaceView.nullable() }),
    handler: async ({ body, req, res }) => {
      const user = await prisma.user.findUnique({ where: { email: body.email } });
      // Verify against a dummy hash when the user is unknown: same timing either way.
      const ok = await verifyPassword(body.password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !user.passwordHash || !ok || !user.isActive) throw unauthenticated('Wrong email or password');
      const membership = await prisma.membership.findFirst({
        where: { userId: user.id, workspace: { isActive: true } },
        orderBy: { joinedAt: 'asc' },
        include: { workspace: true },
      });
      let workspace = membership?.workspace;
      let role = membership?.role ?? 'owner';
      if (!workspace) {
        workspace = await prisma.workspace.create({ data: createWorkspaceData(`${user.name}'s workspace`) });
        await prisma.membership.create({ data: { workspaceId: workspace.id, userId: user.id, role: 'owner' } });
        role = 'owner';
      }
      await prisma.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
      await startSession(ctx, req, res, user.id, workspace.id);
      await audit(prisma, { caller: { user, workspaceId: workspace.id, role: role as never, via: 'session' }, req, ip: req.ip ?? 'unknown' }, workspace.id, {
        action: 'user.login',
        entityType: 'user',
        entityId: user.id,
      });
      return {
        user: { id: user.id, email: user.email, name: user.name },
        workspace: { id: workspace.id, name: workspace.name, slug: workspace.slug, role },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/api/auth/logout',
    summary: 'End the session',
    tags: ['auth'],
    auth: 'none',
    status: 204,
    handler: async ({ req, res, caller, ip }) => {
      const token = (req as Request & { cookies?: Record<string, string> }).cookies?.[SESSION_COOKIE];
      if (token) await prisma.session.deleteMany({ where: { tokenHash: sha256Hex(token) } });
      if (caller?.workspaceId && caller.via === 'session') {
        await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'user.logout', entityType: 'user', entityId: caller.user.id });
      }
      res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.opts.secureCookies });
      return undefined;
    },
  });

  api.route({
    method: 'post',
    path: '/api/auth/switch-workspace',
    summary: "Change the session's current workspace",
    tags: ['auth'],
    auth: 'user',
    body: z.object({ workspaceId: z.string().min(1).max(64) }),
    response: z.object({ workspace: workspaceView }),
    handler: async ({ body, caller, req, ip }) => {
      if (caller.via !== 'session' || !caller.sessionId) throw new ApiError(400, 'BAD_REQUEST', 'Only sessions have a current workspace: API keys act in their own workspace', [
          { path: 'header.authorization', message: 'use a session (log in) to switch workspaces' },
        ]);
      const m = await prisma.membership.findUnique({
        where: { workspaceId_userId: { workspaceId: body.workspaceId, userId: caller.user.id } },
        include: { workspace: true },
      });
      if (!m || !m.workspace.isActive) throw notFound('workspace');
      await prisma.session.update({ where: { id: caller.sessionId }, data: { workspaceId: m.workspaceId } });
      await audit(prisma, { caller, req, ip }, m.workspaceId, { action: 'user.switch_workspace', entityType: 'user', entityId: caller.user.id });
      return { workspace: { id: m.workspace.id, name: m.workspace.name, slug: m.workspace.slug, role: m.role } };
    },
  });

  api.route({
    method: 'get',
    path: '/api/me',
    summary: 'The caller, its current workspace and all its memberships',
    tags: ['auth'],
    auth: 'user',
    response: z.object({
      user: userView,
      via: z.enum(['session', 'apiKey']),
      currentWorkspaceId: z.string().nullable(),
      role: z.string().nullable(),
      memberships: z.array(workspaceView),
    }),
    handler: async ({ caller }) => {
      const memberships = await prisma.membership.findMany({
        where: { userId: caller.user.id, workspace: { isActive: true }, ...(caller.via === 'apiKey' ? { workspaceId: caller.workspaceId! } : {}) },
        include: { workspace: true },
        orderBy: { joinedAt: 'asc' },
      });
      return {
        user: { id: caller.user.id, email: caller.user.email, name: caller.user.name ?? '' },
        via: caller.via,
        currentWorkspaceId: caller.workspaceId,
        role: caller.role,
        memberships: memberships.map((m) => ({ id: m.workspace.id, name: m.workspace.name, slug: m.workspace.slug, role: m.role })),
      };
    },
  });
}
