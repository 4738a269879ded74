import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UserError } from '@gridflow/runtime/errors';
import type { Json } from '@gridflow/runtime/node-type';
import { createFakeContext } from '../testing/fake-context.js';
import { triggerConfigSchema, triggerNode } from './definition.js';
import { applyInputFields, RunInputError } from './run-input.js';
import { checkCron, nextScheduledRuns } from './schedule.js';

function run(rawConfig: unknown, trigger: Json) {
  return triggerNode.run(
    createFakeContext({ config: triggerConfigSchema.parse(rawConfig), trigger }),
  );
}

function issues(raw: unknown): string[] {
  const r = triggerConfigSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('trigger config', () => {
  it('accepts the three modes with defaults', () => {
    expect(triggerConfigSchema.parse({ mode: 'manual' })).toEqual({ mode: 'manual', fields: [] });
    expect(triggerConfigSchema.parse({ mode: 'webhook', path: 'new-article' })).toMatchObject({
      method: 'POST',
      auth: 'none',
      responseMode: 'immediate',
      responseTimeoutMs: 30_000,
    });
    expect(triggerConfigSchema.parse({ mode: 'schedule', cron: '0 9 * * 1' })).toMatchObject({
      timezone: 'UTC',
    });
  });

  it('rejects bad webhook settings with field paths', () => {
    expect(issues({ mode: 'webhook', path: 'Has Spaces' })).toEqual([
      expect.stringMatching(/^path: use lowercase/),
    ]);
    expect(issues({ mode: 'webhook', path: 'x', responseMode: 'onComplete' })).toEqual([
      'responseNodeId: choose the node whose output the webhook returns',
    ]);
    expect(issues({ mode: 'webhook', path: 'x', responseTimeoutMs: 10 })[0]).toMatch(
      /^responseTimeoutMs/,
    );
    expect(issues({ mode: 'webhook', path: 'x', idempotencyField: 'a..b' })).toEqual([
      'idempotencyField: use a path into the body such as article.id',
    ]);
    expect(issues({ mode: 'webhook', path: 'x', idempotencyField: 'article.id' })).toEqual([]);
  });

  it('validates cron, timezone and window', () => {
    expect(issues({ mode: 'schedule', cron: '61 * * * *' })[0]).toMatch(
      /^cron: "61 \* \* \* \*" is not a valid cron expression/,
    );
    expect(issues({ mode: 'schedule', cron: '* * * * * *' })[0]).toMatch(
      /^cron: expected 5 fields.*seconds are not supported/,
    );
    expect(issues({ mode: 'schedule', cron: '0 9 * * *', timezone: 'Mars/Olympus' })[0]).toMatch(
      /^timezone: "Mars\/Olympus" is not a known time zone/,
    );
    expect(
      issues({
        mode: 'schedule',
        cron: '0 9 * * *',
        startAt: '2026-12-02T00:00:00Z',
        endAt: '2026-12-01T00:00:00Z',
      }),
    ).toEqual(['endAt: endAt must be after startAt']);
    expect(issues({ mode: 'schedule', cron: '@daily', startAt: 'tomorrow' })[0]).toMatch(
      /^startAt: use an ISO date-time/,
    );
    expect(issues({ mode: 'other' })[0]).toMatch(/^mode/);
  });
});

describe('trigger runner', () => {
  it('outputs the webhook and schedule payloads unchanged', async () => {
    const payload = {
      body: { article: { id: 'a1', title: 'Hello' } },
      headers: { 'content-type': 'application/json' },
    };
    expect(await run({ mode: 'webhook', path: 'new-article' }, payload)).toEqual({
      kind: 'output',
      output: payload,
    });
    const tick = { scheduledAt: '2026-11-23T09:00:00.000Z' };
    expect(await run({ mode: 'schedule', cron: '0 9 * * *' }, tick)).toEqual({
      kind: 'output',
      output: tick,
    });
  });

  it('applies manual run fields: defaults, coercion, extra keys kept', async () => {
    const config = {
      mode: 'manual',
      fields: [
        { name: 'topic', type: 'string', required: true },
        { name: 'variants', type: 'number', default: 2 },
        { name: 'dryRun', type: 'boolean' },
      ],
    };
    expect(await run(config, { topic: 'Launch', dryRun: 'true', extra: 1 })).toEqual({
      kind: 'output',
      output: { topic: 'Launch', variants: 2, dryRun: true, extra: 1 },
    });
  });

  it('reports a missing required run input as a UserError on that field', async () => {
    const err = await run(
      { mode: 'manual', fields: [{ name: 'topic', label: 'Topic', required: true }] },
      {},
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe('Run input "Topic" is required');
    expect((err as UserError).field).toBe('trigger.topic');
  });

  it('summarises each mode', () => {
    const s = (c: unknown) => triggerNode.summary?.(triggerConfigSchema.parse(c));
    expect(s({ mode: 'webhook', path: 'new-article', auth: 'hmac' })).toBe(
      'Webhook POST /new-article (signed)',
    );
    expect(s({ mode: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris' })).toBe(
      'Every 0 9 * * 1 (Europe/Paris)',
    );
    expect(s({ mode: 'manual' })).toBe('Manual');
  });

  it('has a JSON Schema with the three modes', () => {
    const schema = z.toJSONSchema(triggerConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
      oneOf?: unknown[];
    };
    expect(schema.oneOf).toHaveLength(3);
  });
});

describe('applyInputFields', () => {
  it('rejects wrong types and non-object payloads', () => {
    expect(() =>
      applyInputFields([{ name: 'n', type: 'number', required: false }], { n: 'abc' }),
    ).toThrow(RunInputError);
    expect(() =>
      applyInputFields([{ name: 'b', type: 'boolean', required: false }], { b: 'yes' }),
    ).toThrow(/true or false/);
    expect(() =>
      applyInputFields([{ name: 'x', type: 'string', required: false }], [1] as Json),
    ).toThrow(/object/);
    expect(applyInputFields([], 'anything')).toBe('anything');
    expect(
      applyInputFields([{ name: 'j', type: 'json', required: false }], { j: '{"a":1}' }),
    ).toEqual({ j: { a: 1 } });
    expect(applyInputFields([{ name: 'n', type: 'number', required: true }], { n: '42' })).toEqual({
      n: 42,
    });
  });
});

describe('schedule helpers', () => {
  it('checkCron accepts macros and 5 fields', () => {
    expect(checkCron('@weekly')).toEqual({ ok: true });
    expect(checkCron('*/15 9-17 * * 1-5', 'America/New_York')).toEqual({ ok: true });
    expect(checkCron('@secondly').ok).toBe(false);
    expect(checkCron('').ok).toBe(false);
  });

  it('lists the next runs in the timezone and inside the window', () => {
    const from = new Date('2026-11-23T00:00:00Z');
    // 09:00 in Paris is 08:00 UTC in winter.
    expect(
      nextScheduledRuns({ cron: '0 9 * * *', timezone: 'Europe/Paris' }, from, 2).map((d) =>
        d.toISOString(),
      ),
    ).toEqual(['2026-11-23T08:00:00.000Z', '2026-11-24T08:00:00.000Z']);
    const windowed = nextScheduledRuns(
      {
        cron: '0 * * * *',
        timezone: 'UTC',
        startAt: '2026-11-25T10:00:00Z',
        endAt: '2026-11-25T12:00:00Z',
      },
      from,
      10,
    );
    expect(windowed.map((d) => d.toISOString())).toEqual([
      '2026-11-25T10:00:00.000Z',
      '2026-11-25T11:00:00.000Z',
      '2026-11-25T12:00:00.000Z',
    ]);
    expect(
      nextScheduledRuns(
        { cron: '0 * * * *', timezone: 'UTC', endAt: '2026-01-01T00:00:00Z' },
        from,
        3,
      ),
    ).toEqual([]);
  });
});
