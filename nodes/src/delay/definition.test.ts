import { describe, expect, it } from 'vitest';
import { UserError } from '@gridflow/runtime/errors';
import type { Json, WaitResult } from '@gridflow/runtime/node-type';
import { createFakeContext } from '../testing/fake-context.js';
import { delayConfigSchema, delayEnd, delayNode } from './definition.js';

function ctxFor(raw: unknown, opts: { input?: Json; resume?: Json } = {}) {
  return createFakeContext({
    config: delayConfigSchema.parse(raw),
    input: opts.input ?? { post: 'p1' },
    ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
  });
}

describe('delay config', () => {
  it('defaults to one hour', () => {
    expect(delayConfigSchema.parse({})).toEqual({ mode: 'duration', amount: 1, unit: 'hours' });
  });
  it('refuses over-long delays, missing or unreadable until; accepts expressions', () => {
    expect(delayConfigSchema.safeParse({ amount: 366, unit: 'days' }).success).toBe(false);
    expect(delayConfigSchema.safeParse({ amount: 0 }).success).toBe(false);
    expect(delayConfigSchema.safeParse({ mode: 'until' }).success).toBe(false);
    expect(delayConfigSchema.safeParse({ mode: 'until', until: 'next tuesday' }).success).toBe(
      false,
    );
    expect(
      delayConfigSchema.safeParse({ mode: 'until', until: '{{ trigger.publishAt }}' }).success,
    ).toBe(true);
    expect(
      delayConfigSchema.safeParse({ mode: 'until', until: '2026-11-24T09:00:00Z' }).success,
    ).toBe(true);
  });
});

describe('delay runner', () => {
  it('waits for the duration on the first run', async () => {
    const before = Date.now();
    const result = (await delayNode.run(ctxFor({ amount: 24, unit: 'hours' }))) as WaitResult;
    expect(result.kind).toBe('wait');
    const until = result.wait.until!.getTime();
    expect(until - before).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(until - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    expect(result.wait.payload).toEqual({ kind: 'delay', until: new Date(until).toISOString() });
  });

  it('passes the input through when resumed by the timer', async () => {
    const input = { post: { id: 'urn:li:share:1' } };
    expect(
      await delayNode.run(
        ctxFor({ amount: 1, unit: 'days' }, { input, resume: { reason: 'timer' } }),
      ),
    ).toEqual({
      kind: 'output',
      output: input,
    });
  });

  it('waits until a future time and skips a past one', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const waiting = (await delayNode.run(ctxFor({ mode: 'until', until: future }))) as WaitResult;
    expect(waiting.wait.until?.toISOString()).toBe(future);
    expect(await delayNode.run(ctxFor({ mode: 'until', until: '2020-01-01T00:00:00Z' }))).toEqual({
      kind: 'output',
      output: { post: 'p1' },
    });
  });

  it('reports an until that resolved to something unreadable as a UserError', async () => {
    const ctx = ctxFor({ mode: 'until', until: '{{ trigger.when }}' });
    // What the runtime hands over after resolving the expression to a non-date.
    ctx.config = { ...ctx.config, until: 'whenever' };
    const err = await delayNode.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.until');
  });

  it('delayEnd accepts epoch milliseconds from an expression', () => {
    const now = new Date('2026-11-23T00:00:00Z');
    const cfg = {
      mode: 'until',
      amount: 1,
      unit: 'hours',
      until: Date.parse('2026-11-23T05:00:00Z') as unknown as string,
    } as const;
    expect(delayEnd(cfg, now).toISOString()).toBe('2026-11-23T05:00:00.000Z');
    expect(delayEnd({ mode: 'duration', amount: 90, unit: 'seconds' }, now).toISOString()).toBe(
      '2026-11-23T00:01:30.000Z',
    );
  });

  it('summarises', () => {
    expect(delayNode.summary?.(delayConfigSchema.parse({ amount: 1, unit: 'days' }))).toBe(
      'Wait 1 day',
    );
    expect(delayNode.summary?.(delayConfigSchema.parse({ amount: 24, unit: 'hours' }))).toBe(
      'Wait 24 hours',
    );
  });
});
