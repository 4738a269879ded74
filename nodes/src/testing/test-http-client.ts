/**
 * A plain fetch-based HttpClient for runner tests. It records whether each call asked for
 * `allowPrivateNetwork`, so tests can check that connectors only reach loopback fakes through
 * operator-configured base URLs. (The runtime's real client adds SSRF checks and redirects.)
 */
import type { HttpClient, HttpRequestOptions, HttpResponse } from '@gridflow/runtime';

export interface TestHttpClient extends HttpClient {
  calls: Array<{ url: string; options: HttpRequestOptions }>;
}

export interface TestHttpClientOptions {
  /**
   * Let loopback calls through without `allowPrivateNetwork` (for user-given URLs such as webhook
   * targets that tests point at a local server); the flag each call asked for is still recorded.
   */
  permitLoopback?: boolean;
}

export function createTestHttpClient(opts: TestHttpClientOptions = {}): TestHttpClient {
  const calls: TestHttpClient['calls'] = [];
  return {
    calls,
    async request(url, options = {}): Promise<HttpResponse> {
      calls.push({ url, options });
      const host = new URL(url).hostname;
      if (
        (host === '127.0.0.1' || host === 'localhost') &&
        !options.allowPrivateNetwork &&
        !opts.permitLoopback
      ) {
        throw new Error(
          `test http client: ${url} is a loopback address and allowPrivateNetwork was not set`,
        );
      }
      const res = await fetch(url, {
        method: options.method ?? 'GET',
        ...(options.headers ? { headers: options.headers } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      return { status: res.status, headers, text, json, url: res.url || url };
    },
  };
}
