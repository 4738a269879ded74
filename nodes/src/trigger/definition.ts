/**
 * Trigger: starts runs manually (with an optional run form), from a webhook, or on a schedule. Its
 * output is the trigger payload. Webhook HTTP handling (auth, response modes, idempotency) and
 * scheduling live in the server and runtime; this definition is their typed settings.
 */
import { z } from 'zod';
import { defineNodeType, output, type Json } from '@gridflow/runtime/node-type';
import { UserError } from '@gridflow/runtime/errors';
import { applyInputFields, RunInputError } from './run-input.js';
import { checkCron } from './schedule.js';
import { parsePath } from '../transform/path.js';

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body>` when a webhook uses `hmac` auth. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-gridflow-signature';
/** Header with the Unix time (seconds) included in the signed string `${timestamp}.${rawBody}`. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-gridflow-timestamp';

const isoDateTime = z.iso.datetime({
  offset: true,
  message: 'use an ISO date-time such as 2026-11-23T09:00:00Z',
});

export const inputFieldSchema = z.object({
  name: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
      'field names use letters, digits and "_" and start with a letter',
    ),
  label: z.string().max(80).optional(),
  type: z.enum(['string', 'text', 'number', 'boolean', 'json']).default('string'),
  required: z.boolean().default(false),
  default: z.json().optional(),
  description: z.string().max(300).optional(),
});

export const manualTriggerSchema = z.object({
  mode: z.literal('manual'),
  /** Fields of the run form the editor shows for "Run now". */
  fields: z.array(inputFieldSchema).max(50).default([]),
});

export const webhookTriggerSchema = z
  .object({
    mode: z.literal('webhook'),
    path: z
      .string()
      .regex(
        /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
        'use lowercase letters, digits and "-" (e.g. new-article), max 64',
      )
      .describe('The webhook URL is /api/hooks/<workspace>/<path>'),
    method: z.enum(['POST', 'PUT', 'GET']).default('POST'),
    auth: z
      .enum(['none', 'hmac'])
      .default('none')
      .describe(
        `hmac: callers sign "<timestamp>.<raw body>" with the secret the server generated for this webhook and send ${WEBHOOK_SIGNATURE_HEADER}: sha256=<hex> and ${WEBHOOK_TIMESTAMP_HEADER}`,
      ),
    responseMode: z
      .enum(['immediate', 'onComplete'])
      .default('immediate')
      .describe(
        "immediate: answer 202 with the execution id; onComplete: wait for the run and answer with a node's output",
      ),
    responseNodeId: z
      .string()
      .optional()
      .describe('Node whose output is returned when responseMode is onComplete'),
    responseTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(300_000)
      .default(30_000)
      .describe(
        'onComplete: after this the caller gets 202 with the execution id; the run goes on',
      ),
    idempotencyField: z
      .string()
      .max(200)
      .optional()
      .describe('Path in the request body (e.g. article.id) whose value de-duplicates deliveries'),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.idempotencyField) {
      try {
        parsePath(cfg.idempotencyField);
      } catch {
        ctx.addIssue({
          code: 'custom',
          path: ['idempotencyField'],
          message: 'use a path into the body such as article.id',
        });
      }
    }
    if (cfg.responseMode === 'onComplete' && !cfg.responseNodeId) {
      ctx.addIssue({
        code: 'custom',
        path: ['responseNodeId'],
        message: 'choose the node whose output the webhook returns',
      });
    }
  });

export const scheduleTriggerSchema = z
  .object({
    mode: z.literal('schedule'),
    cron: z
      .string()
      .min(1, 'cron is required')
      .describe('Five fields: minute hour day-of-month month day-of-week, or @daily, @hourly…'),
    timezone: z.string().default('UTC').describe('IANA time zone, e.g. Europe/Paris'),
    startAt: isoDateTime.optional().describe('No runs before this time'),
    endAt: isoDateTime.optional().describe('No runs after this time'),
  })
  .superRefine((cfg, ctx) => {
    const check = checkCron(cfg.cron, cfg.timezone);
    if (!check.ok)
      ctx.addIssue({
        code: 'custom',
        path: [/time zone/.test(check.reason ?? '') ? 'timezone' : 'cron'],
        message: check.reason ?? 'invalid',
      });
    if (cfg.startAt && cfg.endAt && Date.parse(cfg.endAt) <= Date.parse(cfg.startAt)) {
      ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt must be after startAt' });
    }
  });

export const triggerConfigSchema = z.discriminatedUnion('mode', [
  manualTriggerSchema,
  webhookTriggerSchema,
  scheduleTriggerSchema,
]);

export type TriggerConfig = z.infer<typeof triggerConfigSchema>;

export const triggerNode = defineNodeType({
  type: 'trigger',
  version: 1,
  label: 'Trigger',
  description:
    'Starts the grid: manually, from a webhook, or on a schedule. Its output is the trigger payload.',
  icon: '⚡',
  category: 'trigger',
  isTrigger: true,
  // Its output is the trigger payload (or the run form's fields): the engine completes it inline.
  pure: true,
  inputs: [],
  outputs: [{ name: 'out', label: 'out' }],
  configSchema: triggerConfigSchema,
  summary: (config) => {
    switch (config.mode) {
      case 'manual':
        return config.fields.length
          ? `Manual, ${config.fields.length} input field${config.fields.length === 1 ? '' : 's'}`
          : 'Manual';
      case 'webhook':
        return `Webhook ${config.method} /${config.path}${config.auth === 'hmac' ? ' (signed)' : ''}`;
      case 'schedule':
        return `Every ${config.cron} (${config.timezone})`;
      default: {
        const never: never = config;
        return String(never);
      }
    }
  },
  async run(ctx) {
    const config = ctx.config;
    switch (config.mode) {
      case 'manual':
        try {
          return output(applyInputFields(config.fields, ctx.trigger));
        } catch (err) {
          if (err instanceof RunInputError)
            throw new UserError(err.message, err.field ? `trigger.${err.field}` : 'trigger');
          throw err;
        }
      case 'webhook':
      case 'schedule':
        return output(ctx.trigger as Json);
      default: {
        const never: never = config;
        throw new UserError(`unknown trigger mode ${JSON.stringify(never)}`, 'config.mode');
      }
    }
  },
});
