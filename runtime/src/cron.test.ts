import { describe, expect, it } from 'vitest';
import { assertValidCron, nextRunAt, nextRuns, validateCron } from './cron.js';
import { UserError } from './errors.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('validateCron', () => {
  it('accepts five fields and macros', () => {
    for (const e of ['* * * * *', '*/15 9-17 * * 1-5', '0 9 * * MON', '30 2 1 JAN *', '@daily', '@hourly', '@weekly', ' 0  0 * * * ', '@midnight']) {
      expect(validateCron(e, 'Europe/Berlin'), e).toEqual({ ok: true });
    }
  });

  it('refuses bad expressions with a readable reason', () => {
    expect(validateCron('', 'UTC')).toEqual({ ok: false, reason: 'the cron expression is empty' });
    expect(validateCron('* * *', 'UTC')).toMatchObject({ ok: false, reason: expect.stringMatching(/expected 5 fields.*got 3/) });
    expect(validateCron('0 * * * * *', 'UTC')).toMatchObject({ ok: false, reason: expect.stringMatching(/seconds are not supported/) });
    expect(validateCron('61 * * * *', 'UTC')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a valid cron expression.*61/) });
    expect(validateCron('0 0 31 2 *', 'UTC')).toMatchObject({ ok: false });
    expect(validateCron('@sometimes', 'UTC')).toMatchObject({ ok: false, reason: expect.stringMatching(/not supported/) });
    expect(validateCron('* * * * *', 'Mars/Olympus')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a known time zone/) });
  });

  it('assertValidCron throws a UserError naming the field', () => {
    expect(() => assertValidCron('nope', 'UTC')).toThrow(UserError);
    try {
      assertValidCron('* * * * *', 'Nowhere/City');
    } catch (err) {
      expect((err as UserError).field).toBe('config.timezone');
    }
  });
});

describe('nextRunAt', () => {
  it('computes the next run strictly after `from`, in the time zone', () => {
    // 09:00 New York (EST, UTC-5) on weekdays.
    expect(iso(nextRunAt('0 9 * * 1-5', 'America/New_York', new Date('2026-11-23T15:00:00Z')))).toBe('2026-11-24T14:00:00.000Z');
    expect(iso(nextRunAt('0 9 * * 1-5', 'America/New_York', new Date('2026-11-27T15:00:00Z')))).toBe('2026-11-30T14:00:00.000Z'); // Fri → Mon
    expect(iso(nextRunAt('*/15 * * * *', 'UTC', new Date('2026-11-23T10:15:00Z')))).toBe('2026-11-23T10:30:00.000Z');
    expect(iso(nextRunAt('@daily', 'Asia/Kolkata', new Date('2026-11-23T10:00:00Z')))).toBe('2026-11-23T18:30:00.000Z');
  });

  it('summer vs winter offsets', () => {
    expect(iso(nextRunAt('0 8 * * *', 'Europe/Paris', new Date('2026-07-01T00:00:00Z')))).toBe('2026-07-01T06:00:00.000Z');
    expect(iso(nextRunAt('0 8 * * *', 'Europe/Paris', new Date('2026-12-01T00:00:00Z')))).toBe('2026-12-01T07:00:00.000Z');
  });

  it('DST spring forward: a skipped local time runs once, shifted forward', () => {
    // Europe/Berlin jumps from 02:00 to 03:00 on 2026-03-29.
    expect(nextRuns('30 2 * * *', 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 3).map(iso)).toEqual([
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
    // Hourly keeps every real hour: 01:00 CET, then 03:00 CEST.
    expect(nextRuns('0 * * * *', 'Europe/Berlin', new Date('2026-03-28T23:30:00Z'), 3).map(iso)).toEqual([
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
    ]);
  });

  it('DST fall back: a repeated local time runs once', () => {
    // Europe/Berlin goes from 03:00 CEST back to 02:00 CET on 2026-10-25.
    const runs = nextRuns('30 2 * * *', 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'), 3).map(iso);
    expect(runs).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
    // US: America/New_York falls back on 2026-11-01 at 02:00 EDT → 01:00 EST.
    const ny = nextRuns('30 1 * * *', 'America/New_York', new Date('2026-10-31T12:00:00Z'), 2).map(iso);
    expect(ny).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('throws a UserError for an invalid expression', () => {
    expect(() => nextRunAt('bad', 'UTC')).toThrow(UserError);
  });
});
