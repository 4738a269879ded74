/**
 * Delay: suspends the run for a duration or until a time, then passes its input through. The wait is
 * durable (a waitpoint the runtime's timer resumes with `{ reason: 'timer' }`), so nothing sleeps in
 * a worker and a restart loses nothing.
 */
import { z } from 'zod';
import { defineNodeType, output, type Json } from '@gridflow/runtime/node-type';
import { UserError } from '@gridflow/runtime/errors';

export const DELAY_UNITS = {
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
} as const;
export type DelayUnit = keyof typeof DELAY_UNITS;
/** Longest delay a node may ask for. The grid's run timeout (settings.timeoutMs) must also allow it. */
export const MAX_DELAY_MS = 365 * 86_400_000;

const EXPRESSION = /\{\{[\s\S]*?\}\}/;

export const delayConfigSchema = z
  .object({
    mode: z.enum(['duration', 'until']).default('duration'),
    amount: z
      .number()
      .positive('amount must be more than 0')
      .default(1)
      .meta({ 'x-gridflow-showWhen': { mode: 'duration' } }),
    unit: z
      .enum(['seconds', 'minutes', 'hours', 'days'])
      .default('hours')
      .meta({ 'x-gridflow-showWhen': { mode: 'duration' } }),
    until: z
      .string()
      .optional()
      .describe(
        'ISO date-time (2026-11-24T09:00:00Z) or an expression such as {{ trigger.body.publishAt }}',
      )
      .meta({ 'x-gridflow-widget': 'expression', 'x-gridflow-showWhen': { mode: 'until' } }),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.mode === 'duration' && cfg.amount * DELAY_UNITS[cfg.unit] > MAX_DELAY_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: 'a delay can be at most 365 days',
      });
    }
    if (cfg.mode === 'until') {
      const until = (cfg.until ?? '').trim();
      if (until === '')
        ctx.addIssue({ code: 'custom', path: ['until'], message: 'enter the time to wait until' });
      else if (!EXPRESSION.test(until) && Number.isNaN(Date.parse(until))) {
        ctx.addIssue({
          code: 'custom',
          path: ['until'],
          message: `"${until}" is not a date-time; use e.g. 2026-11-24T09:00:00Z`,
        });
      }
    }
  });

export type DelayConfig = z.infer<typeof delayConfigSchema>;

/** The time the delay ends, from the resolved config. Throws UserError on an unreadable `until`. */
export function delayEnd(config: DelayConfig, now: Date): Date {
  if (config.mode === 'duration')
    return new Date(now.getTime() + config.amount * DELAY_UNITS[config.unit]);
  // `until` may have been resolved from an expression to a number (epoch ms) or a date string.
  const raw: unknown = config.until;
  const t = typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw.trim()) : NaN;
  if (!Number.isFinite(t)) {
    throw new UserError(
      `Delay: "${String(raw)}" is not a date-time to wait until (use ISO 8601, e.g. 2026-11-24T09:00:00Z)`,
      'config.until',
    );
  }
  if (t - now.getTime() > MAX_DELAY_MS) {
    throw new UserError(
      `Delay: ${new Date(t).toISOString()} is more than 365 days away`,
      'config.until',
    );
  }
  return new Date(t);
}

export const delayNode = defineNodeType({
  type: 'delay',
  version: 1,
  label: 'Delay',
  description: 'Waits for a duration or until a time, then passes its input on.',
  icon: '⏳',
  category: 'logic',
  inputs: [{ name: 'in', label: 'in' }],
  outputs: [{ name: 'out', label: 'out' }],
  configSchema: delayConfigSchema,
  summary: (config) =>
    config.mode === 'duration'
      ? `Wait ${config.amount} ${config.amount === 1 ? config.unit.replace(/s$/, '') : config.unit}`
      : `Wait until ${config.until ?? '?'}`,
  async run(ctx) {
    if (ctx.resume !== undefined) {
      ctx.log.debug('delay over', { resume: ctx.resume });
      return output(ctx.input as Json);
    }
    const now = new Date();
    const until = delayEnd(ctx.config, now);
    if (until.getTime() <= now.getTime()) {
      ctx.log.info('delay time already passed; continuing', { until: until.toISOString() });
      return output(ctx.input as Json);
    }
    return ctx.wait({ until, payload: { kind: 'delay', until: until.toISOString() } });
  },
});
