import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, simpleDoc, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

let t: TestServer;
let owner: TestUser;
let stranger: TestUser;
beforeAll(async () => {
  t = await startTestServer();
  owner = await t.signup('grids');
  stranger = await t.signup('stranger');
});
afterAll(async () => {
  await t?.close();
});

async function createGrid(doc: unknown = simpleDoc(), name = 'My grid') {
  const r = await owner.agent.post('/api/grids').send({ name, document: doc });
  expect(r.status).toBe(201);
  return r.body.grid as { id: string; draftVersion: number };
}

describe('grids CRUD', () => {
  it('creates, lists, reads and saves with optimistic concurrency (409 on a stale write)', async () => {
    const g = await createGrid();
    const list = await owner.agent.get('/api/grids');
    expect(list.body.items.map((x: { id: string }) => x.id)).toContain(g.id);
    expect(list.body.items[0]).not.toHaveProperty('document');
    const get = await owner.agent.get(`/api/grids/${g.id}`);
    expect(get.status).toBe(200);
    expect(get.headers.etag).toBe('"1"');
    expect(get.body.validation.ok).toBe(true);

    const save = await owner.agent.put(`/api/grids/${g.id}`).set('If-Match', '"1"').send({ name: 'Renamed' });
    expect(save.status).toBe(200);
    expect(save.body.grid.draftVersion).toBe(2);
    expect(save.headers.etag).toBe('"2"');
    // a second editor still on version 1 loses, no silent last-save-wins
    const stale = await owner.agent.put(`/api/grids/${g.id}`).set('If-Match', '"1"').send({ name: 'Clobber' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.currentDraftVersion).toBe(2);
    expect((await owner.agent.get(`/api/grids/${g.id}`)).body.grid.name).toBe('Renamed');
    // body field works too; missing version is a 400 naming the field
    expect((await owner.agent.put(`/api/grids/${g.id}`).send({ name: 'Again', draftVersion: 2 })).status).toBe(200);
    const missing = await owner.agent.put(`/api/grids/${g.id}`).send({ name: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].path).toBe('body.draftVersion');
  });

  it('reports validation problems per node/field on save; structural garbage is a 400 naming the path', async () => {
    const doc = simpleDoc();
    (doc.nodes[1]!.config as Record<string, unknown>).code = '';
    doc.edges.push({ id: 'e2', source: 'code', sourceHandle: 'out', target: 'ghost', targetHandle: 'in' });
    const r = await owner.agent.post('/api/grids').send({ name: 'Broken', document: doc });
    expect(r.status).toBe(201);
    expect(r.body.validation.ok).toBe(false);
    const errs = r.body.validation.errors as Array<{ code: string; nodeId?: string; edgeId?: string; field?: string }>;
    expect(errs).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'bad_config', nodeId: 'code' }), expect.objectContaining({ code: 'dangling_edge', edgeId: 'e2' })]));
    // publishing a draft with problems is refused, each problem named
    const pub = await owner.agent.post(`/api/grids/${r.body.grid.id}/versions`).send({ note: 'no' });
    expect(pub.status).toBe(400);
    expect(pub.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['nodes.code.config.code', 'edges.e2']));

    const garbage = await owner.agent.post('/api/grids').send({ name: 'x', document: { schemaVersion: 1, nodes: [{ id: 'a b' }], edges: 'no' } });
    expect(garbage.status).toBe(400);
    const paths = garbage.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.document.nodes[0].id', 'body.document.edges']));
  });

  it('viewers read but cannot write (403); other workspaces get 404 and change nothing', async () => {
    const g = await createGrid();
    const viewer = await t.signup('grid-viewer');
    const asViewer = await addMember(owner, viewer, 'viewer');
    expect((await asViewer.get(`/api/grids/${g.id}`)).status).toBe(200);
    expect((await asViewer.put(`/api/grids/${g.id}`).send({ name: 'v', draftVersion: 1 })).status).toBe(403);
    expect((await asViewer.post('/api/grids').send({ name: 'v' })).status).toBe(403);
    expect((await asViewer.post(`/api/grids/${g.id}/versions`).send({})).status).toBe(403);
    expect((await asViewer.delete(`/api/grids/${g.id}`)).status).toBe(403);

    for (const [method, path] of [
      ['get', `/api/grids/${g.id}`],
      ['put', `/api/grids/${g.id}`],
      ['delete', `/api/grids/${g.id}`],
      ['post', `/api/grids/${g.id}/versions`],
      ['get', `/api/grids/${g.id}/versions`],
      ['get', `/api/grids/${g.id}/export`],
      ['get', `/api/grids/${g.id}/webhooks`],
    ] as const) {
      const r = await stranger.agent[method](path).send(method === 'put' ? { name: 'pwned', draftVersion: 1 } : {});
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    const after = await owner.agent.get(`/api/grids/${g.id}`);
    expect(after.body.grid.name).toBe('My grid');
    expect((await t.agent().get(`/api/grids/${g.id}`)).status).toBe(401);
  });

  it('deletes (archives) a grid: gone from list and reads', async () => {
    const g = await createGrid();
    expect((await owner.agent.delete(`/api/grids/${g.id}`)).status).toBe(204);
    expect((await owner.agent.get(`/api/grids/${g.id}`)).status).toBe(404);
    expect((await owner.agent.get('/api/grids')).body.items.map((x: { id: string }) => x.id)).not.toContain(g.id);
  });
});

