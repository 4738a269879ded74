import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { addMember, startTestServer, type TestServer } from '../testing/harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ options: { loginRateLimit: { windowMs: 60_000, max: 5 } } });
});
afterAll(async () => {
  await t?.close();
});

describe('auth', () => {
  it('signs up, sets an httpOnly SameSite=Lax cookie, and GET /api/me shows the membership', async () => {
    const agent = t.agent();
    const res = await agent.post('/api/auth/signup').send({ email: 'Ada@Example.com', password: 'long enough pw', name: 'Ada' });
    expect(res.status).toBe(201);
    expect(res.body.user.email).toBe('ada@example.com');
    expect(res.body.workspace.role).toBe('owner');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/gf_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await agent.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body.memberships).toEqual([expect.objectContaining({ id: res.body.workspace.id, role: 'owner' })]);
    expect(me.body.currentWorkspaceId).toBe(res.body.workspace.id);
    // the password is stored as a scrypt hash
    const u = await t.db.prisma.user.findUniqueOrThrow({ where: { email: 'ada@example.com' } });
    expect(u.passwordHash).toMatch(/^scrypt\$/);
  });

  it('rejects bad sign-up input naming each field, and a duplicate email with 409', async () => {
    const bad = await t.agent().post('/api/auth/signup').send({ email: 'nope', password: 'short' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const paths = bad.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.email', 'body.password', 'body.name']));
    expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    const dup = await t.agent().post('/api/auth/signup').send({ email: 'ada@example.com', password: 'long enough pw', name: 'Ada 2' });
    expect(dup.status).toBe(409);
  });

  it('logs in and out; wrong password is 401; /api/me without a session is 401', async () => {
    const u = await t.signup('login');
    const fresh = t.agent();
    expect((await fresh.get('/api/me')).status).toBe(401);
    expect((await fresh.post('/api/auth/login').send({ email: u.email, password: 'wrong password' })).status).toBe(401);
    const ok = await fresh.post('/api/auth/login').send({ email: u.email, password: u.password });
    expect(ok.status).toBe(200);
    expect(ok.body.workspace.id).toBe(u.workspace.id);
    expect((await fresh.get('/api/me')).status).toBe(200);
    expect((await fresh.post('/api/auth/logout')).status).toBe(204);
    expect((await fresh.get('/api/me')).status).toBe(401);
  });

  it('rate-limits login attempts with 429', async () => {
    const agent = supertest(t.url);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await agent.post('/api/auth/login').send({ email: 'limit@example.com', password: 'x' })).status);
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses[6]).toBe(429);
  });
});

