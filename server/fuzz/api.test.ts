/**
 * Hostile API bodies and webhooks, beyond server/src/routes/fuzz.integration.test.ts (which checks
 * "no 5xx + error shape"): here every 400 must name the offending field (`error.details[].path`),
 * bodies carry each route's own field names with wrong values, strings carry characters PostgreSQL
 * refuses (NUL, lone surrogates), and signed webhooks get random signatures and timestamps
 * (always 401, no run started).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import supertest from 'supertest';
import { simpleDoc, startTestServer, type TestServer, type TestUser } from '../src/testing/harness.js';
import { anyJson, nasty } from './mutate.js';

let t: TestServer;
let owner: TestUser;
let gridId: string;
let hookPath: string;
let signedPath: string;
let signedSecret: string;

beforeAll(async () => {
  t = await startTestServer({ engine: true, options: { hookRateLimit: { windowMs: 1000, max: 100_000 } } });
  owner = await t.signup('apifuzz');
  const g = await owner.agent.post('/api/grids').send({ name: 'api fuzz', document: simpleDoc({ mode: 'webhook', path: 'apifuzz' }) });
  gridId = g.body.grid.id;
  hookPath = `/hooks/${(await owner.agent.post(`/api/grids/${gridId}/versions`).send({})).body.webhooks[0].path}`;
  const s = await owner.agent.post('/api/grids').send({ name: 'signed', document: simpleDoc({ mode: 'webhook', path: 'signedfuzz', auth: 'hmac' }) });
  const pub = await owner.agent.post(`/api/grids/${s.body.grid.id}/versions`).send({});
  signedPath = `/hooks/${pub.body.webhooks[0].path}`;
  signedSecret = pub.body.webhooks[0].secret;
  expect(typeof signedSecret).toBe('string');
}, 120_000);
afterAll(async () => {
  await t?.close();
});

type ErrorBody = { error: { code: string; message: string; details: Array<{ path: string; message: string }> } };

/** No 5xx; a 400 names at least one field with a path into the request. */
function checkRejection(status: number, body: unknown, where: string) {
  expect(status, `${where}: ${JSON.stringify(body).slice(0, 300)}`).toBeLessThan(500);
  if (status === 400) {
    const e = (body as ErrorBody).error;
    expect(e.details.length, `${where}: 400 without details ${JSON.stringify(body).slice(0, 300)}`).toBeGreaterThan(0);
    for (const d of e.details) {
      expect(d.path).toMatch(/^(body|query|params|header)\b/);
      expect(typeof d.message).toBe('string');
    }
  } else if (status >= 400) {
    expect(typeof (body as ErrorBody).error?.code).toBe('string');
  }
}

/** Each write route with the field names its schema knows. */
const ROUTES: Array<{ method: 'post' | 'put' | 'patch'; path: () => string; fields: string[] }> = [
  { method: 'post', path: () => '/api/grids', fields: ['name', 'description', 'document', 'tags'] },
  { method: 'put', path: () => `/api/grids/${gridId}`, fields: ['name', 'description', 'document', 'tags', 'draftVersion'] },
  { method: 'post', path: () => `/api/grids/${gridId}/runs`, fields: ['input', 'version'] },
  { method: 'post', path: () => `/api/grids/${gridId}/versions`, fields: ['notes'] },
  { method: 'post', path: () => '/api/brand-profiles', fields: ['name', 'voiceTone', 'toneKeywords', 'bannedTerms', 'requiredTerms', 'enforcementLevel', 'minComplianceScore', 'palette', 'fonts'] },
  { method: 'post', path: () => '/api/social-accounts', fields: ['platform', 'platformAccountId', 'username', 'accessToken', 'refreshToken', 'tokenExpiresAt', 'scopes', 'metadata'] },
  { method: 'post', path: () => '/api/event-subscriptions', fields: ['url', 'events', 'description', 'active'] },
  { method: 'post', path: () => '/api/api-keys', fields: ['name', 'scopes', 'role', 'expiresAt'] },
  { method: 'post', path: () => '/api/members', fields: ['email', 'role'] },
  { method: 'patch', path: () => '/api/workspaces/current', fields: ['name', 'slug'] },
  { method: 'post', path: () => '/api/workspaces', fields: ['name', 'slug'] },
  { method: 'post', path: () => '/api/approvals/00000000-0000-0000-0000-000000000000/decision', fields: ['decision', 'comment'] },
];

