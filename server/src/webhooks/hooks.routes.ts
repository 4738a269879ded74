/**
 * Webhooks in: `POST /hooks/<workspace slug>/<path>` (also under `/api/hooks/`) starts the grid's
 * published version. The hottest path of the product, so it is lean: plain `node:http` (no Express:
 * app.ts hands these requests here before its router), cached trigger lookup, plain SQL for receipts,
 * no Prisma, no audit row and no log line per call. What Express did for it is kept: the same paths
 * match (one segment each, percent-decoded; case-insensitive; one optional trailing slash), the same
 * query parsing (node:querystring), the same rate-limit headers, body limits and error bodies.
 *
 * Order of checks: rate limit per `<ws>/<path>` (429) → body read (413 over the size limit, 415 for
 * an unsupported Content-Encoding) → 404 unknown/unpublished → 405 method → 415 content type →
 * signature (when the trigger is signed: HMAC-SHA256 over "<timestamp>.<raw body>", 5-minute
 * tolerance, replayed signature refused: in this process, and through Redis across server processes
 * in scaled mode) → 400 bad JSON, unstorable text, bad Idempotency-Key → idempotency receipt → start.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import parseurl from 'parseurl';
import type { Json } from '@gridflow/runtime';
import type { ServerContext } from '../context.js';
import { ApiError, errorBody } from '../http/errors.js';
import { ReplayGuard, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature, type ReplayStore } from './signature.js';
import type { CachedTrigger } from './trigger-cache.js';
import { unstorableStringPath } from '../http/route.js';
import { FixedWindowLimiter } from './rate-limit.js';
import { parseBodyLimit, readBody } from './read-body.js';

/** The webhook paths, as Express matched its `/hooks` and `/api/hooks` mounts + `/:ws/:path` route. */
const HOOK_PATH = /^\/(?:api\/)?hooks\/([^/]+)\/([^/]+)\/?$/i;

/** Headers passed to the run as `trigger.headers` (never credentials). */
const DROP_HEADERS = new Set(['authorization', 'cookie', 'x-gridflow-signature', 'proxy-authorization']);

function pickHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (DROP_HEADERS.has(k) || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function valueAtPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

const isJson = (ct: string | undefined) => !!ct && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(ct);

/** Answers webhook calls on plain `node:http` objects; app.ts routes to it what `matches`. */
export interface HookHandler {
  /**
   * Whether a request is a webhook call (`/hooks/<ws>/<path>` or `/api/hooks/<ws>/<path>`). Its
   * parsed URL stays cached on the request (parseurl), for `handle` and for Express alike.
   */
  matches(req: IncomingMessage): boolean;
  /** Answers it; never throws (an unexpected error is logged and answered 500). */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** JSON as the app's `json replacer` writes it (a bigint as a number). */
const jsonReplacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
/** JSON.stringify with the replacer only when needed (a replacer function is called for every key). */
function toJson(body: unknown): string {
  try {
    return JSON.stringify(body) ?? 'null';
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return JSON.stringify(body, jsonReplacer) ?? 'null';
    throw err;
  }
}

/** Percent-decodes a path segment as Express's router did (throws URIError on a malformed escape). */
const decodeParam = (s: string) => (s.includes('%') ? decodeURIComponent(s) : s);

/** `shared`: accepted signatures remembered across server processes (scaled mode: Redis). */
export function createHookHandler(ctx: ServerContext, shared?: ReplayStore): HookHandler {
  const replay = new ReplayGuard();
  const lastReceivedWritten = new Map<string, number>();
  const limiter = new FixedWindowLimiter(ctx.opts.hookRateLimit.windowMs, ctx.opts.hookRateLimit.max);
  const bodyLimit = parseBodyLimit(ctx.opts.hookBodyLimit);

  /**
   * The whole answer in one write: `headers` (nosniff, rate limit, …) plus the JSON body's type and
   * length; counted by status once it has gone out (not when the client left before).
   */
  const send = (res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders) => {
    const json = toJson(body);
    headers['Content-Type'] = 'application/json; charset=utf-8';
    headers['Content-Length'] = Buffer.byteLength(json);
    res.writeHead(status, headers);
    // A string body goes out in the same socket write as the headers (a Buffer takes a writev).
    res.end(json, () => ctx.metrics.webhookRequests.inc({ status: String(status) }));
  };

  /** `headers`: what every answer to this call carries (filled in as the checks go). */
  const serve = async (req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders) => {
    const fail = (err: ApiError) => send(res, err.status, errorBody(err), headers);
    const url = parseurl(req)!;
    const [, rawWs = '', rawPath = ''] = HOOK_PATH.exec(url.pathname ?? '') ?? [];
    let path: string;
    try {
      path = `${decodeParam(rawWs)}/${decodeParam(rawPath)}`;
    } catch {
      // Express answered 500 here (its router's URIError reached the error handler as unexpected).
      return fail(new ApiError(400, 'BAD_REQUEST', 'Malformed percent-encoding in the webhook path', [{ path: 'path', message: 'malformed percent-encoding' }]));
    }
    if (!limiter.hit(path, headers)) return fail(new ApiError(429, 'RATE_LIMITED', 'Too many calls to this webhook; slow down'));
    const rawBody = await readBody(req, bodyLimit);
    if (rawBody === null) return; // the client went away mid-body
    if (rawBody instanceof ApiError) return fail(rawBody);

    if (unstorableStringPath(path, 'path')) return fail(new ApiError(404, 'NOT_FOUND', 'No published grid listens on this webhook path'));
    let trigger: CachedTrigger | null;
    try {
      trigger = await ctx.triggers.get(path);
    } catch (err) {
      ctx.log.error({ err }, 'webhook trigger lookup failed');
      return fail(new ApiError(503, 'UNAVAILABLE', 'Try again later'));
    }
    if (!trigger) return fail(new ApiError(404, 'NOT_FOUND', 'No published grid listens on this webhook path'));
    if (req.method !== trigger.config.method) {
      headers['Allow'] = trigger.config.method;
      return fail(new ApiError(405 as number, 'BAD_REQUEST', `This webhook accepts ${trigger.config.method}`));
    }
    if (rawBody.length > 0 && !isJson(req.headers['content-type'])) {
      return fail(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send JSON: Content-Type: application/json'));
    }
    if (trigger.config.auth === 'hmac') {
      if (!trigger.secret) return fail(new ApiError(401, 'INVALID_SIGNATURE', 'This webhook has no secret yet; rotate one'));
      const check = verifySignature(trigger.secret, rawBody, header(req, SIGNATURE_HEADER), header(req, TIMESTAMP_HEADER));
      if (!check.ok) {
        const why = {
          missing: `Missing ${SIGNATURE_HEADER} / ${TIMESTAMP_HEADER} headers`,
          malformed: `Malformed signature headers: ${SIGNATURE_HEADER}: sha256=<hex>, ${TIMESTAMP_HEADER}: <unix seconds>`,
          stale: 'Timestamp outside the 5-minute tolerance',
          mismatch: 'Signature does not match',
        }[check.reason];
        return fail(new ApiError(401, 'INVALID_SIGNATURE', why, [{ path: `header.${check.reason === 'stale' ? TIMESTAMP_HEADER : SIGNATURE_HEADER}`, message: check.reason }]));
      }
      const replayKey = `${trigger.triggerId}:${check.signature}`;
      let fresh = replay.check(replayKey);
      if (fresh && shared) {
        try {
          fresh = await shared.check(replayKey);
        } catch (err) {
          ctx.log.error({ err }, 'webhook replay check failed');
          replay.forget(replayKey); // the sender's retry of this request must not look like a replay
          return fail(new ApiError(503, 'UNAVAILABLE', 'Try again later'));
        }
      }
      if (!fresh) {
        return fail(new ApiError(401, 'INVALID_SIGNATURE', 'This signature was already used (replay)', [{ path: `header.${SIGNATURE_HEADER}`, message: 'replayed' }]));
      }
    }
    let body: Json = {};
    if (rawBody.length) {
      try {
        body = JSON.parse(rawBody.toString('utf8')) as Json;
      } catch {
        return fail(new ApiError(400, 'BAD_REQUEST', 'Request body is not valid JSON', [{ path: 'body', message: 'invalid JSON' }]));
      }
      const bad = unstorableStringPath(body, 'body');
      if (bad) return fail(new ApiError(400, 'VALIDATION_FAILED', `${bad} contains a NUL character or an unpaired surrogate`, [{ path: bad, message: 'not storable text' }]));
    }
    const query = parseQuery(typeof url.query === 'string' ? url.query : '');
    const badQuery = unstorableStringPath(query, 'query');
    if (badQuery) return fail(new ApiError(400, 'VALIDATION_FAILED', `${badQuery} is not storable text`, [{ path: badQuery, message: 'not storable text' }]));
    const headerKey = header(req, 'idempotency-key');
    let idemKey: string | undefined = headerKey;
    if (!idemKey && trigger.config.idempotencyField) {
      const v = valueAtPath(body, trigger.config.idempotencyField);
      if (typeof v === 'string' || typeof v === 'number') idemKey = String(v);
    }
    if (idemKey !== undefined && (idemKey.length === 0 || idemKey.length > 255)) {
      return fail(new ApiError(400, 'VALIDATION_FAILED', 'Idempotency-Key must be 1-255 characters', [{ path: 'header.idempotency-key', message: '1-255 characters' }]));
    }

    const engine = ctx.engine;
    if (!engine) return fail(new ApiError(503, 'UNAVAILABLE', 'The run engine is not available'));

    let receiptId: string | null = null;
    if (idemKey !== undefined) {
      const ins = await ctx.db.sql.query<{ id: string }>(
        `INSERT INTO webhook_receipts (id, workspace_id, trigger_id, idempotency_key, status)
         VALUES (gen_random_uuid()::text, $1, $2, $3, 'accepted')
         ON CONFLICT (trigger_id, idempotency_key) DO NOTHING RETURNING id`,
        [trigger.workspaceId, trigger.triggerId, idemKey],
      );
      if (!ins.rows[0]) {
        const first = await firstExecution(ctx, trigger.triggerId, idemKey);
        return send(res, 200, { executionId: first, duplicate: true }, headers);
      }
      receiptId = ins.rows[0].id;
    }

    let executionId: string;
    try {
      ({ executionId } = await engine.startRun({
        workspaceId: trigger.workspaceId,
        gridId: trigger.gridId,
        gridVersionId: trigger.gridVersionId,
        document: trigger.document,
        triggerType: 'webhook',
        triggerData: { body, query: query as Json, headers: pickHeaders(req), method: req.method!, receivedAt: new Date().toISOString() },
        waitsForResult: trigger.config.responseMode === 'onComplete',
      }));
    } catch (err) {
      if (receiptId) await ctx.db.sql.query(`DELETE FROM webhook_receipts WHERE id = $1`, [receiptId]).catch(() => undefined);
      throw err;
    }
    if (receiptId) await ctx.db.sql.query(`UPDATE webhook_receipts SET execution_id = $2 WHERE id = $1`, [receiptId, executionId]);
    touchLastReceived(trigger.triggerId);

    if (trigger.config.responseMode !== 'onComplete') return send(res, 202, { executionId }, headers);
    const summary = await engine.waitForCompletion(executionId, trigger.config.responseTimeoutMs);
    if (!summary) {
      return fail(new ApiError(504, 'GATEWAY_TIMEOUT', `The run did not finish within ${trigger.config.responseTimeoutMs} ms; it goes on`, [], { executionId }));
    }
    if (summary.status !== 'completed') {
      return fail(
        new ApiError(500 as number, 'INTERNAL', `The run ${summary.status}${summary.error ? `: ${summary.error.message}` : ''}`, [], { code: 'RUN_FAILED', executionId, status: summary.status }),
      );
    }
    const nodeId = trigger.config.responseNodeId;
    const out = nodeId ? summary.outputs[nodeId] : undefined;
    headers['X-Gridflow-Execution-Id'] = executionId;
    return send(res, 200, out === undefined ? null : out, headers);
  };

  function touchLastReceived(triggerId: string) {
    const now = Date.now();
    if (now - (lastReceivedWritten.get(triggerId) ?? 0) < 10_000) return;
    lastReceivedWritten.set(triggerId, now);
    void ctx.db.sql.query(`UPDATE webhook_triggers SET last_received_at = now() WHERE id = $1`, [triggerId]).catch(() => undefined);
  }

  return {
    matches: (req) => HOOK_PATH.test(parseurl(req)?.pathname ?? ''),
    handle(req, res) {
      // The one header of helmet's that matters for a JSON answer to a machine caller.
      const headers: OutgoingHttpHeaders = { 'X-Content-Type-Options': 'nosniff' };
      serve(req, res, headers).catch((err: unknown) => {
        ctx.log.error({ err }, 'unhandled error');
        if (res.headersSent) return;
        try {
          send(res, 500, errorBody(new ApiError(500, 'INTERNAL', 'Internal server error')), headers);
        } catch {
          res.destroy(); // an answer that cannot even be written: close rather than crash
        }
      });
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The run id of the first delivery with this key (waits briefly when that delivery is still starting its run). */
async function firstExecution(ctx: ServerContext, triggerId: string, key: string): Promise<string | null> {
  for (let i = 0; i < 50; i++) {
    const r = await ctx.db.sql.query<{ execution_id: string | null }>(
      `SELECT execution_id FROM webhook_receipts WHERE trigger_id = $1 AND idempotency_key = $2`,
      [triggerId, key],
    );
    const id = r.rows[0]?.execution_id;
    if (id || !r.rows[0]) return id ?? null;
    await new Promise((res) => setTimeout(res, 20));
  }
  return null;
}
