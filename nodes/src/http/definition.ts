/**
 * HTTP request: calls an API through the runtime's SSRF-protected `ctx.http` (the node never asks
 * for private-network access), with auth from an encrypted credential, retries on 408/429/5xx
 * (RetryAfterError, honouring Retry-After) and 4xx as a non-retriable failure.
 */
import { z } from 'zod';
import { defineNodeType, output, type Json, type NodeContext } from '@gridflow/runtime/node-type';
import {
  CancelledError,
  NonRetriableError,
  RetryAfterError,
  StepTimeoutError,
  UserError,
} from '@gridflow/runtime/errors';
import {
  buildUrl,
  checkHeader,
  hasHeader,
  RequestBuildError,
  snippet,
  statusAction,
  type KeyValue,
} from './request.js';

const keyValueList = z
  .array(
    z.object({ key: z.string().min(1, 'name is required').max(256), value: z.string().max(8192) }),
  )
  .max(100)
  .default([])
  .meta({ 'x-gridflow-widget': 'keyValue' });

/** A secret as ciphertext of the server's crypto helper; the server encrypts what the user types on save. */
const secret = (what: string) =>
  z
    .string()
    .min(1, `${what} is required`)
    .describe(`${what} (stored encrypted)`)
    .meta({ 'x-gridflow-widget': 'secret' });

export const httpBodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('json'),
    /** Any JSON value; `{{ }}` inside string values is resolved before the request. JSON text is sent as is. */
    json: z.json().meta({ 'x-gridflow-widget': 'code', 'x-gridflow-language': 'json' }),
  }),
  z.object({
    type: z.literal('text'),
    text: z.string().max(1_000_000).meta({ 'x-gridflow-widget': 'textarea' }),
    contentType: z.string().max(200).default('text/plain; charset=utf-8'),
  }),
  z.object({ type: z.literal('form'), fields: keyValueList }),
]);

export const httpAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('bearer'), token: secret('Token') }),
  z.object({
    type: z.literal('basic'),
    username: z.string().min(1).max(256),
    password: secret('Password'),
  }),
  z.object({
    type: z.literal('header'),
    name: z.string().min(1).max(256).describe('Header name, e.g. X-API-Key'),
    value: secret('Header value'),
  }),
]);

export const httpConfigSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  url: z
    .string()
    .min(1, 'url is required')
    .max(8192)
    .describe('https://… ; may contain {{ }} expressions'),
  headers: keyValueList,
  query: keyValueList,
  body: httpBodySchema.default({ type: 'none' }),
  auth: httpAuthSchema.default({ type: 'none' }),
  timeoutMs: z.number().int().min(100).max(120_000).default(30_000),
  retryOnStatus: z
    .boolean()
    .default(true)
    .describe(
      "Retry on 408, 429 and 5xx (the grid's retry policy sets how often), honouring Retry-After",
    ),
  failOnStatus: z
    .boolean()
    .default(true)
    .describe('Fail the step on a status >= 400; when off, every response is the output'),
  responseFormat: z.enum(['json', 'text']).default('json'),
});

export type HttpConfig = z.infer<typeof httpConfigSchema>;

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Base64 of the UTF-8 bytes (browser-safe, unlike Buffer). */
function base64Utf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function decryptSecret(ctx: NodeContext<HttpConfig>, ciphertext: string, field: string): string {
  try {
    return ctx.decrypt(ciphertext);
  } catch {
    throw new UserError(
      'The stored credential could not be decrypted; enter it again in the node settings.',
      field,
      'CREDENTIAL_UNREADABLE',
    );
  }
}

function authHeaders(ctx: NodeContext<HttpConfig>): Record<string, string> {
  const auth = ctx.config.auth;
  switch (auth.type) {
    case 'none':
      return {};
    case 'bearer':
      return { authorization: `Bearer ${decryptSecret(ctx, auth.token, 'config.auth.token')}` };
    case 'basic': {
      const password = decryptSecret(ctx, auth.password, 'config.auth.password');
      return { authorization: `Basic ${base64Utf8(`${auth.username}:${password}`)}` };
    }
    case 'header': {
      const value = decryptSecret(ctx, auth.value, 'config.auth.value');
      checkHeader(auth.name, value, 'config.auth');
      return { [auth.name]: value };
    }
    default: {
      const never: never = auth;
      throw new UserError(`unknown auth type ${JSON.stringify(never)}`, 'config.auth.type');
    }
  }
}

