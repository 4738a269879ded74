/** The shipped templates (@gridflow/templates) loaded at start, listed and installed with setup answers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplates } from '@gridflow/templates';
import { startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

let t: TestServer;
let owner: TestUser;
beforeAll(async () => {
  t = await startTestServer({ deps: { templates: loadTemplates() } });
  owner = await t.signup('tpl');
});
afterAll(async () => {
  await t?.close();
});

describe('shipped templates', () => {
  it('are all in the gallery, valid, and install with setup answers applied', async () => {
    const shipped = loadTemplates();
    const list = await owner.agent.get('/api/templates');
    expect(list.body.items.map((x: { slug: string }) => x.slug).sort()).toEqual(shipped.map((s) => s.slug).sort());
    const brand = await owner.agent.post('/api/brand-profiles').send({ name: 'Acme' });
    const inst = await owner.agent.post('/api/templates/blog-post-to-linkedin/install').send({ answers: { brandProfile: brand.body.id, minScore: 80 } });
    expect(inst.status).toBe(201);
    const nodes = inst.body.grid.document.nodes as Array<{ id: string; config: Record<string, unknown> }>;
    expect(nodes.find((n) => n.id === 'guard')!.config.brandProfileId).toBe(brand.body.id);
    expect(inst.body.missingSetup).toEqual([]);
    const without = await owner.agent.post('/api/templates/blog-post-to-linkedin/install').send({});
    expect(without.status).toBe(201);
    expect(without.body.missingSetup.map((m: { id: string }) => m.id)).toContain('brandProfile');
  });

  it('a restart with the same templateVersion keeps install counts; a new version rewrites the row', async () => {
    const { syncTemplates } = await import('./templates.routes.js');
    const shipped = loadTemplates();
    const before = await t.db.prisma.template.findUniqueOrThrow({ where: { slug: 'blog-post-to-linkedin' } });
    expect(before.installCount).toBe(2);
    expect(await syncTemplates(t.gf.ctx, shipped)).toEqual({ created: 0, updated: 0 });
    const bumped = shipped.map((s) => (s.slug === 'blog-post-to-linkedin' ? { ...s, templateVersion: s.templateVersion + 1, title: 'Renamed' } : s));
    expect(await syncTemplates(t.gf.ctx, bumped)).toEqual({ created: 0, updated: 1 });
    const after = await t.db.prisma.template.findUniqueOrThrow({ where: { slug: 'blog-post-to-linkedin' } });
    expect(after).toMatchObject({ name: 'Renamed', installCount: 2, id: before.id });
  });
});
