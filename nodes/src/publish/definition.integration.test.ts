/* eslint-disable @typescript-eslint/no-explicit-any -- node outputs are Json; tests read them loosely and check them with expect */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '@gridflow/db';
import {
  NonRetriableError,
  RetryAfterError,
  UserError,
  type OutputResult,
} from '@gridflow/runtime';
import { publishConfigSchema, publishNode } from './definition.js';
import { createFakeContext } from '../testing/fake-context.js';
import { startFakePlatform, type FakePlatform } from '../testing/fake-platform-server.js';
import { createTestHttpClient, type TestHttpClient } from '../testing/test-http-client.js';
import { seedWorkspace, type SeededWorkspace } from '../testing/content-fixtures.js';

let db: Database;
let fake: FakePlatform;
let seed: SeededWorkspace;
let http: TestHttpClient;
const enc = (s: string) => `fake-enc:${Buffer.from(s).toString('base64')}`;

beforeAll(async () => {
  [db, fake] = await Promise.all([
    createTestDatabase('postgres'),
    startFakePlatform({ rejectDuplicateTweets: true }),
  ]);
  seed = await seedWorkspace(db.prisma);
});
afterAll(async () => {
  await Promise.all([db?.close(), fake?.close()]);
});
beforeEach(() => {
  http = createTestHttpClient();
});

async function account(platform: string, over: Record<string, unknown> = {}) {
  return db.prisma.socialAccount.create({
    data: {
      workspaceId: seed.workspaceId,
      platform,
      platformAccountId:
        (over['platformAccountId'] as string) ??
        `${platform}-${Math.random().toString(36).slice(2, 8)}`,
      username: 'acmebakery',
      accessTokenEncrypted: enc('test-access-token'),
      ...over,
    },
  });
}

let n = 0;
function ctxFor(
  config: Record<string, unknown>,
  opts: { step?: string; input?: unknown; workspaceId?: string } = {},
) {
  const exec = opts.step ?? `pub-${++n}`;
  return createFakeContext({
    config: publishConfigSchema.parse(config),
    input: (opts.input ?? null) as never,
    db: db.prisma,
    http,
    node: { id: 'publish1', type: 'publish' },
    execution: { id: exec, workspaceId: opts.workspaceId ?? seed.workspaceId },
    env: {
      platformBaseUrls: {
        linkedin: fake.url,
        x: fake.url,
        facebook: `${fake.url}/v21.0`,
        instagram: `${fake.url}/v21.0`,
      },
    },
  });
}
const out = (r: unknown) => (r as OutputResult).output as Record<string, any>;