describe('API write routes: every 400 names its field', () => {
  it('bodies with each route’s own field names and hostile values (1,200 requests)', async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES).chain((r) =>
          fc.tuple(fc.constant(r), fc.dictionary(fc.constantFrom(...r.fields), nasty, { maxKeys: r.fields.length }), fc.boolean()),
        ),
        async ([route, body, withVersion]) => {
          let req = (owner.agent as unknown as Record<string, (p: string) => supertest.Test>)[route.method]!(route.path());
          if (route.method === 'put' && withVersion) {
            const cur = await owner.agent.get(`/api/grids/${gridId}`);
            req = req.set('If-Match', `"${cur.body.grid.draftVersion}"`);
          }
          const r = await req.set('Content-Type', 'application/json').send(JSON.stringify(body));
          seen[r.status] = (seen[r.status] ?? 0) + 1;
          checkRejection(r.status, r.body, `${route.method.toUpperCase()} ${route.path()}`);
        },
      ),
      { numRuns: 1200 },
    );
    console.log(`[fuzz] write routes: 1200 requests, statuses ${JSON.stringify(seen)}`);
  }, 300_000);

  it('random JSON of any shape as the body of every write route', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), anyJson, async (route, body) => {
        const r = await (owner.agent as unknown as Record<string, (p: string) => supertest.Test>)[route.method]!(route.path())
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        checkRejection(r.status, r.body, `${route.method.toUpperCase()} ${route.path()}`);
      }),
      { numRuns: 300 },
    );
  }, 180_000);
});

describe('characters PostgreSQL refuses (NUL, lone surrogates)', () => {
  // JSON allows "\u0000" and "\ud800"; PostgreSQL's jsonb refuses both (22P05) and text columns
  // refuse NUL (22021). A hostile client must get a 400 naming the field, not a 500.
  const bad = ['a\u0000b', 'x\ud800y'];
  it.each(bad.map((s) => [JSON.stringify(s), s]))('%s in a grid name, a node config, a run input and a webhook body is a 4xx', async (_label, s) => {
    const results: Array<[string, number, unknown]> = [];
    const doc = simpleDoc();
    (doc.nodes[1]!.config as Record<string, unknown>).code = `return ${JSON.stringify(s)};`;
    results.push(['POST /api/grids name', ...(await owner.agent.post('/api/grids').send({ name: s, document: simpleDoc() }).then((r) => [r.status, r.body] as const))]);
    const cur = await owner.agent.get(`/api/grids/${gridId}`);
    results.push(['PUT /api/grids/:id document', ...(await owner.agent.put(`/api/grids/${gridId}`).set('If-Match', `"${cur.body.grid.draftVersion}"`).send({ document: doc }).then((r) => [r.status, r.body] as const))]);
    results.push(['POST /api/grids/:id/runs input', ...(await owner.agent.post(`/api/grids/${gridId}/runs`).send({ input: { text: s } }).then((r) => [r.status, r.body] as const))]);
    results.push(['POST /hooks body', ...(await supertest(t.url).post(hookPath).set('Content-Type', 'application/json').send(JSON.stringify({ text: s })).then((r) => [r.status, r.body] as const))]);
    console.log(`[fuzz] ${JSON.stringify(s)}: ${results.map(([w, st]) => `${w} → ${st}`).join(', ')}`);
    for (const [where, status, body] of results) checkRejection(status, body, where);
  });
});

describe('signed webhooks under random signatures and timestamps', () => {
  it('every forged, stale or malformed signature is a 401 and starts no run (400 requests); the real one works', async () => {
    const before = await t.db.prisma.execution.count();
    const now = () => Math.floor(Date.now() / 1000);
    await fc.assert(
      fc.asyncProperty(
        anyJson.map((j) => JSON.stringify(j)),
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }).map((h) => `sha256=${h}`),
          fc.constant('sha256='),
          fc.constant(''),
        ),
        fc.oneof(fc.integer({ min: -1e6, max: 1e6 }).map((d) => String(now() + d)), fc.string({ maxLength: 20 }), fc.constant('')),
        fc.boolean(),
        async (raw, sig, ts, signStale) => {
          let signature = sig.replace(/[^\x20-\x7e]/g, '');
          let timestamp = ts.replace(/[^\x20-\x7e]/g, '');
          if (signStale) {
            // A correct HMAC over a timestamp 10 minutes old: stale, must be refused too.
            timestamp = String(now() - 600);
            signature = `sha256=${createHmac('sha256', signedSecret).update(`${timestamp}.${raw}`).digest('hex')}`;
          }
          let req = supertest(t.url).post(signedPath).set('Content-Type', 'application/json');
          if (signature) req = req.set('X-Gridflow-Signature', signature);
          if (timestamp) req = req.set('X-Gridflow-Timestamp', timestamp);
          const r = await req.send(raw);
          expect(r.status, JSON.stringify(r.body)).toBe(401);
          expect(typeof r.body.error.code).toBe('string');
        },
      ),
      { numRuns: 400 },
    );
    expect(await t.db.prisma.execution.count()).toBe(before);
    const raw = JSON.stringify({ ok: 1 });
    const ts = String(now());
    const ok = await supertest(t.url)
      .post(signedPath)
      .set('Content-Type', 'application/json')
      .set('X-Gridflow-Timestamp', ts)
      .set('X-Gridflow-Signature', `sha256=${createHmac('sha256', signedSecret).update(`${ts}.${raw}`).digest('hex')}`)
      .send(raw);
    expect(ok.status).toBe(202);
    expect(await t.db.prisma.execution.count()).toBe(before + 1);
  }, 180_000);
});
