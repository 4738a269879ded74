/**
 * Sweeps over every route of the OpenAPI document: without credentials each protected route is a
 * 401; with workspace A's session or API key, every route naming one of workspace B's objects is a
 * 404, and B's data is unchanged afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { addMember, simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

let t: TestServer;
let a: TestUser;
let b: TestUser;
let aKey: string;
const ids: Record<string, string> = {};

type Op = { method: string; path: string; security: unknown[] };

function operations(doc: { paths: Record<string, Record<string, { security?: unknown[] }>> }): Op[] {
  const out: Op[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) out.push({ method, path, security: op.security ?? [] });
  return out;
}

/** B's object for each path parameter, by the path it appears in. */
function fill(path: string): string | null {
  let unresolved = false;
  const p = path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => {
    if (name === 'id') {
      if (path.startsWith('/api/grids/')) return ids.grid!;
      if (path.startsWith('/api/executions/')) return ids.execution!;
      if (path.startsWith('/api/approvals/')) return ids.approval!;
      if (path.startsWith('/api/brand-profiles/')) return ids.brand!;
      if (path.startsWith('/api/knowledge/')) return ids.knowledge!;
      if (path.startsWith('/api/social-accounts/')) return ids.social!;
      if (path.startsWith('/api/event-subscriptions/')) return ids.subscription!;
      if (path.startsWith('/api/api-keys/')) return ids.apiKey!;
      if (path.startsWith('/api/notifications/')) return ids.notification!;
    }
    if (name === 'userId') return ids.memberUser!;
    if (name === 'slug') return ids.templateSlug!;
    if (name === 'nodeId') return 'trigger';
    if (name === 'n' || name === 'a' || name === 'b') return '1';
    unresolved = true;
    return 'x';
  });
  return unresolved ? null : p;
}

/** A valid body per route, so that the request reaches the lookup (validation comes first). */
const bodies: Record<string, unknown> = {
  'put /api/grids/{id}': { name: 'pwned', draftVersion: 1 },
  'post /api/approvals/{id}/decision': { decision: 'approve' },
  'patch /api/brand-profiles/{id}': { voiceTone: 'pwned' },
  'post /api/brand-profiles/{id}/knowledge': { content: 'pwned' },
  'patch /api/social-accounts/{id}': { username: 'pwned' },
  'patch /api/event-subscriptions/{id}': { name: 'pwned' },
  'patch /api/members/{userId}': { role: 'owner' },
};

beforeAll(async () => {
  t = await startTestServer({ engine: true });
  a = await t.signup('iso-a');
  b = await t.signup('iso-b');
  aKey = (await a.agent.post('/api/api-keys').send({ name: 'a', scopes: ['read', 'write', 'admin'], role: 'owner' })).body.key;

  // Workspace B's objects.
  const doc = simpleDoc({ mode: 'webhook', path: 'iso' });
  const g = await b.agent.post('/api/grids').send({ name: 'B grid', document: doc });
  ids.grid = g.body.grid.id;
  await b.agent.post(`/api/grids/${ids.grid}/versions`).send({ note: 'b1' });
  const run = await b.agent.post(`/api/grids/${ids.grid}/runs`).send({ input: { n: 1 } });
  ids.execution = run.body.executionId;
  await t.gf.ctx.engine!.waitForCompletion(ids.execution!, 20_000);
  ids.brand = (await b.agent.post('/api/brand-profiles').send({ name: 'B brand' })).body.id;
  ids.knowledge = (await b.agent.post(`/api/brand-profiles/${ids.brand}/knowledge`).send({ content: 'B knows' })).body.id;
  ids.social = (await b.agent.post('/api/social-accounts').send({ platform: 'x', platformAccountId: 'b', accessToken: 'B-TOKEN' })).body.id;
  ids.subscription = (await b.agent.post('/api/event-subscriptions').send({ name: 'B', url: 'https://example.com/b', events: ['*'] })).body.subscription.id;
  ids.apiKey = (await b.agent.post('/api/api-keys').send({ name: 'B key', scopes: ['read'] })).body.apiKey.id;
  const member = await t.signup('iso-b-member');
  await addMember(b, member, 'viewer');
  ids.memberUser = member.user.id;
  ids.notification = (await t.db.prisma.notification.create({ data: { workspaceId: b.workspace.id, userId: b.user.id, type: 'x', title: 'B note' } })).id;
  const approval = await t.db.prisma.approvalRequest.create({
    data: { workspaceId: b.workspace.id, title: 'B approval', steps: [{ name: 's', approverRoles: ['owner'], approverUserIds: [], required: 1 }] },
  });
  ids.approval = approval.id;
  ids.templateSlug = 'b-private-template';
  await t.db.prisma.template.create({ data: { workspaceId: b.workspace.id, slug: ids.templateSlug, name: 'B private', category: 'x', document: simpleDoc() as object } });
});
afterAll(async () => {
  await t?.close();
});