function requestBody(config: HttpConfig, headers: Record<string, string>): string | undefined {
  const body = config.body;
  if (config.method === 'GET' || config.method === 'HEAD') {
    if (body.type !== 'none')
      throw new RequestBuildError(
        `a ${config.method} request cannot have a body`,
        'config.body.type',
      );
    return undefined;
  }
  switch (body.type) {
    case 'none':
      return undefined;
    case 'json': {
      let text: string;
      if (typeof body.json === 'string') {
        try {
          JSON.parse(body.json);
        } catch {
          throw new RequestBuildError('the JSON body is not valid JSON', 'config.body.json');
        }
        text = body.json;
      } else {
        text = JSON.stringify(body.json);
      }
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
      return text;
    }
    case 'text':
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = body.contentType;
      return asText(body.text);
    case 'form': {
      const params = new URLSearchParams();
      body.fields.forEach((f: KeyValue) => params.append(f.key, asText(f.value)));
      if (!hasHeader(headers, 'content-type'))
        headers['content-type'] = 'application/x-www-form-urlencoded';
      return params.toString();
    }
    default: {
      const never: never = body;
      throw new RequestBuildError(`unknown body type ${JSON.stringify(never)}`, 'config.body.type');
    }
  }
}

function isTypedError(err: unknown): boolean {
  return (
    err instanceof UserError ||
    err instanceof NonRetriableError ||
    err instanceof RetryAfterError ||
    err instanceof CancelledError ||
    err instanceof StepTimeoutError
  );
}

export const httpNode = defineNodeType({
  type: 'http',
  version: 1,
  label: 'HTTP request',
  description:
    'Calls a web API or webhook (public addresses only), with optional auth from an encrypted credential.',
  icon: '🌐',
  category: 'utility',
  inputs: [{ name: 'in', label: 'in' }],
  outputs: [{ name: 'out', label: 'out' }],
  configSchema: httpConfigSchema,
  summary: (config) => {
    let host = config.url;
    try {
      host = new URL(config.url).host;
    } catch {
      /* an expression: show it as written */
    }
    return `${config.method} ${host}`;
  },
  async run(ctx) {
    const config = ctx.config;
    let url: URL;
    const headers: Record<string, string> = {};
    let body: string | undefined;
    try {
      // A whole-value `{{ }}` may have resolved to a number or boolean: headers and query are text.
      url = buildUrl(
        String(config.url),
        config.query.map((q) => ({ key: q.key, value: asText(q.value) })),
      );
      config.headers.forEach((h, i) => {
        const value = asText(h.value);
        checkHeader(h.key, value, `config.headers[${i}]`);
        headers[h.key] = value;
      });
      Object.assign(headers, authHeaders(ctx));
      body = requestBody(config, headers);
    } catch (err) {
      if (err instanceof RequestBuildError)
        throw new UserError(`HTTP request "${ctx.node.name}": ${err.message}`, err.field);
      throw err;
    }

    const target = `${config.method} ${url.origin}${url.pathname}`;
    let res;
    try {
      res = await ctx.http.request(url.toString(), {
        method: config.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: config.timeoutMs,
      });
    } catch (err) {
      if (isTypedError(err)) throw err;
      // Network failures stay retryable (classifyError: transient) but say what failed.
      const e = new Error(`${target} failed: ${(err as Error).message ?? String(err)}`);
      const code = (err as { code?: unknown }).code;
      throw Object.assign(e, { code: typeof code === 'string' ? code : 'HTTP_NETWORK' });
    }

    const decision = statusAction(res.status, res.headers['retry-after'], {
      failOnStatus: config.failOnStatus,
      retryOnStatus: config.retryOnStatus,
      attempt: ctx.step.attempt,
    });
    if (decision.action === 'retry') {
      throw new RetryAfterError(
        `${target} answered ${res.status}; retrying`,
        decision.retryAfterMs,
        `HTTP_${res.status}`,
      );
    }
    if (decision.action === 'fail') {
      throw new NonRetriableError(
        `${target} answered ${res.status}: ${snippet(res.text) || '(empty body)'}`,
        `HTTP_${res.status}`,
      );
    }

    let parsed: Json;
    if (config.responseFormat === 'text' || config.method === 'HEAD') {
      parsed = res.text;
    } else if (res.text.trim() === '') {
      parsed = null;
    } else if (res.json !== undefined) {
      parsed = res.json as Json;
    } else {
      try {
        parsed = JSON.parse(res.text) as Json;
      } catch {
        throw new UserError(
          `${target} did not answer with JSON ("${snippet(res.text, 80)}"); set the response format to text`,
          'config.responseFormat',
        );
      }
    }
    ctx.log.info('http response', { status: res.status, url: `${url.origin}${url.pathname}` });
    return output({ status: res.status, headers: res.headers, body: parsed });
  },
});
