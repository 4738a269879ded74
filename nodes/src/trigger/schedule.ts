/**
 * Schedule helpers of the trigger node, on the runtime's cron module (`@gridflow/runtime/cron`:
 * 5 fields or a macro, IANA time zone, DST rules): validation for the config schema and the next run
 * times inside an optional start/end window. Browser-safe (cron-parser + Intl), so the editor can
 * show "next runs" while the user types.
 */
import { isValidTimezone, nextRuns, validateCron } from '@gridflow/runtime/cron';

export { isValidTimezone };

export interface CronCheck {
  ok: boolean;
  /** Why the expression is refused, in words a user understands. */
  reason?: string;
}

/** Validates a 5-field cron expression (minute hour day-of-month month day-of-week) or a macro such as @daily. */
export function checkCron(expression: string, timezone = 'UTC'): CronCheck {
  const v = validateCron(expression, timezone);
  return v.ok ? { ok: true } : { ok: false, reason: v.reason };
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
  if (end && end.getTime() <= from.getTime()) return [];
  // Search from just before the window opens, so a run exactly at startAt is included.
  const after = start && start.getTime() > from.getTime() ? new Date(start.getTime() - 1) : from;
  const runs = nextRuns(schedule.cron, schedule.timezone, after, count);
  return end ? runs.filter((d) => d.getTime() <= end.getTime()) : runs;
}
