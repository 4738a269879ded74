/** Maps `openai` client errors to the runtime's error types, in one place for every node that calls OpenAI. */
import { APIConnectionError, APIError } from 'openai';
import { NonRetriableError, RetryAfterError } from '@gridflow/runtime';

function retryAfterMs(headers: Headers | undefined): number {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const s = headers?.get('retry-after');
  if (s) {
    if (Number.isFinite(Number(s))) return Number(s) * 1000;
    const at = Date.parse(s);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  return 20_000;
}

export function mapOpenAIError(err: unknown, what: string): Error {
  if (err instanceof APIConnectionError) {
    // Network trouble: retryable (a plain Error is classified transient).
    return new Error(`OpenAI ${what}: cannot reach the API (${err.message})`);
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    const detail = err.message;
    if (status === 401) {
      return new NonRetriableError(
        `OpenAI ${what}: the API key was refused (401). Check the OPENAI_API_KEY setting (and OPENAI_BASE_URL if you use a compatible server). ${detail}`,
        'OPENAI_UNAUTHORIZED',
      );
    }
    if (status === 403)
      return new NonRetriableError(
        `OpenAI ${what}: access denied (403). ${detail}`,
        'OPENAI_FORBIDDEN',
      );
    if (status === 429) {
      return new RetryAfterError(
        `OpenAI ${what}: rate limited (429). ${detail}`,
        retryAfterMs(err.headers as Headers | undefined),
        'OPENAI_RATE_LIMITED',
      );
    }
    if (status >= 500) {
      const e = new Error(`OpenAI ${what}: server error ${status}. ${detail}`);
      (e as Error & { code: string }).code = `OPENAI_${status}`;
      return e;
    }
    if (status >= 400)
      return new NonRetriableError(
        `OpenAI ${what}: request refused (${status}). ${detail}`,
        `OPENAI_${status}`,
      );
  }
  return err instanceof Error ? err : new Error(String(err));
}
