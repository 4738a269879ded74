import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupFunction } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, NonRetriableError, UserError, classifyError } from './errors.js';
import { createHttpClient } from './http-client.js';
import { blockedReason, inCidrList } from './ip-ranges.js';

let server: http.Server;
let base: string;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      switch (url.pathname) {
        case '/json':
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ ok: true, method: req.method, body, ua: req.headers['user-agent'], auth: req.headers.authorization ?? null, host: req.headers.host }));
          return;
        case '/text':
          res.setHeader('content-type', 'text/plain');
          res.end('plain text');
          return;
        case '/missing':
          res.statusCode = 404;
          res.setHeader('content-type', 'application/json');
          res.end('{"error":"not found"}');
          return;
        case '/redirect':
          res.statusCode = Number(url.searchParams.get('status') ?? 302);
          res.setHeader('location', url.searchParams.get('to') ?? '/json');
          res.end();
          return;
        case '/loop':
          res.statusCode = 302;
          res.setHeader('location', `/loop?n=${Number(url.searchParams.get('n') ?? 0) + 1}`);
          res.end();
          return;
        case '/slow':
          // never answers
          return;
        case '/big':
          res.setHeader('content-type', 'text/plain');
          res.write('x'.repeat(600_000));
          res.end('y'.repeat(600_000));
          return;
        case '/big-declared':
          res.setHeader('content-length', String(5_000_000));
          res.write('x'.repeat(1000));
          return;
        case '/gzip': {
          res.setHeader('content-type', 'application/json');
          res.setHeader('content-encoding', 'gzip');
          res.end(zlib.gzipSync(JSON.stringify({ zipped: 'yes'.repeat(10) })));
          return;
        }
        case '/zipbomb':
          res.setHeader('content-encoding', 'gzip');
          res.end(zlib.gzipSync(Buffer.alloc(20_000_000)));
          return;
        default:
          res.statusCode = 500;
          res.end('boom');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** A DNS stand-in: maps names to addresses and counts lookups. */
