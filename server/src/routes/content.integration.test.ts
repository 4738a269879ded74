import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { addMember, simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

let t: TestServer;
let owner: TestUser;
let stranger: TestUser;
let viewer: Awaited<ReturnType<typeof addMember>>;

beforeAll(async () => {
  t = await startTestServer({
    deps: {
      templates: [
        {
          slug: 'test-blog-to-linkedin',
          title: 'Blog to LinkedIn',
          description: 'Turns an article into a post',
          category: 'publishing',
          tags: ['linkedin'],
          templateVersion: 1,
          requirements: { connections: ['linkedin'] },
          document: simpleDoc(),
        },
      ],
    },
    options: { hookBodyLimit: '1kb' },
  });
  owner = await t.signup('content');
  stranger = await t.signup('content-stranger');
  viewer = await addMember(owner, await t.signup('content-viewer'), 'viewer');
});
afterAll(async () => {
  await t?.close();
});

describe('brand profiles and knowledge', () => {
  it('CRUD with validation, roles and isolation; knowledge entries are embedded on write', async () => {
    const bad = await owner.agent.post('/api/brand-profiles').send({ name: '', palette: { primary: 'blue' }, minComplianceScore: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['body.name', 'body.palette.primary', 'body.minComplianceScore']));
    const b = await owner.agent.post('/api/brand-profiles').send({ name: 'Acme', palette: { primary: '#0A66C2' }, bannedTerms: ['cheap'], enforcementLevel: 'strict' });
    expect(b.status).toBe(201);
    expect((await owner.agent.post('/api/brand-profiles').send({ name: 'Acme' })).status).toBe(409);
    expect((await viewer.post('/api/brand-profiles').send({ name: 'Nope' })).status).toBe(403);
    expect((await viewer.get(`/api/brand-profiles/${b.body.id}`)).status).toBe(200);
    expect((await stranger.agent.get(`/api/brand-profiles/${b.body.id}`)).status).toBe(404);
    expect((await stranger.agent.patch(`/api/brand-profiles/${b.body.id}`).send({ voiceTone: 'x' })).status).toBe(404);
    const upd = await owner.agent.patch(`/api/brand-profiles/${b.body.id}`).send({ voiceTone: 'Warm, direct' });
    expect(upd.body.voiceTone).toBe('Warm, direct');

    const k = await owner.agent.post(`/api/brand-profiles/${b.body.id}/knowledge`).send({ content: 'We say "customers", never "users".', title: 'Wording' });
    expect(k.status).toBe(201);
    expect(k.body.embedder).toBeTruthy();
    expect(k.body.dimension).toBeGreaterThan(0);
    const vec = await t.db.sql.query<{ has: boolean }>(`SELECT embedding IS NOT NULL AS has FROM brand_knowledge_entries WHERE id = $1`, [k.body.id]);
    expect(vec.rows[0]!.has).toBe(true);
    expect((await owner.agent.post(`/api/brand-profiles/${b.body.id}/knowledge`).send({ content: '' })).body.error.details[0].path).toBe('body.content');
    expect((await stranger.agent.post(`/api/brand-profiles/${b.body.id}/knowledge`).send({ content: 'x' })).status).toBe(404);
    const list = await viewer.get(`/api/brand-profiles/${b.body.id}/knowledge`);
    expect(list.body.items.map((e: { id: string }) => e.id)).toEqual([k.body.id]);
    expect(list.body.items[0]).not.toHaveProperty('embedding');
    expect((await stranger.agent.delete(`/api/knowledge/${k.body.id}`)).status).toBe(404);
    expect((await owner.agent.delete(`/api/knowledge/${k.body.id}`)).status).toBe(204);
    expect((await owner.agent.delete(`/api/brand-profiles/${b.body.id}`)).status).toBe(204);
    expect((await owner.agent.get(`/api/brand-profiles/${b.body.id}`)).status).toBe(404);
  });
});

describe('social accounts', () => {
  it('stores tokens encrypted and never returns them', async () => {
    const body = { platform: 'linkedin', platformAccountId: 'urn:li:person:1', username: 'acme', accessToken: 'SECRET-ACCESS-TOKEN', refreshToken: 'SECRET-REFRESH' };
    const bad = await owner.agent.post('/api/social-accounts').send({ ...body, platform: 'myspace', accessToken: '' });
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['body.platform', 'body.accessToken']));
    expect((await viewer.post('/api/social-accounts').send(body)).status).toBe(403);
    const a = await owner.agent.post('/api/social-accounts').send(body);
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ hasAccessToken: true, hasRefreshToken: true });
    expect(JSON.stringify(a.body)).not.toContain('SECRET');
    expect((await owner.agent.post('/api/social-accounts').send(body)).status).toBe(409);
    const row = await t.db.prisma.socialAccount.findUniqueOrThrow({ where: { id: a.body.id } });
    expect(row.accessTokenEncrypted).not.toContain('SECRET');
    expect(t.gf.ctx.crypto.decrypt(row.accessTokenEncrypted, `social_account:${row.id}:access_token`)).toBe('SECRET-ACCESS-TOKEN');
    const list = await viewer.get('/api/social-accounts');
    expect(JSON.stringify(list.body)).not.toContain('SECRET');
    expect((await stranger.agent.get(`/api/social-accounts/${a.body.id}`)).status).toBe(404);
    const upd = await owner.agent.patch(`/api/social-accounts/${a.body.id}`).send({ accessToken: 'NEW-SECRET' });
    expect(upd.status).toBe(200);
    expect(JSON.stringify(upd.body)).not.toContain('SECRET');
    const audit = await owner.agent.get(`/api/audit?entityId=${a.body.id}`);
    expect(JSON.stringify(audit.body)).not.toContain('SECRET');
    expect((await stranger.agent.delete(`/api/social-accounts/${a.body.id}`)).status).toBe(404);
    expect((await owner.agent.delete(`/api/social-accounts/${a.body.id}`)).status).toBe(204);
  });
});

