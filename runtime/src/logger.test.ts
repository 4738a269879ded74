import { describe, expect, it } from 'vitest';
import { createLogger, redact } from './logger.js';

function capture(level?: 'debug' | 'info' | 'warn' | 'error' | 'silent') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), bindings: { service: 'worker' } });
  return { log, lines };
}

describe('logger', () => {
  it('writes one JSON object per line with level, time, bindings, data and msg', () => {
    const { log, lines } = capture();
    log.info('step finished', { stepId: 's1', ms: 12 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', service: 'worker', stepId: 's1', ms: 12, msg: 'step finished' });
    expect(new Date(lines[0]!.time as string).toString()).not.toBe('Invalid Date');
  });

  it('filters by level', () => {
    const { log, lines } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
    const silent = capture('silent');
    silent.log.error('x');
    expect(silent.lines).toHaveLength(0);
  });

  it('child loggers add bindings without changing the parent', () => {
    const { log, lines } = capture('debug');
    const child = log.child({ executionId: 'e1' }).child({ nodeId: 'n1' });
    child.debug('hello');
    log.info('parent');
    expect(lines[0]).toMatchObject({ service: 'worker', executionId: 'e1', nodeId: 'n1', msg: 'hello' });
    expect(lines[1]).not.toHaveProperty('executionId');
  });

  it('redacts secret-looking keys at any depth, in data and bindings', () => {
    const { log, lines } = capture();
    log.child({ apiKey: 'k-123' }).info('request', {
      headers: { Authorization: 'Bearer abc', 'x-api-key': 'zzz', accept: 'json' },
      user: { password: 'hunter2', name: 'ada' },
      list: [{ accessToken: 't' }, { refresh_token: 'r' }],
      client_secret: 's',
      cookie: 'sid=1',
    });
    const text = JSON.stringify(lines[0]);
    for (const secret of ['k-123', 'Bearer abc', 'zzz', 'hunter2', '"t"', '"r"', '"s"', 'sid=1']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      apiKey: '[REDACTED]',
      headers: { Authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', accept: 'json' },
      user: { password: '[REDACTED]', name: 'ada' },
      list: [{ accessToken: '[REDACTED]' }, { refresh_token: '[REDACTED]' }],
    });
  });

  it('serialises errors, cycles, bigints and keeps the envelope', () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const err = Object.assign(new Error('boom'), { code: 'E1' });
    log.error('failed', { err, cyclic, n: 10n, level: 'debug', msg: 'forged' });
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'failed', err: { name: 'Error', message: 'boom', code: 'E1' }, cyclic: { a: 1, self: '[Circular]' }, n: '10' });
  });

  it('never throws from a broken sink', () => {
    const log = createLogger({ write: () => { throw new Error('disk full'); } });
    expect(() => log.info('x')).not.toThrow();
  });

  it('redact() leaves the input untouched', () => {
    const input = { token: 'abc', nested: { ok: 1 } };
    expect(redact(input)).toEqual({ token: '[REDACTED]', nested: { ok: 1 } });
    expect(input.token).toBe('abc');
  });
});