function fakeDns(map: Record<string, string>): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const fn = ((host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    calls.push(host);
    const address = map[host];
    if (!address) {
      cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
      return;
    }
    const family = address.includes(':') ? 6 : 4;
    if (options.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction & { calls: string[] };
  fn.calls = calls;
  return fn;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('http client: allowed requests', () => {
  const client = createHttpClient({ allowPrivateNetwork: true, userAgent: 'gridflow-test' });

  it('returns status, headers, text, json and url', async () => {
    const res = await client.request(`${base}/json`, { method: 'POST', body: 'hello', headers: { Authorization: 'Bearer t' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json).toMatchObject({ ok: true, method: 'POST', body: 'hello', ua: 'gridflow-test', auth: 'Bearer t' });
    expect(res.url).toBe(`${base}/json`);
    const text = await client.request(`${base}/text`);
    expect(text.text).toBe('plain text');
    expect(text.json).toBeUndefined();
  });

  it('returns error statuses to the caller', async () => {
    const res = await client.request(`${base}/missing`);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: 'not found' });
    expect((await client.request(`${base}/other`)).status).toBe(500);
  });

  it('connects to the address its lookup returned (host name kept for the Host header)', async () => {
    const dnsMap = fakeDns({ 'app.internal.test': '127.0.0.1' });
    const c = createHttpClient({ allowPrivateNetwork: true, lookup: dnsMap });
    const res = await c.request(`http://app.internal.test:${port}/json`);
    expect(res.status).toBe(200);
    expect((res.json as { host: string }).host).toBe(`app.internal.test:${port}`);
    expect(dnsMap.calls).toEqual(['app.internal.test']);
  });

  it('follows redirects (relative, 303 turns POST into GET) and re-resolves each hop', async () => {
    const res = await client.request(`${base}/redirect?status=303&to=/json`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ method: 'GET', body: '' });
    expect(res.url).toBe(`${base}/json`);
    const kept = await client.request(`${base}/redirect?status=307&to=/json`, { method: 'POST', body: 'keep' });
    expect(kept.json).toMatchObject({ method: 'POST', body: 'keep' });
  });

  it('drops Authorization when a redirect changes origin', async () => {
    const c = createHttpClient({ allowPrivateNetwork: true, lookup: fakeDns({ 'other.test': '127.0.0.1' }) });
    const res = await c.request(`${base}/redirect?to=${encodeURIComponent(`http://other.test:${port}/json`)}`, {
      headers: { authorization: 'Bearer secret' },
    });
    expect(res.json).toMatchObject({ auth: null, host: `other.test:${port}` });
  });

  it('stops after too many redirects; maxRedirects 0 returns the 3xx', async () => {
    const err = await rejection(client.request(`${base}/loop`));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.code).toBe('TOO_MANY_REDIRECTS');
    const res = await client.request(`${base}/redirect?to=/json`, { maxRedirects: 0 });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/json');
  });

  it('decompresses gzip, and limits the decompressed size', async () => {
    const res = await client.request(`${base}/gzip`);
    expect(res.json).toEqual({ zipped: 'yes'.repeat(10) });
    const err = await rejection(client.request(`${base}/zipbomb`, { maxResponseBytes: 1_000_000 }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
  });

  it('enforces the response size limit (streamed and declared)', async () => {
    const err = await rejection(client.request(`${base}/big`, { maxResponseBytes: 1_000_000 }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect(err.message).toBe(`Response from 127.0.0.1:${port} is larger than the limit of 1000000 bytes`);
    const declared = await rejection(client.request(`${base}/big-declared`, { maxResponseBytes: 1_000_000 }));
    expect(declared.code).toBe('RESPONSE_TOO_LARGE');
    expect((await client.request(`${base}/big`, { maxResponseBytes: 2_000_000 })).text).toHaveLength(1_200_000);
  });

  it('times out with a retryable error', async () => {
    const started = Date.now();
    const err = await rejection(client.request(`${base}/slow`, { timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toBe(`Request to 127.0.0.1:${port} timed out after 200 ms`);
    expect(classifyError(err).kind).toBe('transient');
  });

  it('honours the run abort signal', async () => {
    const ac = new AbortController();
    const c = createHttpClient({ allowPrivateNetwork: true, signal: ac.signal });
    const p = c.request(`${base}/slow`);
    setTimeout(() => ac.abort(new CancelledError('run cancelled')), 50);
    const err = await rejection(p);
    expect(err).toBeInstanceOf(CancelledError);
    expect(err.message).toBe('run cancelled');
    const already = await rejection(c.request(`${base}/json`));
    expect(already).toBeInstanceOf(CancelledError);
  });

  it('network errors are retryable plain errors with a code', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await rejection(client.request(`http://127.0.0.1:${closedPort}/`));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expect(classifyError(err)).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
    const dnsErr = await rejection(createHttpClient({ lookup: fakeDns({}) }).request('http://nowhere.test/'));
    expect(dnsErr.code).toBe('ENOTFOUND');
  });

  it('refuses bad URLs as user errors', async () => {
    for (const u of ['not a url', 'ftp://example.com/', 'file:///etc/passwd', 'http://user:pw@example.com/']) {
      const err = await rejection(client.request(u));
      expect(err, u).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('INVALID_URL');
    }
  });
});

describe('http client: SSRF protection', () => {
  const client = createHttpClient();

  async function blocked(url: string, c = client): Promise<NonRetriableError> {
    const before = hits.length;
    const err = await rejection(c.request(url));
    expect(err, url).toBeInstanceOf(NonRetriableError);
    expect(err.code).toBe('SSRF_BLOCKED');
    expect(hits.length).toBe(before); // the local server saw nothing
    return err as NonRetriableError;
  }

  it('refuses loopback by IP, by name and as IPv6', async () => {
    const err = await blocked(`${base}/json`);
    expect(err.message).toMatch(/^Refused to connect to 127\.0\.0\.1: loopback addresses are not reachable/);
    const byName = await blocked(`http://localhost:${port}/json`);
    expect(byName.message).toMatch(/^Refused to connect to localhost \((127\.0\.0\.1|::1)\): loopback/);
    const v6 = await blocked(`http://[::1]:${port}/json`);
    expect(v6.message).toMatch(/^Refused to connect to \[::1\]: loopback/);
    await blocked(`http://[::ffff:127.0.0.1]:${port}/json`);
    await blocked(`http://2130706433:${port}/json`); // 127.0.0.1 as a number
    await blocked(`http://0x7f.1:${port}/json`);
    await blocked(`http://0.0.0.0:${port}/json`);
  });

  it('refuses private, link-local and CGNAT addresses', async () => {
    const err = await blocked('http://10.1.2.3/');
    expect(err.message).toMatch(/10\.1\.2\.3: private/);
    await blocked('http://172.16.5.4/');
    await blocked('http://192.168.1.1/');
    const meta = await blocked('http://169.254.169.254/latest/meta-data/');
    expect(meta.message).toMatch(/link-local/);
    await blocked('http://100.64.0.1/');
    await blocked('http://[fd00::1]/');
    await blocked('http://[fe80::1]/');
    await blocked('http://224.0.0.1/');
  });

  it('refuses a host name that resolves to a private address', async () => {
    const c = createHttpClient({ lookup: fakeDns({ 'evil.example.com': '127.0.0.1' }) });
    const err = await blocked(`http://evil.example.com:${port}/json`, c);
    expect(err.message).toMatch(/^Refused to connect to evil\.example\.com \(127\.0\.0\.1\): loopback/);
  });

  it('re-checks every redirect hop', async () => {
    // The first hop is allowed through the allow-list; its redirect to a private address is not.
    const c = createHttpClient({ allowedPrivateAddresses: ['127.0.0.1/32'], lookup: fakeDns({ 'internal.test': '10.0.0.7' }) });
    expect((await c.request(`${base}/json`)).status).toBe(200);
    for (const to of [`http://127.0.0.2:${port}/json`, 'http://10.0.0.1/', 'http://internal.test/', `http://[::1]:${port}/`, 'http://169.254.169.254/']) {
      const before = hits.length;
      const err = await rejection(c.request(`${base}/redirect?to=${encodeURIComponent(to)}`));
      expect(err, to).toBeInstanceOf(NonRetriableError);
      expect(err.code).toBe('SSRF_BLOCKED');
      expect(err.message).toContain(new URL(to).hostname);
      expect(hits.length).toBe(before + 1); // only the redirecting request reached the server
    }
  });

  it('connects to the checked address even if DNS answers differently later (no rebinding window)', async () => {
    let n = 0;
    const rebinding = ((host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      const address = n++ === 0 ? '127.0.0.1' : '10.255.255.1';
      if (options.all) cb(null, [{ address, family: 4 }]);
      else cb(null, address, 4);
    }) as unknown as LookupFunction;
    const c = createHttpClient({ allowedPrivateAddresses: ['127.0.0.1/32'], lookup: rebinding, defaultTimeoutMs: 3000 });
    const res = await c.request(`http://rebind.test:${port}/json`);
    expect(res.status).toBe(200);
    expect(n).toBe(1);
  });

  it('allows everything with allowPrivateNetwork, per client or per request', async () => {
    expect((await createHttpClient({ allowPrivateNetwork: true }).request(`${base}/json`)).status).toBe(200);
    expect((await client.request(`${base}/json`, { allowPrivateNetwork: true })).status).toBe(200);
  });
});

describe('ip ranges', () => {
  it('classifies addresses', () => {
    const blockedList = [
      '127.0.0.1', '127.255.255.254', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254',
      '100.64.0.1', '100.127.255.255', '0.0.0.0', '0.1.2.3', '224.0.0.251', '239.1.1.1', '255.255.255.255', '240.0.0.1',
      '::1', '::', 'fe80::1', 'febf::1', 'fc00::1', 'fdff:ffff::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1',
      '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::7f00:1', '2002:7f00:1::', '::127.0.0.1', '2001:db8::1',
      'not-an-ip', '',
    ];
    for (const a of blockedList) expect(blockedReason(a), a).not.toBeNull();
    const publicList = ['1.1.1.1', '8.8.8.8', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '93.184.216.34',
      '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001:81b::200e', '64:ff9b::808:808'];
    for (const a of publicList) expect(blockedReason(a), a).toBeNull();
  });

  it('matches CIDR allow-lists', () => {
    expect(inCidrList('10.0.0.5', ['10.0.0.0/24'])).toBe(true);
    expect(inCidrList('10.0.1.5', ['10.0.0.0/24'])).toBe(false);
    expect(inCidrList('10.0.0.5', ['10.0.0.5'])).toBe(true);
    expect(inCidrList('fd00::5', ['fd00::/64'])).toBe(true);
    expect(inCidrList('fd01::5', ['fd00::/64'])).toBe(false);
    expect(inCidrList('10.0.0.5', ['fd00::/8'])).toBe(false);
  });
});

describe('http client: HTTPS', () => {
  let tlsServer: import('node:https').Server;
  let tlsPort: number;
  let cert: string;

  beforeAll(async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const https = await import('node:https');
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-days', '1', '-subj', '/CN=secure.test', '-addext', 'subjectAltName=DNS:secure.test'], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      tlsServer = https.createServer({ key, cert }, (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ host: req.headers.host, secure: true }));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    tlsServer?.closeAllConnections();
    await new Promise((r) => tlsServer?.close(r));
  });

  it('verifies the certificate against the host name while connecting to the pinned address', async () => {
    const dnsMap = fakeDns({ 'secure.test': '127.0.0.1' });
    const trusted = createHttpClient({ allowPrivateNetwork: true, lookup: dnsMap, ca: cert });
    const res = await trusted.request(`https://secure.test:${tlsPort}/`);
    expect(res.json).toEqual({ host: `secure.test:${tlsPort}`, secure: true });

    const untrusted = createHttpClient({ allowPrivateNetwork: true, lookup: dnsMap });
    const err = await rejection(untrusted.request(`https://secure.test:${tlsPort}/`));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');

    // The certificate is for secure.test, not for the bare address.
    const mismatch = await rejection(trusted.request(`https://127.0.0.1:${tlsPort}/`));
    expect(mismatch.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('refuses HTTPS to private addresses too', async () => {
    const c = createHttpClient({ lookup: fakeDns({ 'secure.test': '127.0.0.1' }), ca: cert });
    const err = await rejection(c.request(`https://secure.test:${tlsPort}/`));
    expect(err.code).toBe('SSRF_BLOCKED');
  });
});