describe('workspaces and members', () => {
  it('creates a second workspace; X-Workspace-Id and switch-workspace select it; unknown workspace is 404', async () => {
    const u = await t.signup('multi');
    const ws = await u.agent.post('/api/workspaces').send({ name: 'Second' });
    expect(ws.status).toBe(201);
    const list = await u.agent.get('/api/workspaces');
    expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([u.workspace.id, ws.body.id]);
    const viaHeader = await u.agent.get('/api/me').set('X-Workspace-Id', ws.body.id);
    expect(viaHeader.body.currentWorkspaceId).toBe(ws.body.id);
    const other = await t.signup('other');
    expect((await u.agent.get('/api/grids').set('X-Workspace-Id', other.workspace.id)).status).toBe(404);
    expect((await u.agent.post('/api/auth/switch-workspace').send({ workspaceId: other.workspace.id })).status).toBe(404);
    const sw = await u.agent.post('/api/auth/switch-workspace').send({ workspaceId: ws.body.id });
    expect(sw.status).toBe(200);
    expect((await u.agent.get('/api/me')).body.currentWorkspaceId).toBe(ws.body.id);
    expect((await u.agent.post('/api/workspaces').send({ name: '' })).body.error.details[0].path).toBe('body.name');
  });

  it('adds, re-roles and removes members; roles decide; the last owner stays', async () => {
    const owner = await t.signup('owner');
    const bob = await t.signup('bob');
    const asBob = await addMember(owner, bob, 'viewer');
    const members = await owner.agent.get('/api/members');
    expect(members.body.items).toHaveLength(2);
    // viewer cannot manage members
    expect((await asBob.post('/api/members').send({ email: 'x@example.com', role: 'viewer' })).status).toBe(403);
    expect((await asBob.get('/api/members')).status).toBe(200);
    // duplicate add
    expect((await owner.agent.post('/api/members').send({ email: bob.email, role: 'editor' })).status).toBe(409);
    // bad role named
    const bad = await owner.agent.patch(`/api/members/${bob.user.id}`).send({ role: 'king' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('body.role');
    // promote to admin → can add members
    expect((await owner.agent.patch(`/api/members/${bob.user.id}`).send({ role: 'admin' })).body.role).toBe('admin');
    const invited = await asBob.post('/api/members').send({ email: 'invitee@example.com', role: 'editor' });
    expect(invited.status).toBe(201);
    expect(invited.body.invited).toBe(true);
    // admin cannot make an owner or demote the owner
    expect((await asBob.patch(`/api/members/${owner.user.id}`).send({ role: 'viewer' })).status).toBe(403);
    // the last owner cannot demote themselves
    expect((await owner.agent.patch(`/api/members/${owner.user.id}`).send({ role: 'admin' })).status).toBe(409);
    // the invited person claims the account by signing up
    const inv = t.agent();
    expect((await inv.post('/api/auth/signup').send({ email: 'invitee@example.com', password: 'long enough pw', name: 'Invitee' })).status).toBe(201);
    const me = await inv.get('/api/me');
    expect(me.body.memberships.map((m: { id: string }) => m.id)).toContain(owner.workspace.id);
    // remove bob: his access to the workspace ends
    expect((await owner.agent.delete(`/api/members/${bob.user.id}`)).status).toBe(204);
    expect((await asBob.get('/api/members')).status).toBe(404);
    expect((await owner.agent.delete(`/api/members/${bob.user.id}`)).status).toBe(404);
    const audit = await owner.agent.get('/api/audit?entityType=membership');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['member.add', 'member.role', 'member.remove']));
  });
});

describe('workspace settings', () => {
  it('admins rename the current workspace; viewers cannot; bad input is named', async () => {
    const owner = await t.signup('rename');
    const r = await owner.agent.patch('/api/workspaces/current').send({ name: 'Renamed', settings: { tz: 'UTC' } });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('Renamed');
    expect((await owner.agent.patch('/api/workspaces/current').send({ name: '' })).body.error.details[0].path).toBe('body.name');
    const v = await addMember(owner, await t.signup('rename-viewer'), 'viewer');
    expect((await v.patch('/api/workspaces/current').send({ name: 'x' })).status).toBe(403);
    const audit = await owner.agent.get('/api/audit?entityType=workspace');
    expect(audit.body.items[0]).toMatchObject({ action: 'workspace.update', before: { name: 'rename ws' }, after: { name: 'Renamed' } });
  });
});

