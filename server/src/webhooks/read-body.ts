/**
 * A webhook call's raw body, read as Express's raw parser (body-parser + raw-body) read it before the
 * webhook path left Express:
 * - no body when the request announces none (neither Content-Length nor Transfer-Encoding);
 * - Content-Encoding gzip, deflate and br (and zstd where Node has it) inflated; any other → 415 at once;
 * - over the size limit → 413, decided from Content-Length before reading when there is one (identity
 *   encoding), else as bytes arrive (after inflating); the rest of the upload is read off (discarded)
 *   before answering, so a client still sending gets its answer rather than a broken pipe;
 * - a body that does not inflate → 400 (Express answered 500 there: its error had no known type).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import bytes from 'bytes';
import { ApiError } from '../http/errors.js';

const EMPTY = Buffer.alloc(0);
const noop = () => undefined;

/** A size limit as raw-body reads it: a number of bytes, or a string such as '2kb' or '1mb'. */
export function parseBodyLimit(limit: string | number): number {
  const n = bytes.parse(limit);
  if (n === null) throw new TypeError(`option limit "${String(limit)}" is invalid`);
  return n;
}

const tooLarge = () => new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');

/** The body, an error to answer with, or null when the client went away mid-body (nothing to answer). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | ApiError | null> {
  const length = Number(req.headers['content-length']);
  if (req.headers['transfer-encoding'] === undefined && Number.isNaN(length)) return Promise.resolve(EMPTY);
  const encoding = (req.headers['content-encoding'] || 'identity').toLowerCase();
  if (encoding === 'identity') {
    if (length > limit) return drain(req).then(tooLarge);
    return collect(req, null, limit);
  }
  const inflate = inflater(encoding);
  if (!inflate) {
    const message = `unsupported content encoding "${encoding}"`;
    return Promise.resolve(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', message, [{ path: 'header.content-type', message }]));
  }
  req.pipe(inflate);
  return collect(req, inflate, limit);
}

function inflater(encoding: string): Transform | null {
  switch (encoding) {
    case 'deflate':
      return zlib.createInflate();
    case 'gzip':
      return zlib.createGunzip();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd': {
      const create = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress; // Node ≥ 22.15
      return create ? create() : null;
    }
    default:
      return null;
  }
}

/** Reads the request (through its inflater when compressed) to the end, `limit` bytes at most. */
function collect(req: IncomingMessage, inflate: Transform | null, limit: number): Promise<Buffer | ApiError | null> {
  const source: Readable = inflate ?? req;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    // The request's own error is the client going away; an inflater's is a body that does not inflate.
    const onError = (err: Error) =>
      finish(!inflate ? null : new ApiError(400, 'BAD_REQUEST', err.message, [{ path: 'body', message: err.message }]));
    const onClose = () => {
      if (!req.complete) finish(null);
    };
    const finish = (result: Buffer | ApiError | null) => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      req.off('close', onClose);
      if (inflate) {
        req.unpipe(inflate);
        inflate.on('error', noop);
        inflate.destroy();
        if (Buffer.isBuffer(result)) req.resume(); // whatever follows the compressed data
      }
      if (result instanceof ApiError) void drain(req).then(() => resolve(result));
      else resolve(result);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    req.on('close', onClose);
  });
}

/** Reads off the rest of the request, discarding it; resolves once all of it has arrived or the client has gone. */
function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.resume();
    if (req.complete) return resolve();
    const done = () => {
      req.off('end', done);
      req.off('close', done);
      resolve();
    };
    req.on('end', done);
    req.on('close', done);
  });
}
