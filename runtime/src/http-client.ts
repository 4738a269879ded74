/**
 * Outbound HTTP for node types, with SSRF protection.
 *
 * Invariants:
 * - Every hop (the first request and each redirect) resolves its host once, refuses loopback,
 *   private, link-local, CGNAT, unique-local, multicast and reserved addresses (also as IPv4-mapped
 *   IPv6), and then connects to exactly the address it checked (a pinned `lookup`), so a DNS answer
 *   that changes between check and connect (DNS rebinding) cannot redirect the connection.
 * - Redirects are followed manually (default at most 5), each re-checked.
 * - Keep-alive sockets are pooled separately for "public only" and "private allowed" requests, so a
 *   socket opened to a private address is never reused by a public-only request.
 * - Any status is returned (the caller decides); network failures are retryable plain `Error`s with
 *   a `code`; refusals and limits are `NonRetriableError`s; bad URLs are `UserError`s.
 */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import zlib from 'node:zlib';
import { CancelledError, NonRetriableError, UserError } from './errors.js';
import { blockedReason, inCidrList } from './ip-ranges.js';
import type { HttpClient, HttpRequestOptions, HttpResponse } from './node-type.js';

export interface HttpClientOptions {
  /** Allow private/loopback targets for every request of this client (operator: GRIDFLOW_HTTP_ALLOW_PRIVATE). */
  allowPrivateNetwork?: boolean;
  /** Extra addresses/CIDRs reachable although private (e.g. `10.0.0.5/32` for an internal service). */
  allowedPrivateAddresses?: string[];
  /** The run's signal: cancels in-flight requests. */
  signal?: AbortSignal;
  /** Whole request limit, redirects included. Default 30 s. */
  defaultTimeoutMs?: number;
  /** Default response body limit (after decompression). Default 10 MiB. */
  maxResponseBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  userAgent?: string;
  /** DNS lookup (same signature as `dns.lookup`); tests map names to addresses with it. */
  lookup?: LookupFunction;
  /** Extra trusted CA certificates (PEM) for HTTPS, e.g. an internal CA. Default: Node's. */
  ca?: string | string[];
}

interface ResolvedAddress {
  address: string;
  family: number;
}

