import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetriableError, RetryAfterError, UserError } from '@gridflow/runtime/errors';
import type { HttpClient, HttpRequestOptions, Json } from '@gridflow/runtime/node-type';
import { createHttpClient } from '@gridflow/runtime/http-client';
import { createFakeContext } from '../testing/fake-context.js';
import {
  listen,
  readRequest,
  sendJson,
  type Listening,
  type RecordedRequest,
} from '../testing/http-util.js';
import { httpConfigSchema, httpNode } from './definition.js';

/**
 * The runtime's real SSRF-protected client. The local test server is on loopback, so the operator
 * setting `allowPrivateNetwork` is on for this client; the wrapper records the options the node
 * passed, so tests can check the node never asks for private-network access itself.
 */
function testClient(seen: HttpRequestOptions[], base: HttpClient = operatorClient): HttpClient {
  return {
    request(url, options = {}) {
      seen.push(options);
      return base.request(url, options);
    },
  };
}
const operatorClient = createHttpClient({ allowPrivateNetwork: true });

let server: Listening;
const requests: RecordedRequest[] = [];
let nextStatus: {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string;
} | null = null;

beforeAll(async () => {
  server = await listen(async (req, res) => {
    const rec = await readRequest(req);
    requests.push(rec);
    if (nextStatus) {
      const s = nextStatus;
      nextStatus = null;
      if (s.raw !== undefined) {
        res.writeHead(s.status, { 'content-type': 'text/plain', ...s.headers });
        res.end(s.raw);
        return;
      }
      sendJson(res, s.status, s.body ?? { error: 'injected' }, s.headers);
      return;
    }
    sendJson(res, 200, {
      ok: true,
      echo: { method: rec.method, path: rec.path, query: rec.query, body: rec.body },
    });
  });
});
afterAll(() => server.close());

function ctxFor(
  rawConfig: Record<string, unknown>,
  opts: { attempt?: number; client?: HttpClient } = {},
) {
  const seen: HttpRequestOptions[] = [];
  const ctx = createFakeContext({
    config: httpConfigSchema.parse(rawConfig),
    input: null as Json,
    node: { name: 'Notify chat' },
    step: { attempt: opts.attempt ?? 1 },
    http: testClient(seen, opts.client),
  });
  return { ctx, seen };
}

describe('http config', () => {
  it('has safe defaults', () => {
    expect(httpConfigSchema.parse({ url: 'https://example.com' })).toMatchObject({
      method: 'GET',
      headers: [],
      query: [],
      body: { type: 'none' },
      auth: { type: 'none' },
      timeoutMs: 30_000,
      retryOnStatus: true,
      failOnStatus: true,
      responseFormat: 'json',
    });
    expect(httpConfigSchema.safeParse({ url: '' }).success).toBe(false);
    expect(httpConfigSchema.safeParse({ url: 'https://x', auth: { type: 'bearer' } }).success).toBe(
      false,
    );
  });
});

