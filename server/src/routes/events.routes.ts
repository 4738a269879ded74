/**
 * Event subscriptions (outbound webhooks) and their delivery log.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventSubscription } from '@gridflow/db';
import type { ServerContext } from '../context.js';
import { notFound } from '../http/errors.js';
import type { Api } from '../http/route.js';
import { audit } from '../audit.js';
import { EVENT_NAMES } from '../events/event-sink.js';

const idParam = z.object({ id: z.string().min(1).max(64) });
const eventName = z.enum([...EVENT_NAMES, '*']);
const urlSchema = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

function toView(s: EventSubscription) {
  const { secretEncrypted: _s, ...rest } = s;
  return rest;
}

export function registerEventRoutes(api: Api, ctx: ServerContext) {
  const { prisma } = ctx.db;

  async function load(workspaceId: string, id: string) {
    const s = await prisma.eventSubscription.findFirst({ where: { id, workspaceId } });
    if (!s) throw notFound('event subscription');
    return s;
  }

  api.route({
    method: 'get',
    path: '/api/event-subscriptions',
    summary: 'Outbound webhook subscriptions (secrets are never returned)',
    tags: ['events'],
    auth: 'admin',
    scope: 'admin',
    handler: async ({ caller }) => ({
      items: (await prisma.eventSubscription.findMany({ where: { workspaceId: caller.workspaceId }, orderBy: { createdAt: 'asc' } })).map(toView),
    }),
  });

  api.route({
    method: 'post',
    path: '/api/event-subscriptions',
    summary: 'Subscribe a URL to events; the signing secret is returned once (X-Gridflow-Signature: sha256=HMAC(secret, "<timestamp>.<body>"))',
    tags: ['events'],
    auth: 'admin',
    scope: 'admin',
    status: 201,
    body: z.object({
      name: z.string().trim().min(1, 'is required').max(120),
      url: urlSchema,
      events: z.array(eventName).min(1, 'name at least one event (or "*")').max(20),
      secret: z.string().min(16, 'must be at least 16 characters').max(200).optional(),
      isActive: z.boolean().default(true),
    }),
    handler: async ({ caller, body, req, ip }) => {
      const id = randomUUID();
      const secret = body.secret ?? randomBytes(24).toString('hex');
      const s = await prisma.eventSubscription.create({
        data: {
          id,
          workspaceId: caller.workspaceId,
          name: body.name,
          url: body.url,
          events: [...new Set(body.events)],
          isActive: body.isActive,
          secretEncrypted: ctx.crypto.encrypt(secret, `event_subscription:${id}`),
          createdById: caller.user.id,
        },
      });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'event_subscription.create', entityType: 'event_subscription', entityId: s.id, after: toView(s) });
      return { subscription: toView(s), secret };
    },
  });

  api.route({
    method: 'get',
    path: '/api/event-subscriptions/:id',
    summary: 'One subscription',
    tags: ['events'],
    auth: 'admin',
    scope: 'admin',
    params: idParam,
    handler: async ({ caller, params }) => toView(await load(caller.workspaceId, params.id)),
  });

  api.route({
    method: 'patch',
    path: '/api/event-subscriptions/:id',
    summary: 'Change a subscription (URL, events, active, or a new secret)',
    tags: ['events'],
    auth: 'admin',
    scope: 'admin',
    params: idParam,
    body: z.object({
      name: z.string().trim().min(1).max(120).optional(),
      url: urlSchema.optional(),
      events: z.array(eventName).min(1).max(20).optional(),
      secret: z.string().min(16).max(200).optional(),
      isActive: z.boolean().optional(),
    }),
    handler: async ({ caller, params, body, req, ip }) => {
      const before = await load(caller.workspaceId, params.id);
      const { secret, ...rest } = body;
      const s = await prisma.eventSubscription.update({
        where: { id: before.id },
        data: { ...rest, ...(secret ? { secretEncrypted: ctx.crypto.encrypt(secret, `event_subscription:${before.id}`) } : {}) },
      });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, {
        action: 'event_subscription.update',
        entityType: 'event_subscription',
        entityId: s.id,
        before: toView(before),
        after: { ...toView(s), secretChanged: !!secret },
      });
      return toView(s);
    },
  });

  api.route({
    method: 'delete',
    path: '/api/event-subscriptions/:id',
    summary: 'Delete a subscription and its delivery log',
    tags: ['events'],
    auth: 'admin',
    scope: 'admin',
    status: 204,
    params: idParam,
    handler: async ({ caller, params, req, ip }) => {
      const s = await load(caller.workspaceId, params.id);
      await prisma.eventSubscription.delete({ where: { id: s.id } });
      await audit(prisma, { caller, req, ip }, caller.workspaceId, { action: 'event_subscription.delete', entityType: 'event_subscription', entityId: s.id, before: toView(s) });
      return undefined;
    },
  });

  api.route({
    method: 'get',
    path: '/api/event-subscriptions/:id/deliveries',
    summary: 'Deliveries of a subscription, newest first: status, attempts, response code, last error, next attempt',
    tags: ['events'],
    auth: 'admin',
    scope: 'admin',
    params: idParam,
    query: z.object({ status: z.enum(['pending', 'delivered', 'failed']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
    handler: async ({ caller, params, query }) => {
      const s = await load(caller.workspaceId, params.id);
      const items = await prisma.eventDelivery.findMany({
        where: { subscriptionId: s.id, workspaceId: caller.workspaceId, ...(query.status ? { status: query.status } : {}) },
        orderBy: { createdAt: 'desc' },
        take: query.limit,
      });
      const logs = await prisma.auditLog.findMany({
        where: { workspaceId: caller.workspaceId, entityType: 'event_delivery', entityId: { in: items.map((d) => d.id) } },
        orderBy: { createdAt: 'asc' },
        select: { entityId: true, metadata: true, createdAt: true },
      });
      return {
        items: items.map((d) => ({
          ...d,
          attemptLog: logs.filter((l) => l.entityId === d.id).map((l) => ({ at: l.createdAt, ...(l.metadata as object) })),
        })),
      };
    },
  });
}
