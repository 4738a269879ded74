/**
 * A small structured logger: one JSON object per line, child loggers with bindings, and redaction of
 * secret-looking keys (token, secret, password, authorization, api key, cookie…) at any depth.
 * Implements `NodeLogger`, so node runners get `ctx.log = logger.child({ executionId, nodeId })`.
 */
import type { NodeLogger } from './node-type.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger extends NodeLogger {
  child(bindings: Record<string, unknown>): Logger;
  readonly level: LogLevel | 'silent';
}

export interface LoggerOptions {
  /** Minimum level written. Default 'info'. */
  level?: LogLevel | 'silent';
  /** Fields on every line. */
  bindings?: Record<string, unknown>;
  /** Sink for one serialised line (without newline). Default: stdout. */
  write?: (line: string) => void;
  /** Key pattern whose values are replaced by "[REDACTED]". */
  redactKeys?: RegExp;
}

export const DEFAULT_REDACT_KEYS =
  /pass(word|wd|phrase)?$|secret|token|authorization|^auth$|api[-_]?key|apikey|cookie|credential|private[-_]?key|signature|session[-_]?id|ciphertext/i;

const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;

/** A copy of `value` safe to log: secret-looking keys redacted, errors expanded, cycles cut. */
export function redact(value: unknown, keys: RegExp = DEFAULT_REDACT_KEYS): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'function') return `[Function ${v.name || 'anonymous'}]`;
      return v;
    }
    if (seen.has(v)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated]';
    seen.add(v);
    if (v instanceof Error) {
      const e = v as Error & { code?: unknown; cause?: unknown };
      const out: Record<string, unknown> = { name: e.name, message: e.message };
      if (e.code !== undefined) out.code = e.code;
      if (e.stack) out.stack = e.stack;
      if (e.cause !== undefined) out.cause = walk(e.cause, depth + 1);
      return out;
    }
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v instanceof Map) return walk(Object.fromEntries(v), depth);
    if (ArrayBuffer.isView(v)) return `[${v.constructor.name} ${v.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const safe = keys.test(k) ? REDACTED : walk(x, depth + 1);
      Object.defineProperty(out, k, { value: safe, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return walk(value, 0);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const keys = options.redactKeys ?? DEFAULT_REDACT_KEYS;
  return make(level, write, keys, (redact(options.bindings ?? {}, keys) as Record<string, unknown>) ?? {});
}

function make(level: LogLevel | 'silent', write: (line: string) => void, keys: RegExp, bindings: Record<string, unknown>): Logger {
  const min = RANK[level];
  const log = (lvl: LogLevel, msg: string, data?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const time = new Date().toISOString();
    const line: Record<string, unknown> = { level: lvl, time, ...bindings };
    if (data) Object.assign(line, redact(data, keys) as Record<string, unknown>);
    // Data cannot forge the envelope.
    line.level = lvl;
    line.time = time;
    line.msg = msg;
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ level: lvl, time: line.time, msg, logError: 'unserialisable data' });
    }
    try {
      write(text);
    } catch {
      // Logging must never break the caller.
    }
  };
  return {
    level,
    debug: (msg, data) => log('debug', msg, data),
    info: (msg, data) => log('info', msg, data),
    warn: (msg, data) => log('warn', msg, data),
    error: (msg, data) => log('error', msg, data),
    child: (more) => make(level, write, keys, { ...bindings, ...(redact(more, keys) as Record<string, unknown>) }),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ level: 'silent', write: () => undefined });