describe('publish node', () => {
  it('posts to LinkedIn in its API shape, logs the attempt, and never posts twice for one step', async () => {
    const acct = await account('linkedin', { platformAccountId: 'urn:li:organization:42' });
    const text = 'Spring workshop (Saturday) with *fresh* bread #Sourdough';
    const ctx = ctxFor({ accountId: acct.id }, { step: 'li-once', input: { text } });
    const res = out(await publishNode.run(ctx));
    expect(res.postId).toMatch(/^urn:li:share:\d+$/);
    expect(res.url).toBe(`https://www.linkedin.com/feed/update/${res.postId}/`);
    const posted = fake.posts.find((p) => p.id === res.postId)!;
    expect(posted.text).toBe(text); // little-text escaping round-trips
    expect((posted.body as { commentary: string }).commentary).toContain('{hashtag|\\#|Sourdough}');
    expect(posted.target).toBe('urn:li:organization:42');
    expect(http.calls.every((c) => c.options.allowPrivateNetwork === true)).toBe(true);

    const row = await db.prisma.publishedPost.findFirstOrThrow({
      where: { id: res.publishedPostId, workspaceId: seed.workspaceId },
    });
    expect(row).toMatchObject({
      status: 'published',
      platformPostId: res.postId,
      idempotencyKey: ctx.step.idempotencyKey,
      attempts: 1,
    });
    const attempts = await db.prisma.publishAttempt.findMany({ where: { postId: row.id } });
    expect(attempts).toMatchObject([
      { attemptNumber: 1, status: 'published', httpStatus: 201, platformPostId: res.postId },
    ]);
    expect(ctx.events).toMatchObject([
      { type: 'post.published', data: { platform: 'linkedin', postId: res.postId } },
    ]);

    const count = fake.posts.length;
    const again = out(
      await publishNode.run(ctxFor({ accountId: acct.id }, { step: 'li-once', input: { text } })),
    );
    expect(again).toEqual(res);
    expect(fake.posts.length).toBe(count);
  });

  it('429 → RetryAfterError with the platform Retry-After, logged; the retry posts exactly once', async () => {
    await account('x');
    fake.failNext(1, { status: 429, retryAfter: 3, pathPrefix: '/2/tweets' });
    const err = await publishNode
      .run(ctxFor({ platform: 'x', text: 'Rate limited tweet' }, { step: 'x-429' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(3000);
    const res = out(
      await publishNode.run(
        ctxFor({ platform: 'x', text: 'Rate limited tweet' }, { step: 'x-429' }),
      ),
    );
    expect(res.url).toBe(`https://x.com/acmebakery/status/${res.postId}`);
    const attempts = await db.prisma.publishAttempt.findMany({
      where: { postId: res.publishedPostId },
      orderBy: { attemptNumber: 'asc' },
    });
    expect(attempts.map((a) => [a.status, a.errorCode, a.httpStatus])).toEqual([
      ['failed', 'rate_limited', 429],
      ['published', null, 201],
    ]);
    expect(fake.posts.filter((p) => p.text === 'Rate limited tweet')).toHaveLength(1);
  });

  it('an accepted post whose answer was lost is adopted on retry, not posted twice', async () => {
    const li = await account('linkedin', { platformAccountId: 'urn:li:organization:4242' });
    const before = fake.duplicates;
    fake.failNext(1, { status: 502, afterAccept: true, pathPrefix: '/rest/posts' });
    const first = await publishNode
      .run(ctxFor({ accountId: li.id, text: 'Lost answer (LinkedIn)' }, { step: 'li-lost' }))
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(NonRetriableError);
    expect(fake.posts.filter((p) => p.text === 'Lost answer (LinkedIn)')).toHaveLength(1);
    const ctx = ctxFor({ accountId: li.id, text: 'Lost answer (LinkedIn)' }, { step: 'li-lost' });
    const res = out(await publishNode.run(ctx));
    expect(res.postId).toBe(fake.posts.find((p) => p.text === 'Lost answer (LinkedIn)')!.id);
    expect(fake.posts.filter((p) => p.text === 'Lost answer (LinkedIn)')).toHaveLength(1);
    expect(fake.duplicates).toBe(before);
    const attempts = await db.prisma.publishAttempt.findMany({
      where: { postId: res.publishedPostId },
      orderBy: { attemptNumber: 'asc' },
    });
    expect(attempts.map((a) => [a.status, a.errorCode, a.platformPostId])).toEqual([
      ['failed', 'server_error', null],
      ['published', null, res.postId],
    ]);
    expect(ctx.events).toMatchObject([{ type: 'post.published', data: { reconciled: true } }]);

    // A worker that died mid-call leaves the row "publishing": the retry checks first, and posts when nothing arrived.
    const xAcct = await account('x', { platformAccountId: '990001' });
    const crashed = ctxFor({ accountId: xAcct.id, text: 'Crashed mid-call' }, { step: 'x-crash' });
    await db.prisma.publishedPost.create({
      data: {
        workspaceId: seed.workspaceId,
        idempotencyKey: crashed.step.idempotencyKey,
        platform: 'x',
        status: 'publishing',
        text: 'Crashed mid-call',
      },
    });
    const posted = out(await publishNode.run(crashed));
    expect(fake.posts.filter((p) => p.text === 'Crashed mid-call')).toHaveLength(1);
    expect(posted.postId).toBe(fake.posts.find((p) => p.text === 'Crashed mid-call')!.id);
    expect(fake.requests.some((r) => r.path === '/2/users/990001/tweets')).toBe(true);
  });

  it('finds the lost post even when the account posted hundreds of times since (paging back)', async () => {
    const li = await account('linkedin', { platformAccountId: 'urn:li:organization:5151' });
    const xAcct = await account('x', { platformAccountId: '990002' });
    const fb = await account('facebook', { platformAccountId: '5152' });
    const ig = await account('instagram', { platformAccountId: '1789153' });
    const before = fake.duplicates;
    fake.failNext(1, { status: 502, afterAccept: true, pathPrefix: '/rest/posts' });
    fake.failNext(1, { status: 502, afterAccept: true, pathPrefix: '/2/tweets' });
    fake.failNext(1, { status: 502, afterAccept: true, pathPrefix: '/v21.0/5152/feed' });
    fake.failNext(1, {
      status: 502,
      afterAccept: true,
      pathPrefix: '/v21.0/1789153/media_publish',
    });
    const ctxs = [
      () => ctxFor({ accountId: li.id, text: 'Busy account (LinkedIn)' }, { step: 'li-busy' }),
      () => ctxFor({ accountId: xAcct.id, text: 'Busy account (X)' }, { step: 'x-busy' }),
      () => ctxFor({ accountId: fb.id, text: 'Busy account (Facebook)' }, { step: 'fb-busy' }),
      () =>
        ctxFor(
          {
            accountId: ig.id,
            text: 'Busy account (Instagram)',
            mediaUrls: ['https://cdn.example.com/b.jpg'],
          },
          { step: 'ig-busy' },
        ),
    ];
    for (const c of ctxs)
      expect(await publishNode.run(c()).catch((e: unknown) => e)).toBeInstanceOf(Error);
    // 250 newer posts on each account: more than two pages of the platforms' post lists.
    const lost = fake.posts.filter((p) => p.text.startsWith('Busy account'));
    expect(lost.map((p) => p.platform).sort()).toEqual(['facebook', 'instagram', 'linkedin', 'x']);
    for (let i = 0; i < 250; i++) {
      for (const p of lost)
        fake.posts.push({
          ...p,
          id: `${p.id}-later-${i}`,
          text: `Later post ${i}`,
          body: { commentary: `Later post ${i}` },
          at: new Date(),
        });
    }
    for (const c of ctxs) {
      const res = out(await publishNode.run(c()));
      expect(res.postId).toBe(lost.find((p) => p.text === c().config.text)!.id);
    }
    expect(fake.posts.filter((p) => p.text.startsWith('Busy account'))).toHaveLength(4);
    expect(fake.duplicates).toBe(before);
  });

  it('5xx is retryable; platform 4xx is not (X duplicate content), and the post is marked failed', async () => {
    fake.failNext(1, { status: 503, pathPrefix: '/2/tweets' });
    const e5 = await publishNode
      .run(ctxFor({ platform: 'x', text: 'Server trouble' }))
      .catch((e: unknown) => e);
    expect(e5).toBeInstanceOf(Error);
    expect(e5).not.toBeInstanceOf(NonRetriableError);
    expect((e5 as { code: string }).code).toBe('SERVER_ERROR');

    await publishNode.run(ctxFor({ platform: 'x', text: 'Same words twice' }));
    const ctx = ctxFor({ platform: 'x', text: 'Same words twice' });
    const dup = await publishNode.run(ctx).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(NonRetriableError);
    expect((dup as NonRetriableError).code).toBe('DUPLICATE');
    const row = await db.prisma.publishedPost.findFirstOrThrow({
      where: { idempotencyKey: ctx.step.idempotencyKey },
    });
    expect(row.status).toBe('failed');
    expect(ctx.events).toMatchObject([{ type: 'post.failed', data: { code: 'duplicate' } }]);
  });

  it('checks platform limits before calling the API', async () => {
    const calls = fake.requests.length;
    await expect(
      publishNode.run(ctxFor({ platform: 'x', text: 'a'.repeat(281) })),
    ).rejects.toMatchObject({ name: 'UserError', field: 'config.text' });
    await account('instagram', { platformAccountId: '1789001' });
    await expect(
      publishNode.run(ctxFor({ platform: 'instagram', text: 'No picture' })),
    ).rejects.toMatchObject({ field: 'config.mediaUrls' });
    expect(fake.requests.length).toBe(calls);
  });

  it('refreshes an expired token, stores it encrypted, then posts', async () => {
    const acct = await account('linkedin', {
      platformAccountId: 'urn:li:person:77',
      accessTokenEncrypted: enc('stale-token'),
      refreshTokenEncrypted: enc('test-refresh-token'),
      tokenExpiresAt: new Date(Date.now() - 60_000),
    });
    const res = out(await publishNode.run(ctxFor({ accountId: acct.id, text: 'After refresh' })));
    const updated = await db.prisma.socialAccount.findFirstOrThrow({ where: { id: acct.id } });
    const token = Buffer.from(
      updated.accessTokenEncrypted.slice('fake-enc:'.length),
      'base64',
    ).toString();
    expect(fake.issuedTokens).toContain(token);
    expect(updated.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(fake.posts.find((p) => p.id === res.postId)!.token).toBe(token);
  });

  it('refreshes after a 401 from the platform; without a refresh token asks to reconnect', async () => {
    const acct = await account('x', {
      accessTokenEncrypted: enc('revoked-token'),
      refreshTokenEncrypted: enc('test-refresh-token'),
    });
    const res = out(await publishNode.run(ctxFor({ accountId: acct.id, text: 'Second chance' })));
    const attempts = await db.prisma.publishAttempt.findMany({
      where: { postId: res.publishedPostId },
      orderBy: { attemptNumber: 'asc' },
    });
    expect(attempts.map((a) => a.errorCode)).toEqual(['auth_expired', null]);

    const dead = await account('x', { accessTokenEncrypted: enc('revoked-token') });
    const err = await publishNode
      .run(ctxFor({ accountId: dead.id, text: 'No way' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect((err as Error).message).toMatch(/reconnected/);
    expect(
      (await db.prisma.socialAccount.findFirstOrThrow({ where: { id: dead.id } })).status,
    ).toBe('expired');
  });

  it('Instagram: container + publish + permalink; Facebook: page feed', async () => {
    const ig = await account('instagram', { platformAccountId: '1789002' });
    const r = out(
      await publishNode.run(
        ctxFor({
          accountId: ig.id,
          text: 'Croissants #bakery',
          mediaUrls: ['https://cdn.example.com/c.jpg'],
        }),
      ),
    );
    expect(r.url).toMatch(/^https:\/\/www\.instagram\.com\/p\//);
    expect(fake.posts.find((p) => p.id === r.postId)).toMatchObject({
      platform: 'instagram',
      target: '1789002',
      mediaUrls: ['https://cdn.example.com/c.jpg'],
    });
    const fb = await account('facebook', { platformAccountId: '555' });
    const f = out(
      await publishNode.run(
        ctxFor({ accountId: fb.id, text: 'Open day', link: 'https://acme.example/open' }),
      ),
    );
    expect(f.postId).toMatch(/^555_\d+$/);
    expect(fake.posts.find((p) => p.id === f.postId)).toMatchObject({
      link: 'https://acme.example/open',
      text: 'Open day',
    });
  });

  it('without a connected account: user error naming the account, or the generic webhook when configured', async () => {
    const other = await seedWorkspace(db.prisma);
    const err = await publishNode
      .run(ctxFor({ platform: 'linkedin', text: 'hi' }, { workspaceId: other.workspaceId }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      /No LinkedIn account is connected.*Connect a LinkedIn account/,
    );

    http = createTestHttpClient({ permitLoopback: true });
    const ctx = ctxFor(
      { platform: 'linkedin', text: 'via webhook', webhookUrl: `${fake.url}/webhook/acme` },
      { workspaceId: other.workspaceId },
    );
    const res = out(await publishNode.run(ctx));
    expect(res.platform).toBe('generic');
    const hook = fake.posts.find((p) => p.id === res.postId)!;
    expect(hook).toMatchObject({
      platform: 'generic',
      text: 'via webhook',
      idempotencyKey: ctx.step.idempotencyKey,
    });
    // A user-given URL never gets the private-network exemption: it is left to the operator's
    // GRIDFLOW_HTTP_ALLOW_PRIVATE setting of the http client (refused by default).
    expect(http.calls.map((c) => c.options.allowPrivateNetwork)).toEqual([undefined]);
  });
});
