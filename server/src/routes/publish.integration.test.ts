import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePlatform, type FakePlatform } from '@gridflow/nodes/testing/index';
import { startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

// A social account connected through the API (tokens encrypted by the server, bound to the
// account's row) is used by the publish node inside a real run: the connector must decrypt the
// token the server wrote and post once to the platform.
let t: TestServer;
let owner: TestUser;
let platform: FakePlatform;

beforeAll(async () => {
  platform = await startFakePlatform({ tokens: ['server-written-token'] });
  t = await startTestServer({ engine: true, platformUrls: { linkedin: platform.url } });
  owner = await t.signup('publish');
});
afterAll(async () => {
  await t?.close();
  await platform?.close();
});

describe('publish with an account connected through the API', () => {
  it('decrypts the server-encrypted token and posts exactly once', async () => {
    const acc = await owner.agent.post('/api/social-accounts').send({
      platform: 'linkedin',
      platformAccountId: 'org-42',
      displayName: 'Acme',
      accessToken: 'server-written-token',
    });
    expect(acc.status, JSON.stringify(acc.body)).toBe(201);
    expect(JSON.stringify(acc.body)).not.toContain('server-written-token');

    const doc = {
      schemaVersion: 1,
      nodes: [
        { id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: { x: 0, y: 0 }, config: { mode: 'manual', fields: [] } },
        {
          id: 'pub',
          type: 'publish',
          typeVersion: 1,
          name: 'Publish',
          position: { x: 200, y: 0 },
          config: { platform: 'linkedin', text: 'Spring launch: {{ trigger.headline }}' },
        },
      ],
      edges: [{ id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'pub', targetHandle: 'main' }],
    };
    const g = await owner.agent.post('/api/grids').send({ name: 'publish', document: doc });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    const v = await owner.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
    expect(v.status, JSON.stringify(v.body)).toBe(201);
    const run = await owner.agent.post(`/api/grids/${g.body.grid.id}/runs`).send({ input: { headline: 'recycled fabrics' } });
    expect(run.status).toBe(202);
    const done = await t.gf.ctx.engine!.waitForCompletion(run.body.executionId, 30_000);
    expect(done?.status, JSON.stringify(done)).toBe('completed');
    expect(platform.posts).toHaveLength(1);
    expect(platform.posts[0]).toMatchObject({ platform: 'linkedin', text: 'Spring launch: recycled fabrics' });
    expect(platform.duplicates).toBe(0);
    expect(done?.outputs.pub).toMatchObject({ platform: 'linkedin', postId: platform.posts[0]!.id });
  });
});