describe('event subscriptions', () => {
  it('creates (secret once), lists without secrets, updates, deletes; admin only', async () => {
    const bad = await owner.agent.post('/api/event-subscriptions').send({ name: 'x', url: 'ftp://x', events: ['nope'] });
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['body.url', 'body.events[0]']));
    const s = await owner.agent.post('/api/event-subscriptions').send({ name: 'ops', url: 'https://example.com/hook', events: ['execution.failed'] });
    expect(s.status).toBe(201);
    expect(s.body.secret).toMatch(/^[0-9a-f]{48}$/);
    const list = await owner.agent.get('/api/event-subscriptions');
    expect(JSON.stringify(list.body)).not.toContain(s.body.secret);
    expect(list.body.items[0]).not.toHaveProperty('secretEncrypted');
    expect((await viewer.get('/api/event-subscriptions')).status).toBe(403);
    expect((await stranger.agent.get(`/api/event-subscriptions/${s.body.subscription.id}`)).status).toBe(404);
    const upd = await owner.agent.patch(`/api/event-subscriptions/${s.body.subscription.id}`).send({ events: ['*'], isActive: false });
    expect(upd.body).toMatchObject({ events: ['*'], isActive: false });
    expect((await owner.agent.get(`/api/event-subscriptions/${s.body.subscription.id}/deliveries`)).body.items).toEqual([]);
    expect((await stranger.agent.get(`/api/event-subscriptions/${s.body.subscription.id}/deliveries`)).status).toBe(404);
    expect((await owner.agent.delete(`/api/event-subscriptions/${s.body.subscription.id}`)).status).toBe(204);
  });
});

describe('templates and node types', () => {
  it('lists, gets and installs a template as a new draft grid', async () => {
    const list = await viewer.get('/api/templates?category=publishing');
    expect(list.body.items).toEqual([expect.objectContaining({ slug: 'test-blog-to-linkedin', installCount: 0, requirements: { connections: ['linkedin'] } })]);
    expect((await viewer.get('/api/templates?q=linkedin')).body.items).toHaveLength(1);
    expect((await viewer.get('/api/templates?q=zzz')).body.items).toHaveLength(0);
    const one = await viewer.get('/api/templates/test-blog-to-linkedin');
    expect(one.body.document.nodes).toHaveLength(2);
    expect((await viewer.get('/api/templates/nope')).status).toBe(404);
    expect((await viewer.post('/api/templates/test-blog-to-linkedin/install').send({})).status).toBe(403);
    const inst = await owner.agent.post('/api/templates/test-blog-to-linkedin/install').send({ name: 'Our blog flow' });
    expect(inst.status).toBe(201);
    expect(inst.body.grid).toMatchObject({ name: 'Our blog flow', templateSlug: 'test-blog-to-linkedin', status: 'draft' });
    expect(inst.body.validation.ok).toBe(true);
    expect((await owner.agent.get(`/api/grids/${inst.body.grid.id}`)).status).toBe(200);
    expect((await viewer.get('/api/templates/test-blog-to-linkedin')).body.installCount).toBe(1);
    expect((await t.agent().get('/api/templates')).status).toBe(401);
  });

  it('describes node types with JSON Schemas', async () => {
    const r = await viewer.get('/api/node-types');
    expect(r.status).toBe(200);
    const trigger = r.body.items.find((x: { type: string }) => x.type === 'trigger');
    expect(trigger).toBeTruthy();
    expect(JSON.stringify(trigger)).toContain('webhook');
  });
});

describe('operations and error shape', () => {
  it('healthz, readyz, metrics, openapi', async () => {
    const a = supertest(t.url);
    expect((await a.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await a.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toBe('ok');
    const m = await a.get('/metrics');
    expect(m.text).toContain('gridflow_webhook_requests_total');
    expect(m.text).toContain('gridflow_queue_depth');
    expect(m.text).toContain('gridflow_step_duration_seconds');
    const doc = await a.get('/api/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/api/grids/{id}'].put.requestBody.content['application/json'].schema.properties).toHaveProperty('draftVersion');
    expect(doc.body.paths['/api/grids/{id}/versions/{a}/diff/{b}'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'a', 'b']);
    expect(Object.keys(doc.body.paths).length).toBeGreaterThan(40);
  });

  it('415 for non-JSON, 400 for broken JSON, 413 for huge bodies, 404 JSON for unknown routes, helmet headers', async () => {
    const a = supertest(t.url);
    const u415 = await owner.agent.post('/api/grids').set('Content-Type', 'text/plain').send('name=x');
    expect(u415.status).toBe(415);
    expect(u415.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const broken = await owner.agent.post('/api/grids').set('Content-Type', 'application/json').send('{"name": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.details[0].path).toBe('body');
    const big = await owner.agent.post('/api/grids').send({ name: 'x', description: 'y'.repeat(3 * 1024 * 1024) });
    expect(big.status).toBe(413);
    const nf = await a.get('/api/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('NOT_FOUND');
    expect(nf.headers['x-content-type-options']).toBe('nosniff');
    expect(nf.headers['access-control-allow-origin']).toBeUndefined();
    expect(nf.headers['x-request-id']).toBeTruthy();
  });
});
