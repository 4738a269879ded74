/**
 * Cron expressions for schedules: five fields (minute hour day-of-month month day-of-week) or a
 * macro (@daily…), evaluated in an IANA time zone with cron-parser 5.
 *
 * DST: a time that does not exist on a spring-forward day runs once, shifted forward (02:30 in
 * Europe/Berlin on the last Sunday of March runs at 03:30 local); a time that exists twice on a
 * fall-back day runs once, at its first occurrence. Hourly schedules run every real hour.
 */
import { CronExpressionParser } from 'cron-parser';
import { UserError } from './errors.js';

export type CronValidation = { ok: true } | { ok: false; reason: string };

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@weekdays', '@weekends']);
const ALIASES: Record<string, string> = { '@annually': '@yearly', '@midnight': '@daily' };

export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function normalise(expr: string): string {
  const e = expr.trim().replace(/\s+/g, ' ');
  return ALIASES[e.toLowerCase()] ?? (e.startsWith('@') ? e.toLowerCase() : e);
}

/** Checks an expression and a time zone; the reason is written for the user. */
export function validateCron(expr: string, tz = 'UTC'): CronValidation {
  if (typeof expr !== 'string' || expr.trim() === '') return { ok: false, reason: 'the cron expression is empty' };
  if (!isValidTimezone(tz)) return { ok: false, reason: `"${tz}" is not a known time zone (use an IANA name such as Europe/Paris)` };
  const e = normalise(expr);
  if (e.startsWith('@')) {
    if (!MACROS.has(e)) return { ok: false, reason: `"${expr.trim()}" is not supported; use one of ${[...MACROS].join(', ')} or five fields` };
  } else {
    const n = e.split(' ').length;
    if (n !== 5) {
      return {
        ok: false,
        reason: `expected 5 fields (minute hour day-of-month month day-of-week), got ${n}${n === 6 ? ': schedules with seconds are not supported' : ''}`,
      };
    }
  }
  try {
    const it = CronExpressionParser.parse(e, { tz, currentDate: new Date() });
    if (!it.hasNext()) return { ok: false, reason: `"${expr.trim()}" never runs` };
    it.next();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `"${expr.trim()}" is not a valid cron expression: ${(err as Error).message}` };
  }
}

/** Throws a `UserError` naming the problem (field `config.cron` or `config.timezone`). */
export function assertValidCron(expr: string, tz = 'UTC'): void {
  const v = validateCron(expr, tz);
  if (!v.ok) throw new UserError(`Invalid schedule: ${v.reason}`, /time zone/.test(v.reason) ? 'config.timezone' : 'config.cron', 'INVALID_CRON');
}

/** The first run strictly after `from`, or null when the expression never runs again. Throws `UserError` if invalid. */
export function nextRunAt(expr: string, tz: string, from: Date = new Date()): Date | null {
  return nextRuns(expr, tz, from, 1)[0] ?? null;
}

/** The next `count` runs strictly after `from`. */
export function nextRuns(expr: string, tz: string, from: Date, count: number): Date[] {
  assertValidCron(expr, tz);
  const it = CronExpressionParser.parse(normalise(expr), { tz, currentDate: from });
  const out: Date[] = [];
  while (out.length < count && it.hasNext()) {
    const d = it.next().toDate();
    if (d.getTime() > from.getTime()) out.push(d);
  }
  return out;
}