const agents = {
  public: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  private: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createHttpClient(opts: HttpClientOptions = {}): HttpClient {
  const lookup: LookupFunction = opts.lookup ?? (dns.lookup as unknown as LookupFunction);
  const userAgent = opts.userAgent ?? 'Gridflow/0.1 (+https://github.com/gridflow)';

  async function resolve(hostname: string): Promise<ResolvedAddress[]> {
    const literal = hostname.replace(/^\[|\]$/g, '');
    const family = isIP(literal);
    if (family) return [{ address: literal, family }];
    return new Promise((resolvePromise, reject) => {
      lookup(hostname, { all: true, verbatim: true } as dns.LookupAllOptions, (err, addresses) => {
        if (err) {
          reject(Object.assign(new Error(`DNS lookup of ${hostname} failed: ${err.message}`), { code: err.code ?? 'ENOTFOUND' }));
          return;
        }
        const list = Array.isArray(addresses) ? addresses : [{ address: addresses as unknown as string, family: 0 }];
        resolvePromise(list.map((a) => ({ address: a.address, family: a.family || isIP(a.address) })));
      });
    });
  }

  /** The first address of `hostname` we may connect to, or an SSRF refusal. */
  async function pick(url: URL, allowPrivate: boolean): Promise<ResolvedAddress> {
    const addresses = await resolve(url.hostname);
    if (addresses.length === 0) {
      throw Object.assign(new Error(`DNS lookup of ${url.hostname} returned no address`), { code: 'ENOTFOUND' });
    }
    if (allowPrivate) return addresses[0]!;
    const allowList = opts.allowedPrivateAddresses ?? [];
    const ok = addresses.find((a) => blockedReason(a.address) === null || inCidrList(a.address, allowList));
    if (ok) return ok;
    const first = addresses[0]!;
    const shown = first.address === url.hostname.replace(/^\[|\]$/g, '') ? url.hostname : `${url.hostname} (${first.address})`;
    throw new NonRetriableError(
      `Refused to connect to ${shown}: ${blockedReason(first.address)} addresses are not reachable from HTTP requests ` +
        `(an operator can allow private networks with GRIDFLOW_HTTP_ALLOW_PRIVATE)`,
      'SSRF_BLOCKED',
    );
  }

  return {
    async request(rawUrl: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
      let url = parseUrl(rawUrl);
      const allowPrivate = options.allowPrivateNetwork ?? opts.allowPrivateNetwork ?? false;
      const timeoutMs = options.timeoutMs ?? opts.defaultTimeoutMs ?? 30_000;
      const maxBytes = options.maxResponseBytes ?? opts.maxResponseBytes ?? 10 * 1024 * 1024;
      const maxRedirects = options.maxRedirects ?? opts.maxRedirects ?? 5;
      let method = (options.method ?? 'GET').toUpperCase();
      let body = options.body;
      let headers = normaliseHeaders(options.headers ?? {});
      if (!('user-agent' in headers)) headers['user-agent'] = userAgent;
      if (!('accept-encoding' in headers)) headers['accept-encoding'] = 'gzip, deflate, br';

      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new TimeoutReason()), timeoutMs);
      const onRunAbort = () => controller.abort(opts.signal!.reason ?? new CancelledError('Request cancelled'));
      if (opts.signal?.aborted) onRunAbort();
      else opts.signal?.addEventListener('abort', onRunAbort, { once: true });

      try {
        for (let hop = 0; ; hop++) {
          const target = await untilAborted(pick(url, allowPrivate), controller.signal, url, timeoutMs);
          const res = await send({ url, target, method, headers, body, signal: controller.signal, maxBytes, allowPrivate, timeoutMs, ca: opts.ca });
          const location = res.headers.location;
          if (!REDIRECTS.has(res.status) || !location || maxRedirects === 0) return finish(res, url);
          if (hop >= maxRedirects) {
            throw new NonRetriableError(`Too many redirects (more than ${maxRedirects}) starting at ${rawUrl}`, 'TOO_MANY_REDIRECTS');
          }
          const next = parseUrl(location, url);
          if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
            method = method === 'HEAD' ? 'HEAD' : 'GET';
            body = undefined;
            headers = dropHeaders(headers, ['content-type', 'content-length']);
          }
          if (next.origin !== url.origin) headers = dropHeaders(headers, ['authorization', 'cookie', 'proxy-authorization']);
          url = next;
        }
      } finally {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onRunAbort);
      }
    },
  };
}

class TimeoutReason extends Error {}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function finish(res: RawResponse, url: URL): HttpResponse {
  const type = res.headers['content-type'] ?? '';
  let json: unknown = undefined;
  const trimmed = res.text.trimStart();
  if (/json/i.test(type) || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      json = JSON.parse(res.text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers: res.headers, text: res.text, json, url: url.toString() };
}

function parseUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new UserError(`Invalid URL: ${JSON.stringify(String(raw).slice(0, 200))}`, undefined, 'INVALID_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`Only http and https URLs are allowed, not ${url.protocol}`, undefined, 'INVALID_URL');
  }
  if (url.username || url.password) {
    throw new UserError('Credentials in the URL are not allowed; use an Authorization header', undefined, 'INVALID_URL');
  }
  return url;
}

function normaliseHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
  return out;
}

function dropHeaders(h: Record<string, string>, names: string[]): Record<string, string> {
  const out = { ...h };
  for (const n of names) delete out[n];
  return out;
}

