/**
 * Pure helpers for dot/bracket paths into JSON values: `a.b[0].c`, `items[2]`, `meta["x-id"]`.
 * Used by transform, branch and for-each. Never mutate their inputs except `setPath`/`deletePath`,
 * which mutate the container they are given (callers clone first).
 */
import type { Json } from '@gridflow/runtime/node-type';

export type PathSegment = string | number;

export class PathSyntaxError extends Error {
  override name = 'PathSyntaxError';
}

const IDENT = /^[A-Za-z_$][\w$-]*/;

/** Parses `a.b[0]["c d"]` into `['a', 'b', 0, 'c d']`. The empty path is `[]`. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let rest = path.trim();
  let first = true;
  while (rest.length > 0) {
    if (rest.startsWith('[')) {
      const num = /^\[(\d+)\]/.exec(rest);
      if (num) {
        segments.push(Number(num[1]));
        rest = rest.slice(num[0].length);
      } else {
        const quoted = /^\[\s*(["'])((?:\\.|(?!\1).)*)\1\s*\]/.exec(rest);
        if (!quoted)
          throw new PathSyntaxError(
            `invalid path "${path}": expected [index] or ["key"] at "${rest}"`,
          );
        segments.push((quoted[2] ?? '').replace(/\\(.)/g, '$1'));
        rest = rest.slice(quoted[0].length);
      }
    } else {
      if (!first) {
        if (!rest.startsWith('.'))
          throw new PathSyntaxError(`invalid path "${path}": expected "." at "${rest}"`);
        rest = rest.slice(1);
      }
      // Segments after a dot may also be plain numbers (`a.0.b`) or contain dashes (`x-id`).
      const m = IDENT.exec(rest) ?? /^\d+/.exec(rest);
      if (!m) throw new PathSyntaxError(`invalid path "${path}": expected a name at "${rest}"`);
      segments.push(m[0]);
      rest = rest.slice(m[0].length);
    }
    first = false;
  }
  return segments;
}

/** Whether `path` is a plain path (no operators, calls or spaces), as opposed to a JS expression. */
export function isSimplePath(path: string): boolean {
  if (path.trim() === '' || /\s/.test(path.trim())) return false;
  try {
    parsePath(path);
    return true;
  } catch {
    return false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the value at `path`; `undefined` when any part is missing. */
export function getPath(value: unknown, path: string | PathSegment[]): unknown {
  const segments = typeof path === 'string' ? parsePath(path) : path;
  let cur: unknown = value;
  for (const seg of segments) {
    if (Array.isArray(cur)) {
      const idx = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : NaN;
      if (Number.isNaN(idx)) {
        if (seg === 'length') {
          cur = cur.length;
          continue;
        }
        return undefined;
      }
      cur = cur[idx];
    } else if (isRecord(cur)) {
      const key = String(seg);
      if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
      cur = cur[key];
    } else {
      return undefined;
    }
  }
  return cur;
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

function checkKey(seg: PathSegment, path: string | PathSegment[]): void {
  if (typeof seg === 'string' && FORBIDDEN.has(seg)) {
    throw new PathSyntaxError(
      `path "${Array.isArray(path) ? path.join('.') : path}" uses the reserved key "${seg}"`,
    );
  }
}

/**
 * Sets `value` at `path` inside `root` (an object or array), creating objects (or arrays, when the
 * next segment is a number) on the way. Returns `root`. The empty path is refused.
 */
export function setPath<T extends Record<string, unknown> | unknown[]>(
  root: T,
  path: string | PathSegment[],
  value: unknown,
): T {
  const segments = typeof path === 'string' ? parsePath(path) : path;
  if (segments.length === 0) throw new PathSyntaxError('cannot set the empty path');
  let cur: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as PathSegment;
    checkKey(seg, path);
    const last = i === segments.length - 1;
    const nextSeg = segments[i + 1];
    if (Array.isArray(cur)) {
      const idx = typeof seg === 'number' ? seg : Number(seg);
      if (!Number.isInteger(idx) || idx < 0) {
        throw new PathSyntaxError(
          `cannot set "${String(seg)}" on an array (path ${JSON.stringify(path)})`,
        );
      }
      if (last) {
        cur[idx] = value;
      } else {
        const next = cur[idx];
        if (!isRecord(next) && !Array.isArray(next))
          cur[idx] = typeof nextSeg === 'number' ? [] : {};
        cur = cur[idx] as Record<string, unknown> | unknown[];
      }
    } else {
      const key = String(seg);
      if (last) {
        cur[key] = value;
      } else {
        const next = cur[key];
        if (!isRecord(next) && !Array.isArray(next))
          cur[key] = typeof nextSeg === 'number' ? [] : {};
        cur = cur[key] as Record<string, unknown> | unknown[];
      }
    }
  }
  return root;
}

/** Removes the value at `path` (array elements are spliced out). Returns whether something was removed. */
export function deletePath(root: unknown, path: string | PathSegment[]): boolean {
  const segments = typeof path === 'string' ? parsePath(path) : path;
  if (segments.length === 0) return false;
  const parent = getPath(root, segments.slice(0, -1));
  const last = segments[segments.length - 1] as PathSegment;
  if (Array.isArray(parent)) {
    const idx = typeof last === 'number' ? last : Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length) return false;
    parent.splice(idx, 1);
    return true;
  }
  if (isRecord(parent) && Object.prototype.hasOwnProperty.call(parent, String(last))) {
    delete parent[String(last)];
    return true;
  }
  return false;
}

/** A deep copy of a JSON value (drops `undefined`, functions and other non-JSON values). */
export function cloneJson<T extends Json>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Converts an arbitrary value to JSON (undefined → null), as node outputs must be. */
export function toJson(value: unknown): Json {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as Json;
}
