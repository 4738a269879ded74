/**
 * Content domain: brand profiles, brand knowledge entries (embedded on write), social accounts
 * (tokens write-only: encrypted at rest, never returned).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createEmbedder, storeKnowledgeEntry } from '@gridflow/nodes/embedding/index';
import type { SocialAccount } from '@gridflow/db';
import type { ServerContext } from '../context.js';
import { conflict, notFound } from '../http/errors.js';
import type { Api } from '../http/route.js';
import { audit } from '../audit.js';

const idParam = z.object({ id: z.string().min(1).max(64) });
const hex = z.string().regex(/^#[0-9a-fA-F]{3,8}$/, 'must be a hex colour like #0A66C2');
const terms = z.array(z.string().trim().min(1).max(200)).max(500);

const brandBody = z.object({
  name: z.string().trim().min(1, 'is required').max(120),
  palette: z.object({ primary: hex.optional(), secondary: hex.optional(), accent: hex.optional(), extra: z.array(hex).max(20).optional() }).optional(),
  fonts: z.object({ heading: z.string().max(80).optional(), body: z.string().max(80).optional() }).optional(),
  voiceTone: z.string().max(5000).optional(),
  toneKeywords: terms.optional(),
  bannedTerms: terms.optional(),
  requiredTerms: terms.optional(),
  enforcementLevel: z.enum(['off', 'advisory', 'strict']).optional(),
  minComplianceScore: z.number().min(0).max(1).optional(),
  logoRules: z.record(z.string(), z.unknown()).optional(),
  isDefault: z.boolean().optional(),
});

const PLATFORMS = ['linkedin', 'x', 'facebook', 'instagram'] as const;

/** Social account as the API shows it: no token, only whether one is stored. */
function toAccountView(a: SocialAccount) {
  const { accessTokenEncrypted, refreshTokenEncrypted, ...rest } = a;
  return { ...rest, hasAccessToken: !!accessTokenEncrypted, hasRefreshToken: !!refreshTokenEncrypted };
}

