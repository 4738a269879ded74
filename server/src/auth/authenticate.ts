/**
 * Resolves the caller of a request: `Authorization: Bearer <api key>` or the session cookie, and
 * the workspace it acts in (`X-Workspace-Id`, else the key's workspace / the session's current one).
 * A workspace the caller is not a member of is reported as not found, never as forbidden.
 */
import type { Request } from 'express';
import type { Db } from '../db.js';
import { ApiError, unauthenticated } from '../http/errors.js';
import { roleRank, type Caller, type Role, type Scope } from '../http/route.js';
import { apiKeyPrefix, sha256Hex, SESSION_COOKIE } from './tokens.js';

const LAST_USED_EVERY_MS = 60_000;

export function createAuthenticator(db: Db) {
  const lastUsedWritten = new Map<string, number>();

  async function membershipRole(userId: string, workspaceId: string): Promise<Role | null> {
    const m = await db.prisma.membership.findUnique({
      where: { workspaceId_userId: { workspaceId, userId } },
      select: { role: true, workspace: { select: { isActive: true } } },
    });
    return m && m.workspace.isActive ? (m.role as Role) : null;
  }

  return async function authenticate(req: Request): Promise<Caller | null> {
    const header = req.headers.authorization;
    const wsHeader = typeof req.headers['x-workspace-id'] === 'string' ? req.headers['x-workspace-id'] : undefined;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m || !apiKeyPrefix(m[1]!)) throw unauthenticated('Malformed Authorization header: expected "Bearer gfk_…"');
      const key = await db.prisma.apiKey.findUnique({ where: { keyHash: sha256Hex(m[1]!) } });
      const now = new Date();
      if (!key || key.revokedAt || (key.expiresAt && key.expiresAt < now)) throw unauthenticated('Invalid or revoked API key');
      if (wsHeader && wsHeader !== key.workspaceId) throw new ApiError(404, 'NOT_FOUND', 'workspace not found');
      if (!key.createdById) throw unauthenticated('API key has no owner');
      const user = await db.prisma.user.findUnique({ where: { id: key.createdById } });
      if (!user || !user.isActive) throw unauthenticated('API key owner is no longer active');
      // The key acts with its own role, capped by its creator's current role (a demoted or removed
      // member's keys lose their power with them).
      const creatorRole = await membershipRole(user.id, key.workspaceId);
      if (!creatorRole) throw unauthenticated('API key owner is no longer a member of the workspace');
      const role = roleRank[key.role as Role] <= roleRank[creatorRole] ? (key.role as Role) : creatorRole;
      const last = lastUsedWritten.get(key.id) ?? 0;
      if (now.getTime() - last > LAST_USED_EVERY_MS) {
        lastUsedWritten.set(key.id, now.getTime());
        void db.prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: now } }).catch(() => undefined);
      }
      return {
        user: { id: user.id, email: user.email, name: user.name },
        workspaceId: key.workspaceId,
        role,
        via: 'apiKey',
        apiKeyId: key.id,
        scopes: key.scopes as Scope[],
      };
    }
    const token = (req as Request & { cookies?: Record<string, string> }).cookies?.[SESSION_COOKIE];
    if (!token) return null;
    const session = await db.prisma.session.findUnique({ where: { tokenHash: sha256Hex(token) }, include: { user: true } });
    if (!session || session.expiresAt < new Date() || !session.user.isActive) return null;
    const workspaceId = wsHeader ?? session.workspaceId;
    const role = await membershipRole(session.userId, workspaceId);
    if (wsHeader && !role) throw new ApiError(404, 'NOT_FOUND', 'workspace not found');
    return {
      user: { id: session.user.id, email: session.user.email, name: session.user.name },
      workspaceId: role ? workspaceId : null,
      role,
      via: 'session',
      sessionId: session.id,
    };
  };
}

/** For socket.io: the same resolution from raw cookie / authorization values. */
export function parseCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}