describe('versions', () => {
  it('publishes immutable versions with notes, lists, gets, diffs and restores', async () => {
    const g = await createGrid();
    const v1 = await owner.agent.post(`/api/grids/${g.id}/versions`).send({ note: 'first' });
    expect(v1.status).toBe(201);
    expect(v1.body.version.number).toBe(1);
    const doc2 = simpleDoc(undefined, 'return { changed: true };');
    doc2.nodes.push({ id: 'extra', type: 'code', typeVersion: 1, name: 'Extra', position: { x: 400, y: 0 }, config: { code: 'return 1;' } });
    doc2.edges.push({ id: 'e2', source: 'code', sourceHandle: 'out', target: 'extra', targetHandle: 'in' });
    expect((await owner.agent.put(`/api/grids/${g.id}`).set('If-Match', '1').send({ document: doc2 })).status).toBe(200);
    const v2 = await owner.agent.post(`/api/grids/${g.id}/versions`).send({ note: 'second' });
    expect(v2.body.version.number).toBe(2);

    const list = await owner.agent.get(`/api/grids/${g.id}/versions`);
    expect(list.body.items.map((v: { number: number; current: boolean }) => [v.number, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    const got = await owner.agent.get(`/api/grids/${g.id}/versions/1`);
    expect(got.body.note).toBe('first');
    expect(got.body.document.nodes).toHaveLength(2);
    expect((await owner.agent.get(`/api/grids/${g.id}/versions/9`)).status).toBe(404);
    expect((await owner.agent.get(`/api/grids/${g.id}/versions/zero`)).body.error.details[0].path).toBe('params.n');

    const diff = await owner.agent.get(`/api/grids/${g.id}/versions/1/diff/2`);
    expect(diff.status).toBe(200);
    expect(diff.body.nodes.added.map((n: { id: string }) => n.id)).toEqual(['extra']);
    expect(diff.body.edges.added.map((e: { id: string }) => e.id)).toEqual(['e2']);
    expect(diff.body.nodes.changed).toEqual([
      expect.objectContaining({ id: 'code', changes: [expect.objectContaining({ path: 'config.code', change: 'changed', after: 'return { changed: true };' })] }),
    ]);
    const toDraft = await owner.agent.get(`/api/grids/${g.id}/versions/2/diff/draft`);
    expect(toDraft.body.identical).toBe(true);

    const restored = await owner.agent.post(`/api/grids/${g.id}/versions/1/restore`).send({});
    expect(restored.status).toBe(200);
    expect(restored.body.grid.document.nodes).toHaveLength(2);
    expect(restored.body.grid.draftVersion).toBe(3);
    // versions stay immutable
    expect((await owner.agent.get(`/api/grids/${g.id}/versions/2`)).body.document.nodes).toHaveLength(3);
    const audit = await owner.agent.get(`/api/audit?entityId=${g.id}`);
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['grid.publish', 'grid.restore', 'grid.update', 'grid.create']));
  });

  it('publishing a webhook trigger creates its trigger (secret shown once), a schedule trigger its schedule', async () => {
    const g = await createGrid(simpleDoc({ mode: 'webhook', path: 'new-article', auth: 'hmac' }));
    const pub = await owner.agent.post(`/api/grids/${g.id}/versions`).send({});
    expect(pub.status).toBe(201);
    expect(pub.body.webhooks).toEqual([
      expect.objectContaining({ nodeId: 'trigger', path: `${owner.workspace.slug}/new-article`, secret: expect.stringMatching(/^[0-9a-f]{48}$/) }),
    ]);
    const row = await t.db.prisma.webhookTrigger.findFirstOrThrow({ where: { gridId: g.id } });
    expect(row.secretEncrypted).not.toContain(pub.body.webhooks[0].secret);
    const info = await owner.agent.get(`/api/grids/${g.id}/webhooks`);
    expect(info.body.items[0]).toMatchObject({ signed: true, isActive: true, url: expect.stringContaining('/hooks/') });
    expect(JSON.stringify(info.body)).not.toContain(pub.body.webhooks[0].secret);
    // publishing again keeps the secret (not shown again)
    const again = await owner.agent.post(`/api/grids/${g.id}/versions`).send({});
    expect(again.body.webhooks[0].secret).toBeUndefined();
    // rotate
    const rot = await owner.agent.post(`/api/grids/${g.id}/webhooks/trigger/secret`).send({});
    expect(rot.body.secret).toMatch(/^[0-9a-f]{48}$/);
    // a second grid cannot take the same path
    const g2 = await createGrid(simpleDoc({ mode: 'webhook', path: 'new-article' }));
    const clash = await owner.agent.post(`/api/grids/${g2.id}/versions`).send({});
    expect(clash.status).toBe(409);
    expect(clash.body.error.details[0].path).toBe('nodes.trigger.config.path');

    const s = await createGrid(simpleDoc({ mode: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris' }));
    expect((await owner.agent.post(`/api/grids/${s.id}/versions`).send({})).status).toBe(201);
    const sched = await t.db.prisma.schedule.findFirstOrThrow({ where: { gridId: s.id } });
    expect(sched).toMatchObject({ cron: '0 9 * * 1', timezone: 'Europe/Paris', isActive: true });
    expect(sched.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    // switching the trigger to manual deactivates the schedule on the next publish
    const cur = await owner.agent.get(`/api/grids/${s.id}`);
    await owner.agent.put(`/api/grids/${s.id}`).set('If-Match', String(cur.body.grid.draftVersion)).send({ document: simpleDoc() });
    await owner.agent.post(`/api/grids/${s.id}/versions`).send({});
    expect((await t.db.prisma.schedule.findFirstOrThrow({ where: { gridId: s.id } })).isActive).toBe(false);
  });
});

describe('export / import', () => {
  it('round-trips a grid through export and import; import validates per field', async () => {
    const g = await createGrid(simpleDoc(), 'Exported');
    const exp = await owner.agent.get(`/api/grids/${g.id}/export`);
    expect(exp.status).toBe(200);
    expect(exp.headers['content-disposition']).toMatch(/attachment; filename="exported.gridflow.json"/);
    expect(exp.body).toMatchObject({ format: 'gridflow.grid', name: 'Exported' });
    const imp = await stranger.agent.post('/api/grids/import').send(exp.body);
    expect(imp.status).toBe(201);
    expect(imp.body.grid.name).toBe('Exported');
    expect(imp.body.grid.document.nodes).toEqual(exp.body.document.nodes);
    // a bare document works too
    const bare = await stranger.agent.post('/api/grids/import').send(simpleDoc());
    expect(bare.status).toBe(201);
    const bad = await stranger.agent.post('/api/grids/import').send({ name: 'x', document: { schemaVersion: 2, nodes: [], edges: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('body.document.schemaVersion');
  });
});