export function registerContentRoutes(api: Api, ctx: ServerContext) {
  const { prisma } = ctx.db;
  const embedder = ctx.deps.embedder ?? createEmbedder();

  // ------------------------------------------------------------ brand profiles

  async function loadBrand(workspaceId: string, id: string) {
    const b = await prisma.brandProfile.findFirst({ where: { id, workspaceId } });
    if (!b) throw notFound('brand profile');
    return b;
  }

  const isUnique = (err: unknown) => (err as { code?: string }).code === 'P2002';

  api.route({
    method: 'get',
    path: '/api/brand-profiles',
    summary: 'Brand profiles of the current workspace',
    tags: ['brand'],
    auth: 'viewer',
    handler: async ({ caller }) => ({
      items: await prisma.brandProfile.findMany({ where: { workspaceId: caller.workspaceId }, orderBy: { name: 'asc' } }),
    }),
  });

  api.route({
    method: 'post',
    path: '/api/brand-profiles',
    summary: 'Create a brand profile',
    tags: ['brand'],
    auth: 'editor',
    status: 201,
    errors: [409],
    body: brandBody,
    handler: async ({ caller, body, req, ip }) => {
      try {
        const b = await prisma.$transaction(async (tx) => {
          if (body.isDefault) await tx.brandProfile.updateMany({ where: { workspaceId: caller.workspaceId }, data: { isDefault: false } });
          const b = await tx.brandProfile.create({ data: { ...body, workspaceId: caller.workspaceId, createdById: caller.user.id } as never });
          await audit(tx, { caller, req, ip }, caller.workspaceId, { action: 'brand_profile.create', entityType: 'brand_profile', entityId: b.id, after: b });
          return b;
        });
        return b;
      } catch (err) {
        if (isUnique(err)) throw conflict('A brand profile with this name exists', { field: 'name' });
        throw err;
      }
    },
  });

  api.route({
    method: 'get',
    path: '/api/brand-profiles/:id',
    summary: 'One brand profile',
    tags: ['brand'],
    auth: 'viewer',
    params: idParam,
    handler: async ({ caller, params }) => loadBrand(caller.workspaceId, params.id),
  });

  api.route({
    method: 'patch',
    path: '/api/brand-profiles/:id',
    summary: 'Change a brand profile',
    tags: ['brand'],
    auth: 'editor',
    errors: [409],
    params: idParam,
    body: brandBody.partial(),
    handler: async ({ caller, params, body, req, ip }) => {
      const before = await loadBrand(caller.workspaceId, params.id);
      try {
        return await prisma.$transaction(async (tx) => {
          if (body.isDefault) await tx.brandProfile.updateMany({ where: { workspaceId: caller.workspaceId, id: { not: before.id } }, data: { isDefault: false } });
          const after = await tx.brandProfile.update({ where: { id: before.id }, data: body as never });
          await audit(tx, { caller, req, ip }, caller.workspaceId, { action: 'brand_profile.update', entityType: 'brand_profile', entityId: before.id, before, after });
          return after;
        });
      } catch (err) {
        if (isUnique(err)) throw conflict('A brand profile with this name exists', { field: 'name' });
        throw err;
      }
    },
  });

  api.route({
    method: 'delete',
    path: '/api/brand-profiles/:id',
    summary: 'Delete a brand profile and its knowledge entries',
    tags: ['brand'],
    auth: 'editor',
    status: 204,
    params: idParam,
    handler: async ({ caller, params, req, ip }) => {
      const before = await loadBrand(caller.workspaceId, params.id);
      await prisma.brandProfile.delete({ where: { id: before.id } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'brand_profile.delete', entityType: 'brand_profile', entityId: before.id, before });
      return undefined;
    },
  });

  // ------------------------------------------------------------ knowledge entries

  const entrySelect = {
    id: true,
    brandProfileId: true,
    title: true,
    content: true,
    category: true,
    tags: true,
    embedder: true,
    dimension: true,
    createdAt: true,
    updatedAt: true,
  } as const;

  api.route({
    method: 'get',
    path: '/api/brand-profiles/:id/knowledge',
    summary: "A brand profile's knowledge entries (vectors are not returned)",
    tags: ['brand'],
    auth: 'viewer',
    params: idParam,
    handler: async ({ caller, params }) => {
      const b = await loadBrand(caller.workspaceId, params.id);
      return {
        items: await prisma.brandKnowledgeEntry.findMany({ where: { workspaceId: caller.workspaceId, brandProfileId: b.id }, orderBy: { createdAt: 'desc' }, select: entrySelect }),
      };
    },
  });

  api.route({
    method: 'post',
    path: '/api/brand-profiles/:id/knowledge',
    summary: 'Add a knowledge entry; its text is embedded on write (OpenAI when configured, else the local embedder)',
    tags: ['brand'],
    auth: 'editor',
    status: 201,
    params: idParam,
    body: z.object({
      content: z.string().trim().min(1, 'is required').max(50_000),
      title: z.string().trim().min(1).max(200).optional(),
      category: z.string().max(80).optional(),
      tags: z.array(z.string().max(40)).max(20).optional(),
    }),
    handler: async ({ caller, params, body, req, ip }) => {
      const b = await loadBrand(caller.workspaceId, params.id);
      const stored = await storeKnowledgeEntry(prisma, caller.workspaceId, b.id, body.content, embedder as never, {
        ...(body.title ? { title: body.title } : {}),
        ...(body.category ? { category: body.category } : {}),
        ...(body.tags ? { tags: body.tags } : {}),
      });
      const entry = await prisma.brandKnowledgeEntry.findFirstOrThrow({ where: { id: stored.id, workspaceId: caller.workspaceId }, select: entrySelect });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'knowledge.create',
        entityType: 'brand_knowledge_entry',
        entityId: entry.id,
        after: { title: entry.title, brandProfileId: b.id, embedder: entry.embedder },
      });
      return entry;
    },
  });

  api.route({
    method: 'delete',
    path: '/api/knowledge/:id',
    summary: 'Delete a knowledge entry',
    tags: ['brand'],
    auth: 'editor',
    status: 204,
    params: idParam,
    handler: async ({ caller, params, req, ip }) => {
      const e = await prisma.brandKnowledgeEntry.findFirst({ where: { id: params.id, workspaceId: caller.workspaceId }, select: entrySelect });
      if (!e) throw notFound('knowledge entry');
      await prisma.brandKnowledgeEntry.delete({ where: { id: e.id } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'knowledge.delete', entityType: 'brand_knowledge_entry', entityId: e.id, before: { title: e.title } });
      return undefined;
    },
  });

  // ------------------------------------------------------------ social accounts

  const tokenFields = z.object({
    accessToken: z.string().min(1, 'is required').max(10_000),
    refreshToken: z.string().min(1).max(10_000).optional(),
    tokenExpiresAt: z.coerce.date().optional(),
  });

  api.route({
    method: 'get',
    path: '/api/social-accounts',
    summary: 'Connected social accounts (tokens are never returned)',
    tags: ['social'],
    auth: 'viewer',
    handler: async ({ caller }) => ({
      items: (await prisma.socialAccount.findMany({ where: { workspaceId: caller.workspaceId }, orderBy: { createdAt: 'asc' } })).map(toAccountView),
    }),
  });

  api.route({
    method: 'post',
    path: '/api/social-accounts',
    summary: 'Connect a social account; tokens are encrypted and write-only',
    tags: ['social'],
    auth: 'admin',
    scope: 'admin',
    status: 201,
    errors: [409],
    body: tokenFields.extend({
      platform: z.enum(PLATFORMS),
      platformAccountId: z.string().trim().min(1, 'is required').max(200),
      username: z.string().max(200).optional(),
      displayName: z.string().max(200).optional(),
      scopes: z.array(z.string().max(100)).max(50).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
    handler: async ({ caller, body, req, ip }) => {
      const { accessToken, refreshToken, ...rest } = body;
      const exists = await prisma.socialAccount.findUnique({
        where: { workspaceId_platform_platformAccountId: { workspaceId: caller.workspaceId, platform: body.platform, platformAccountId: body.platformAccountId } },
      });
      if (exists) throw conflict('This account is already connected', { field: 'platformAccountId' });
      const id = randomUUID();
      const a = await prisma.socialAccount.create({
        data: {
          ...(rest as object),
          id,
          workspaceId: caller.workspaceId,
          platform: body.platform,
          platformAccountId: body.platformAccountId,
          accessTokenEncrypted: ctx.crypto.encrypt(accessToken, `social_account:${id}:access_token`),
          refreshTokenEncrypted: refreshToken ? ctx.crypto.encrypt(refreshToken, `social_account:${id}:refresh_token`) : null,
          connectedById: caller.user.id,
        } as never,
      });
      const view = toAccountView(a);
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'social_account.connect', entityType: 'social_account', entityId: a.id, after: view });
      return view;
    },
  });

  async function loadAccount(workspaceId: string, id: string) {
    const a = await prisma.socialAccount.findFirst({ where: { id, workspaceId } });
    if (!a) throw notFound('social account');
    return a;
  }

  api.route({
    method: 'get',
    path: '/api/social-accounts/:id',
    summary: 'One social account (no tokens)',
    tags: ['social'],
    auth: 'viewer',
    params: idParam,
    handler: async ({ caller, params }) => toAccountView(await loadAccount(caller.workspaceId, params.id)),
  });

  api.route({
    method: 'patch',
    path: '/api/social-accounts/:id',
    summary: 'Update a social account (e.g. new tokens after re-authorisation)',
    tags: ['social'],
    auth: 'admin',
    scope: 'admin',
    params: idParam,
    body: tokenFields.partial().extend({
      username: z.string().max(200).optional(),
      displayName: z.string().max(200).optional(),
      status: z.enum(['connected', 'expired', 'revoked', 'error']).optional(),
      scopes: z.array(z.string().max(100)).max(50).optional(),
    }),
    handler: async ({ caller, params, body, req, ip }) => {
      const before = await loadAccount(caller.workspaceId, params.id);
      const { accessToken, refreshToken, ...rest } = body;
      const a = await prisma.socialAccount.update({
        where: { id: before.id },
        data: {
          ...rest,
          ...(accessToken ? { accessTokenEncrypted: ctx.crypto.encrypt(accessToken, `social_account:${before.id}:access_token`), status: rest.status ?? 'connected' } : {}),
          ...(refreshToken ? { refreshTokenEncrypted: ctx.crypto.encrypt(refreshToken, `social_account:${before.id}:refresh_token`) } : {}),
        },
      });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'social_account.update',
        entityType: 'social_account',
        entityId: a.id,
        before: toAccountView(before),
        after: { ...toAccountView(a), tokensReplaced: !!accessToken || !!refreshToken },
      });
      return toAccountView(a);
    },
  });

  api.route({
    method: 'delete',
    path: '/api/social-accounts/:id',
    summary: 'Disconnect a social account (its tokens are deleted)',
    tags: ['social'],
    auth: 'admin',
    scope: 'admin',
    status: 204,
    params: idParam,
    handler: async ({ caller, params, req, ip }) => {
      const a = await loadAccount(caller.workspaceId, params.id);
      await prisma.socialAccount.delete({ where: { id: a.id } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'social_account.disconnect', entityType: 'social_account', entityId: a.id, before: toAccountView(a) });
      return undefined;
    },
  });
}
