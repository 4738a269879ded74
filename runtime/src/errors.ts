/**
 * Errors whose type tells the runtime what to do next. Infrastructure errors (network, database)
 * are mapped to these in one place (`classifyError`).
 */

/** Bad configuration or input: shown to the user, never retried. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    /** Config field or input path the problem is about, e.g. `config.url`. */
    readonly field?: string,
    readonly code = 'USER_ERROR',
  ) {
    super(message);
  }
}

/** A failure that retrying cannot fix (e.g. a 4xx from a platform): fails the step at once. */
export class NonRetriableError extends Error {
  override name = 'NonRetriableError';
  constructor(
    message: string,
    readonly code = 'NON_RETRIABLE',
  ) {
    super(message);
  }
}

/** A transient failure with a known wait (e.g. HTTP 429 Retry-After): retried after `retryAfterMs`. */
export class RetryAfterError extends Error {
  override name = 'RetryAfterError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    readonly code = 'RETRY_AFTER',
  ) {
    super(message);
  }
}

/** A node ran past its time limit. Retryable. */
export class StepTimeoutError extends Error {
  override name = 'StepTimeoutError';
  readonly code = 'TIMEOUT';
}

/** The run was cancelled while the node ran. Not retried. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  readonly code = 'CANCELLED';
}

/** The serialisable error stored on a failed step and passed along error edges. */
export interface StepErrorInfo {
  message: string;
  code: string;
  /** `user`: fix the config/input; `fatal`: not retried; `transient`: was retried. */
  kind: 'user' | 'fatal' | 'transient';
  field?: string;
  retryAfterMs?: number;
}

export function classifyError(err: unknown): StepErrorInfo {
  if (err instanceof UserError) {
    return { message: err.message, code: err.code, kind: 'user', ...(err.field ? { field: err.field } : {}) };
  }
  if (err instanceof NonRetriableError) return { message: err.message, code: err.code, kind: 'fatal' };
  if (err instanceof CancelledError) return { message: err.message, code: err.code, kind: 'fatal' };
  if (err instanceof RetryAfterError) {
    return { message: err.message, code: err.code, kind: 'transient', retryAfterMs: err.retryAfterMs };
  }
  if (err instanceof StepTimeoutError) return { message: err.message, code: err.code, kind: 'transient' };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message || err.name, code: typeof code === 'string' ? code : 'ERROR', kind: 'transient' };
  }
  return { message: String(err), code: 'ERROR', kind: 'transient' };
}

export function isRetryable(info: StepErrorInfo): boolean {
  return info.kind === 'transient';
}
