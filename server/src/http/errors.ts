/**
 * The one error shape of the API: `{ error: { code, message, details: [{ path, message }] } }`.
 * Handlers throw `ApiError`; anything else becomes a 500 without a stack trace.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';

export interface ErrorDetail {
  path: string;
  message: string;
}

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'INVALID_SIGNATURE'
  | 'GATEWAY_TIMEOUT'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Extra top-level fields merged into the `error` object (e.g. `executionId` on a 504). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details: ErrorDetail[] = []) =>
  new ApiError(400, 'VALIDATION_FAILED', message, details);
export const unauthenticated = (message = 'Authentication required: log in or send "Authorization: Bearer <api key>".') =>
  new ApiError(401, 'UNAUTHENTICATED', message);
export const forbidden = (message: string) => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`);
export const conflict = (message: string, extra: Record<string, unknown> = {}) =>
  new ApiError(409, 'CONFLICT', message, [], extra);

/** Formats a zod path as `a.b[0].c`, prefixed with where the value came from (body, query, params). */
export function formatPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

export function zodDetails(error: z.ZodError, prefix: string): ErrorDetail[] {
  return error.issues.map((issue) => ({ path: formatPath(prefix, issue.path), message: issue.message }));
}

export function errorBody(err: ApiError) {
  return { error: { code: err.code, message: err.message, details: err.details, ...err.extra } };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

/** Maps body-parser and other framework errors to the API shape; never leaks a stack trace. */
export function errorHandler(log?: { error: (obj: unknown, msg?: string) => void }): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (err && typeof err === 'object' && 'type' in err && typeof (err as { status?: unknown }).status === 'number') {
      // body-parser errors: entity.too.large, entity.parse.failed, encoding.unsupported, ...
      const e = err as { type: string; status: number; message: string };
      if (e.type === 'entity.too.large') apiError = new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
      else if (e.type === 'entity.parse.failed')
        apiError = new ApiError(400, 'BAD_REQUEST', 'Request body is not valid JSON', [{ path: 'body', message: 'invalid JSON' }]);
      else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
        apiError = new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', e.message, [{ path: 'header.content-type', message: e.message }]);
      else apiError = new ApiError(e.status >= 400 && e.status < 500 ? e.status : 400, 'BAD_REQUEST', e.message, [{ path: 'body', message: e.message }]);
    } else {
      log?.error({ err, reqId: (req as { id?: unknown }).id }, 'unhandled error');
      apiError = new ApiError(500, 'INTERNAL', 'Internal server error');
    }
    if (res.headersSent) return;
    res.status(apiError.status).json(errorBody(apiError));
  };
}