describe('http runner', () => {
  it('sends method, query, headers and a JSON body; outputs status, headers and parsed body', async () => {
    const { ctx, seen } = ctxFor({
      method: 'POST',
      url: `${server.url}/hooks/chat`,
      query: [{ key: 'channel', value: 'marketing team' }],
      headers: [{ key: 'X-Source', value: 'gridflow' }],
      body: { type: 'json', json: { text: 'Weekly digest', score: 91 } },
    });
    const result = await httpNode.run(ctx);
    const req = requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.query).toEqual({ channel: 'marketing team' });
    expect(req.headers['x-source']).toBe('gridflow');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({ text: 'Weekly digest', score: 91 });
    expect(result.kind).toBe('output');
    const out = (
      result as unknown as {
        output: { status: number; headers: Record<string, string>; body: unknown };
      }
    ).output;
    expect(out.status).toBe(200);
    expect(out.headers['content-type']).toBe('application/json');
    expect(out.body).toMatchObject({ ok: true, echo: { path: '/hooks/chat' } });
    // The node never asks the runtime's client to reach private addresses.
    expect(seen[0]?.allowPrivateNetwork).toBeUndefined();
    expect(seen[0]?.timeoutMs).toBe(30_000);
  });

  it('sends form and text bodies', async () => {
    await httpNode.run(
      ctxFor({
        method: 'POST',
        url: `${server.url}/f`,
        body: { type: 'form', fields: [{ key: 'a', value: '1 & 2' }] },
      }).ctx,
    );
    expect(requests.at(-1)!.rawBody).toBe('a=1+%26+2');
    await httpNode.run(
      ctxFor({ method: 'PUT', url: `${server.url}/t`, body: { type: 'text', text: 'plain words' } })
        .ctx,
    );
    expect(requests.at(-1)!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(requests.at(-1)!.rawBody).toBe('plain words');
  });

  it('decrypts the credential for bearer, basic and header auth', async () => {
    const { ctx } = ctxFor({ url: `${server.url}/a` });
    const enc = (s: string) => ctx.encrypt(s);
    await httpNode.run(
      ctxFor({ url: `${server.url}/a`, auth: { type: 'bearer', token: enc('tok-123') } }).ctx,
    );
    expect(requests.at(-1)!.headers.authorization).toBe('Bearer tok-123');
    await httpNode.run(
      ctxFor({
        url: `${server.url}/a`,
        auth: { type: 'basic', username: 'ana', password: enc('pässword') },
      }).ctx,
    );
    expect(requests.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from('ana:pässword', 'utf8').toString('base64')}`,
    );
    await httpNode.run(
      ctxFor({
        url: `${server.url}/a`,
        auth: { type: 'header', name: 'X-API-Key', value: enc('k-9') },
      }).ctx,
    );
    expect(requests.at(-1)!.headers['x-api-key']).toBe('k-9');
  });

  it('refuses a credential that is not ciphertext', async () => {
    const err = await httpNode
      .run(ctxFor({ url: `${server.url}/a`, auth: { type: 'bearer', token: 'plaintext' } }).ctx)
      .catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.auth.token');
  });

  it('429 with Retry-After → RetryAfterError with that delay', async () => {
    nextStatus = { status: 429, headers: { 'retry-after': '7' } };
    const err = await httpNode.run(ctxFor({ url: `${server.url}/limited` }).ctx).catch((e) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(7000);
    expect((err as RetryAfterError).code).toBe('HTTP_429');
  });

  it('5xx → RetryAfterError with exponential backoff by attempt', async () => {
    nextStatus = { status: 503 };
    const err = await httpNode
      .run(ctxFor({ url: `${server.url}/down` }, { attempt: 3 }).ctx)
      .catch((e) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(4000);
  });

  it('4xx → NonRetriableError with the status and a body snippet', async () => {
    nextStatus = { status: 404, body: { error: 'no such channel' } };
    const err = await httpNode.run(ctxFor({ url: `${server.url}/missing` }).ctx).catch((e) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect((err as NonRetriableError).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/missing answered 404: .*no such channel/,
    );
  });

  it('with retry off, 5xx fails at once; with failOnStatus off, any status is the output', async () => {
    nextStatus = { status: 500 };
    const err = await httpNode
      .run(ctxFor({ url: `${server.url}/x`, retryOnStatus: false }).ctx)
      .catch((e) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    nextStatus = { status: 422, body: { invalid: true } };
    const result = await httpNode.run(ctxFor({ url: `${server.url}/x`, failOnStatus: false }).ctx);
    expect(result).toMatchObject({
      kind: 'output',
      output: { status: 422, body: { invalid: true } },
    });
  });

  it('text responses; a non-JSON body in json mode is a UserError pointing at responseFormat', async () => {
    nextStatus = { status: 200, raw: 'OK then' };
    expect(
      await httpNode.run(ctxFor({ url: `${server.url}/t`, responseFormat: 'text' }).ctx),
    ).toMatchObject({
      output: { status: 200, body: 'OK then' },
    });
    nextStatus = { status: 200, raw: '<html>hi</html>' };
    const err = await httpNode.run(ctxFor({ url: `${server.url}/t` }).ctx).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.responseFormat');
  });

  it('bad settings are UserErrors naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'not a url' }, 'config.url'],
      [{ url: 'ftp://example.com/file' }, 'config.url'],
      [
        { url: `${server.url}/a`, headers: [{ key: 'Bad Header', value: 'x' }] },
        'config.headers[0].key',
      ],
      [
        { url: `${server.url}/a`, headers: [{ key: 'X-A', value: 'a\r\nInjected: 1' }] },
        'config.headers[0].value',
      ],
      [{ url: `${server.url}/a`, body: { type: 'text', text: 'x' } }, 'config.body.type'],
      [
        { url: `${server.url}/a`, method: 'POST', body: { type: 'json', json: '{broken' } },
        'config.body.json',
      ],
    ];
    for (const [config, field] of cases) {
      const err = await httpNode.run(ctxFor(config).ctx).catch((e) => e);
      expect(err, JSON.stringify(config)).toBeInstanceOf(UserError);
      expect((err as UserError).field).toBe(field);
    }
  });

  it('with the default runtime client, private and loopback addresses are refused (no SSRF through the node)', async () => {
    const strict = createHttpClient();
    for (const url of [
      `${server.url}/internal`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/admin',
    ]) {
      const before = requests.length;
      const err = await httpNode.run(ctxFor({ url }, { client: strict }).ctx).catch((e) => e);
      expect(err, url).toBeInstanceOf(Error);
      expect(err, url).not.toBeInstanceOf(RetryAfterError);
      expect(requests.length).toBe(before);
    }
  });

  it('network failures stay retryable and say what failed', async () => {
    const closed = await listen(async () => {});
    const url = `${closed.url}/gone`;
    await closed.close();
    const err = await httpNode.run(ctxFor({ url }).ctx).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expect((err as Error).message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/gone failed: /);
  });
});
