/**
 * Schedule helpers of the trigger node: cron validation (5 fields, minute resolution, with a
 * timezone) and the next run times inside an optional start/end window. Pure and browser-safe
 * (cron-parser + Intl), so the editor can show "next runs" while the user types.
 */
import { CronExpressionParser } from 'cron-parser';

export interface CronCheck {
  ok: boolean;
  /** Why the expression is refused, in words a user understands. */
  reason?: string;
}

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@weekdays', '@weekends']);

/** Validates a 5-field cron expression (minute hour day-of-month month day-of-week) or a macro such as @daily. */
export function checkCron(expression: string, timezone = 'UTC'): CronCheck {
  const expr = expression.trim();
  if (expr === '') return { ok: false, reason: 'the cron expression is empty' };
  if (!isValidTimezone(timezone)) return { ok: false, reason: `"${timezone}" is not a known time zone (use an IANA name such as Europe/Paris)` };
  if (expr.startsWith('@')) {
    if (!MACROS.has(expr.toLowerCase())) {
      return { ok: false, reason: `"${expr}" is not supported; use ${[...MACROS].join(', ')} or five fields` };
    }
  } else {
    const fields = expr.split(/\s+/);
    if (fields.length !== 5) {
      return {
        ok: false,
        reason: `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}${
          fields.length === 6 ? ': schedules with seconds are not supported' : ''
        }`,
      };
    }
  }
  try {
    const it = CronExpressionParser.parse(expr, { tz: timezone, currentDate: new Date() });
    it.next();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `"${expr}" is not a valid cron expression: ${(err as Error).message}` };
  }
}

export interface ScheduleWindow {
  cron: string;
  timezone: string;
  /** ISO date-time; no runs before it. */
  startAt?: string | undefined;
  /** ISO date-time; no runs after it. */
  endAt?: string | undefined;
}

/** The next `count` run times after `from`, inside the window. Empty when the window has ended. */
export function nextScheduledRuns(schedule: ScheduleWindow, from: Date, count: number): Date[] {
  const start = schedule.startAt ? new Date(schedule.startAt) : undefined;
  const end = schedule.endAt ? new Date(schedule.endAt) : undefined;
  // Start searching just before the window opens, so a run exactly at startAt is included.
  const after = start && start.getTime() > from.getTime() ? new Date(start.getTime() - 1) : from;
  const it = CronExpressionParser.parse(schedule.cron.trim(), {
    tz: schedule.timezone,
    currentDate: after,
    ...(end ? { endDate: end } : {}),
  });
  const out: Date[] = [];
  while (out.length < count) {
    if (!it.hasNext()) break;
    const next = it.next().toDate();
    if (end && next.getTime() > end.getTime()) break;
    out.push(next);
  }
  return out;
}