async function snapshotB() {
  const p = t.db.prisma;
  const w = b.workspace.id;
  return {
    grid: await p.grid.findFirst({ where: { id: ids.grid, workspaceId: w }, select: { name: true, draftVersion: true, status: true, archivedAt: true } }),
    versions: await p.gridVersion.count({ where: { gridId: ids.grid } }),
    executions: await p.execution.count({ where: { workspaceId: w } }),
    brand: await p.brandProfile.findFirst({ where: { id: ids.brand }, select: { voiceTone: true } }),
    knowledge: await p.brandKnowledgeEntry.count({ where: { workspaceId: w } }),
    social: await p.socialAccount.findFirst({ where: { id: ids.social }, select: { username: true } }),
    sub: await p.eventSubscription.findFirst({ where: { id: ids.subscription }, select: { name: true } }),
    key: await p.apiKey.findFirst({ where: { id: ids.apiKey }, select: { revokedAt: true } }),
    member: await p.membership.findFirst({ where: { workspaceId: w, userId: ids.memberUser }, select: { role: true } }),
    note: await p.notification.findFirst({ where: { id: ids.notification }, select: { readAt: true } }),
    approval: await p.approvalRequest.findFirst({ where: { id: ids.approval }, select: { status: true } }),
    template: await p.template.findFirst({ where: { slug: ids.templateSlug }, select: { installCount: true } }),
    trigger: await p.webhookTrigger.findFirst({ where: { gridId: ids.grid }, select: { secretEncrypted: true, isActive: true } }),
  };
}

describe('every route', () => {
  it('answers 401 without credentials (except the public ones)', async () => {
    const ops = operations(t.gf.openapi as never);
    expect(ops.length).toBeGreaterThan(50);
    const anon = supertest(t.url);
    let checked = 0;
    for (const op of ops) {
      if (!op.security.length) continue;
      const path = fill(op.path) ?? op.path.replace(/\{[^}]+\}/g, 'x');
      const r = await (anon as unknown as Record<string, (p: string) => supertest.Test>)[op.method]!(path).send(bodies[`${op.method} ${op.path}`] ?? {});
      expect(r.status, `${op.method} ${op.path}`).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
      checked++;
    }
    expect(checked).toBeGreaterThan(45);
  });

  it('with workspace A’s session or key, B’s objects are 404 and B’s data is unchanged', async () => {
    const before = await snapshotB();
    const ops = operations(t.gf.openapi as never).filter((op) => op.security.length && op.path.includes('{'));
    const asKey = supertest(t.url);
    let checked = 0;
    for (const op of ops) {
      const path = fill(op.path);
      expect(path, `${op.method} ${op.path} has an unresolved parameter`).not.toBeNull();
      const body = bodies[`${op.method} ${op.path}`] ?? {};
      const viaSession = await (a.agent as unknown as Record<string, (p: string) => supertest.Test>)[op.method]!(path!).send(body);
      expect(viaSession.status, `session ${op.method} ${path}`).toBe(404);
      const viaKey = await (asKey as unknown as Record<string, (p: string) => supertest.Test>)[op.method]!(path!).set('Authorization', `Bearer ${aKey}`).send(body);
      expect(viaKey.status, `key ${op.method} ${path}`).toBe(404);
      expect(JSON.stringify(viaSession.body)).not.toMatch(/B grid|B brand|B knows|B-TOKEN|B approval/);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    // B's lists are invisible to A
    for (const p of ['/api/grids', '/api/executions', '/api/brand-profiles', '/api/social-accounts', '/api/event-subscriptions', '/api/api-keys', '/api/members', '/api/audit', '/api/approvals?mine=false', '/api/notifications', '/api/templates']) {
      const r = await a.agent.get(p);
      expect(r.status, p).toBe(200);
      expect(JSON.stringify(r.body), p).not.toMatch(/B grid|B brand|B-TOKEN|B approval|B private|iso-b/);
    }
    expect(await snapshotB()).toEqual(before);
  });
});