describe('API keys', () => {
  it('creates a key shown once (stored hashed), authenticates with Bearer, enforces scopes and revocation', async () => {
    const owner = await t.signup('keys');
    const created = await owner.agent.post('/api/api-keys').send({ name: 'ci', scopes: ['read'], role: 'editor' });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^gfk_/);
    expect(created.body.apiKey.prefix).toBe(key.slice(0, 12));
    const row = await t.db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.body.apiKey.id } });
    expect(row.keyHash).not.toContain(key);
    const list = await owner.agent.get('/api/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect(list.body.items[0]).not.toHaveProperty('keyHash');

    const bearer = supertest(t.url);
    const me = await bearer.get('/api/me').set('Authorization', `Bearer ${key}`);
    expect(me.status).toBe(200);
    expect(me.body.via).toBe('apiKey');
    expect((await bearer.get('/api/grids').set('Authorization', `Bearer ${key}`)).status).toBe(200);
    // read-only key cannot write
    expect((await bearer.post('/api/grids').set('Authorization', `Bearer ${key}`).send({ name: 'x' })).status).toBe(403);
    // another workspace through the key is 404
    const other = await t.signup('keys-other');
    expect((await bearer.get('/api/grids').set('Authorization', `Bearer ${key}`).set('X-Workspace-Id', other.workspace.id)).status).toBe(404);
    // bad key / malformed
    expect((await bearer.get('/api/me').set('Authorization', 'Bearer gfk_abcdefgh_' + 'x'.repeat(43))).status).toBe(401);
    expect((await bearer.get('/api/me').set('Authorization', 'Basic abc')).status).toBe(401);
    // revoke
    expect((await owner.agent.delete(`/api/api-keys/${created.body.apiKey.id}`)).status).toBe(204);
    expect((await bearer.get('/api/me').set('Authorization', `Bearer ${key}`)).status).toBe(401);
    expect((await other.agent.delete(`/api/api-keys/${created.body.apiKey.id}`)).status).toBe(404);
    // invalid scope named; a key above the creator's role is refused
    const badScope = await owner.agent.post('/api/api-keys').send({ name: 'x', scopes: ['root'] });
    expect(badScope.body.error.details[0].path).toBe('body.scopes[0]');
    const audit = await owner.agent.get('/api/audit?entityType=api_key');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['api_key.revoke', 'api_key.create']);
    expect(JSON.stringify(audit.body)).not.toContain(key);
  });

  it('a key acts with at most its creator’s current role', async () => {
    const owner = await t.signup('cap');
    const ed = await t.signup('cap-editor');
    const asEd = await addMember(owner, ed, 'admin');
    const k = await asEd.post('/api/api-keys').send({ name: 'k', scopes: ['read', 'write', 'admin'], role: 'admin' });
    expect(k.status).toBe(201);
    await owner.agent.patch(`/api/members/${ed.user.id}`).send({ role: 'viewer' });
    const me = await supertest(t.url).get('/api/me').set('Authorization', `Bearer ${k.body.key}`);
    expect(me.body.role).toBe('viewer');
    expect((await supertest(t.url).post('/api/grids').set('Authorization', `Bearer ${k.body.key}`).send({ name: 'x' })).status).toBe(403);
    // viewers cannot see keys at all
    expect((await asEd.get('/api/api-keys')).status).toBe(403);
  });
});

describe('audit and notifications', () => {
  it('audit is admin-only, paginated, and never holds secrets', async () => {
    const owner = await t.signup('audit');
    for (let i = 0; i < 3; i++) await owner.agent.post('/api/grids').send({ name: `g${i}` });
    const p1 = await owner.agent.get('/api/audit?limit=2');
    expect(p1.status).toBe(200);
    expect(p1.body.items).toHaveLength(2);
    expect(p1.body.nextCursor).toBeTruthy();
    const p2 = await owner.agent.get(`/api/audit?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items.length).toBeGreaterThan(0);
    expect(p2.body.items[0].id).not.toBe(p1.body.items[1].id);
    expect(p1.body.items[0]).toMatchObject({ actorLabel: owner.email, ipAddress: expect.any(String) });
    expect((await owner.agent.get('/api/audit?limit=0')).body.error.details[0].path).toBe('query.limit');
    expect((await owner.agent.get('/api/audit?cursor=%%%')).status).toBe(400);
    const viewer = await t.signup('audit-viewer');
    const asViewer = await addMember(owner, viewer, 'viewer');
    expect((await asViewer.get('/api/audit')).status).toBe(403);
    expect((await t.agent().get('/api/audit')).status).toBe(401);
  });

  it('lists and marks notifications of the caller only', async () => {
    const u = await t.signup('notif');
    const other = await t.signup('notif-other');
    const n = await t.db.prisma.notification.create({ data: { workspaceId: u.workspace.id, userId: u.user.id, type: 'approval.requested', title: 'Please approve' } });
    const list = await u.agent.get('/api/notifications?unread=true');
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([n.id]);
    expect((await other.agent.post(`/api/notifications/${n.id}/read`)).status).toBe(404);
    expect((await u.agent.post(`/api/notifications/${n.id}/read`)).status).toBe(204);
    expect((await u.agent.get('/api/notifications?unread=true')).body.items).toEqual([]);
  });
});