/** `promise`, or the abort/timeout error if the signal fires first (DNS lookups ignore signals). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, url: URL, timeoutMs: number): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal, url, timeoutMs));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, url, timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function abortError(signal: AbortSignal, url: URL, timeoutMs: number): Error {
  if (signal.reason instanceof TimeoutReason) {
    return Object.assign(new Error(`Request to ${url.host} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
  }
  return signal.reason instanceof Error ? signal.reason : new CancelledError('Request cancelled');
}

interface SendArgs {
  url: URL;
  target: ResolvedAddress;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  signal: AbortSignal;
  maxBytes: number;
  allowPrivate: boolean;
  timeoutMs: number;
  ca: string | string[] | undefined;
}

function send(a: SendArgs): Promise<RawResponse> {
  const isHttps = a.url.protocol === 'https:';
  const pool = a.allowPrivate ? agents.private : agents.public;
  // Connect to the address that was checked, whatever DNS says now.
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as dns.LookupAllOptions).all) (cb as (e: null, a: dns.LookupAddress[]) => void)(null, [a.target]);
    else (cb as (e: null, a: string, f: number) => void)(null, a.target.address, a.target.family);
  };
  const headers = { ...a.headers };
  const payload = typeof a.body === 'string' ? Buffer.from(a.body) : a.body ? Buffer.from(a.body) : undefined;
  if (payload) headers['content-length'] = String(payload.length);

  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = (isHttps ? https : http).request(
      {
        protocol: a.url.protocol,
        hostname: a.url.hostname.replace(/^\[|\]$/g, ''),
        port: a.url.port || (isHttps ? 443 : 80),
        path: `${a.url.pathname}${a.url.search}`,
        method: a.method,
        headers,
        agent: isHttps ? pool.https : pool.http,
        lookup: pinned,
        signal: a.signal,
        ...(isHttps && !isIP(a.url.hostname) ? { servername: a.url.hostname } : {}),
        ...(isHttps && a.ca ? { ca: a.ca } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const resHeaders = flattenHeaders(res.headers);
        const declared = Number(resHeaders['content-length']);
        if (Number.isFinite(declared) && declared > a.maxBytes) {
          fail(tooLarge(a.url, a.maxBytes));
          res.destroy();
          return;
        }
        let stream: NodeJS.ReadableStream = res;
        const encoding = (resHeaders['content-encoding'] ?? '').toLowerCase();
        if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(zlib.createGunzip());
        else if (encoding === 'deflate') stream = res.pipe(zlib.createInflate());
        else if (encoding === 'br') stream = res.pipe(zlib.createBrotliDecompress());
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          if (size > a.maxBytes) {
            fail(tooLarge(a.url, a.maxBytes));
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        stream.on('error', (err: Error & { code?: string }) => {
          fail(a.signal.aborted ? abortError(a.signal, a.url, a.timeoutMs) : networkError(err, a.url));
        });
        res.on('aborted', () => fail(a.signal.aborted ? abortError(a.signal, a.url, a.timeoutMs) : networkError(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }), a.url)));
        stream.on('end', () => {
          if (settled) return;
          settled = true;
          if (encoding && encoding !== 'identity') delete resHeaders['content-encoding'];
          resolve({ status, headers: resHeaders, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', (err: Error & { code?: string }) => {
      fail(a.signal.aborted ? abortError(a.signal, a.url, a.timeoutMs) : networkError(err, a.url));
    });
    if (payload) req.end(payload);
    else req.end();
  });
}

function flattenHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function tooLarge(url: URL, max: number): NonRetriableError {
  return new NonRetriableError(`Response from ${url.host} is larger than the limit of ${max} bytes`, 'RESPONSE_TOO_LARGE');
}

/** Certificate problems do not go away by retrying. */
const TLS_CODES = /^(ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|ERR_SSL_)/;

function networkError(err: Error & { code?: string }, url: URL): Error {
  const code = err.code ?? 'ENETWORK';
  if (TLS_CODES.test(code)) {
    return new NonRetriableError(`TLS error talking to ${url.host}: ${err.message || code}`, code);
  }
  return Object.assign(new Error(`Request to ${url.host} failed: ${err.message || code}`), { code, cause: err });
}
