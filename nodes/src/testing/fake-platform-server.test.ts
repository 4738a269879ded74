import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePlatform, type FakePlatform } from './fake-platform-server.js';

let fake: FakePlatform;
beforeAll(async () => {
  fake = await startFakePlatform();
});
afterAll(() => fake.close());

const auth = { authorization: 'Bearer test-access-token' };

function linkedInPost(text: string, headers: Record<string, string> = {}) {
  return fetch(`${fake.url}/rest/posts`, {
    method: 'POST',
    headers: {
      ...auth,
      'content-type': 'application/json',
      'linkedin-version': '202511',
      'x-restli-protocol-version': '2.0.0',
      ...headers,
    },
    body: JSON.stringify({
      author: 'urn:li:organization:42',
      commentary: text,
      visibility: 'PUBLIC',
      distribution: {
        feedDistribution: 'MAIN_FEED',
        targetEntities: [],
        thirdPartyDistributionChannels: [],
      },
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
    }),
  });
}

describe('fake platform server', () => {
  it('LinkedIn: 201 with x-restli-id; checks token, version header and length', async () => {
    const ok = await linkedInPost('Hello LinkedIn');
    expect(ok.status).toBe(201);
    expect(ok.headers.get('x-restli-id')).toMatch(/^urn:li:share:\d+$/);
    expect((await linkedInPost('x', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await linkedInPost('x', { 'linkedin-version': '' })).status).toBe(400);
    expect((await linkedInPost('a'.repeat(3001))).status).toBe(422);
    expect(fake.posts.filter((p) => p.platform === 'linkedin')).toHaveLength(1);
  });

  it('X: 280 weighted characters, 403 beyond; counts duplicates', async () => {
    const tweet = (text: string, key?: string) =>
      fetch(`${fake.url}/2/tweets`, {
        method: 'POST',
        headers: {
          ...auth,
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: JSON.stringify({ text }),
      });
    expect((await tweet('a'.repeat(281))).status).toBe(403);
    // A URL counts 23 whatever its length.
    expect((await tweet(`${'a'.repeat(250)} https://example.com/${'x'.repeat(100)}`)).status).toBe(
      201,
    );
    const before = fake.duplicates;
    const res = await tweet('same text', 'k1');
    const body = (await res.json()) as { data: { id: string } };
    expect(body.data.id).toMatch(/^\d+$/);
    await tweet('same text', 'k1');
    expect(fake.duplicates).toBe(before + 1);
  });

  it('injects 429 with Retry-After for the next N calls, and after-accept faults record the post', async () => {
    fake.failNext(2, { status: 429, retryAfter: 3, pathPrefix: '/2/' });
    const r1 = await fetch(`${fake.url}/2/tweets`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'rate limited' }),
    });
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('3');
    const r2 = await fetch(`${fake.url}/2/tweets`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'rate limited' }),
    });
    expect(r2.status).toBe(429);
    const count = fake.posts.length;
    fake.failNext(1, { status: 502, afterAccept: true });
    const r3 = await fetch(`${fake.url}/2/tweets`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'lost answer' }),
    });
    expect(r3.status).toBe(502);
    expect(fake.posts.length).toBe(count + 1);
  });

  it('Instagram: container then publish; caption rules', async () => {
    const form = (o: Record<string, string>) =>
      new URLSearchParams({ access_token: 'test-access-token', ...o });
    const noImage = await fetch(`${fake.url}/v21.0/1789/media`, {
      method: 'POST',
      body: form({ caption: 'hi' }),
    });
    expect(noImage.status).toBe(400);
    const tooManyTags = Array.from({ length: 31 }, (_, i) => `#t${i}`).join(' ');
    expect(
      (
        await fetch(`${fake.url}/v21.0/1789/media`, {
          method: 'POST',
          body: form({ caption: tooManyTags, image_url: 'https://cdn.example.com/a.jpg' }),
        })
      ).status,
    ).toBe(400);
    const c = (await (
      await fetch(`${fake.url}/v21.0/1789/media`, {
        method: 'POST',
        body: form({ caption: 'Spring #sale', image_url: 'https://cdn.example.com/a.jpg' }),
      })
    ).json()) as { id: string };
    const p = (await (
      await fetch(`${fake.url}/v21.0/1789/media_publish`, {
        method: 'POST',
        body: form({ creation_id: c.id }),
      })
    ).json()) as { id: string };
    const perm = (await (
      await fetch(`${fake.url}/v21.0/${p.id}?fields=permalink&access_token=test-access-token`)
    ).json()) as { permalink: string };
    expect(perm.permalink).toMatch(/^https:\/\/www\.instagram\.com\/p\//);
    fake.setMetrics(p.id, { impressions: 500, likes: 50 });
    const ins = (await (
      await fetch(
        `${fake.url}/v21.0/${p.id}/insights?metric=impressions,likes&access_token=test-access-token`,
      )
    ).json()) as { data: Array<{ name: string; values: Array<{ value: number }> }> };
    expect(ins.data.map((d) => [d.name, d.values[0]!.value])).toEqual([
      ['impressions', 500],
      ['likes', 50],
    ]);
  });

  it('refreshes tokens through the OAuth endpoint', async () => {
    const res = await fetch(`${fake.url}/oauth/v2/accessToken`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'test-refresh-token',
      }),
    });
    const body = (await res.json()) as { access_token: string };
    expect(fake.issuedTokens).toContain(body.access_token);
    const bad = await fetch(`${fake.url}/oauth/v2/accessToken`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'nope' }),
    });
    expect(bad.status).toBe(400);
  });
});
