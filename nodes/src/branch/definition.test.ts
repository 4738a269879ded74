import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '@gridflow/runtime/errors';
import { createSandbox } from '@gridflow/runtime/sandbox';
import type { Json } from '@gridflow/runtime/node-type';
import { createFakeContext } from '../testing/fake-context.js';
import { runtimeEvaluate, type EvaluateLog } from '../transform/fake-evaluate.js';
import { branchConfigSchema, branchNode, branchOutputs } from './definition.js';

const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.dispose());

function ctxFor(
  rawConfig: unknown,
  input: Json,
  extra: { trigger?: Json; outputs?: Record<string, Json> } = {},
  log?: EvaluateLog,
) {
  const config = branchConfigSchema.parse(rawConfig);
  return createFakeContext({
    config,
    input,
    trigger: extra.trigger ?? null,
    evaluate: runtimeEvaluate(
      { input, trigger: extra.trigger ?? null, outputs: extra.outputs ?? {} },
      sandbox,
      log,
    ),
  });
}

const scoreRoutes = {
  routes: [
    {
      port: 'high',
      label: 'Score ≥ 80',
      conditions: [{ field: 'input.score', operator: 'gte', value: '80' }],
    },
    { port: 'medium', conditions: [{ field: 'input.score', operator: 'gte', value: 50 }] },
  ],
};

describe('branch config', () => {
  it('rejects reserved and duplicate ports, empty routes and missing values with paths', () => {
    const r = branchConfigSchema.safeParse({
      routes: [
        { port: 'default', conditions: [{ field: 'input.a', operator: 'exists' }] },
        { port: 'a', conditions: [{ field: 'input.a', operator: 'eq' }] },
        { port: 'a' },
      ],
    });
    expect(r.success).toBe(false);
    const issues = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routes\.0\.port: "default" is reserved/),
        expect.stringMatching(/^routes\.1\.conditions\.0\.value: operator "eq" needs a value/),
        expect.stringMatching(/^routes\.2\.port: port "a" is used by two routes/),
        expect.stringMatching(/^routes\.2: a route needs conditions or an expression/),
      ]),
    );
    expect(branchConfigSchema.safeParse({ routes: [] }).success).toBe(false);
    expect(
      branchConfigSchema.safeParse({ routes: [{ port: '1bad', expression: 'true' }] }).success,
    ).toBe(false);
  });

  it('computes ports from the config, tolerating partial configs', () => {
    const config = branchConfigSchema.parse(scoreRoutes);
    expect(branchNode.outputsFor?.(config)).toEqual([
      { name: 'high', label: 'Score ≥ 80' },
      { name: 'medium', label: 'medium' },
      { name: 'default', label: 'default' },
    ]);
    expect(branchOutputs(undefined)).toEqual([{ name: 'default', label: 'default' }]);
    expect(
      branchOutputs({ routes: [{ port: '' }, { port: 'x' }, { port: 'x' }] } as never).map(
        (p) => p.name,
      ),
    ).toEqual(['x', 'default']);
  });
});

describe('branch runner', () => {
  it('fires the first matching route and passes the input through', async () => {
    const input = { score: 85, text: 'hello' };
    const result = await branchNode.run(ctxFor(scoreRoutes, input));
    expect(result).toEqual({ kind: 'output', output: input, ports: ['high'] });
    expect(await branchNode.run(ctxFor(scoreRoutes, { score: 60 }))).toMatchObject({
      ports: ['medium'],
    });
  });

  it('falls back to default when nothing matches (missing field included)', async () => {
    expect(await branchNode.run(ctxFor(scoreRoutes, { score: 10 }))).toMatchObject({
      ports: ['default'],
    });
    expect(await branchNode.run(ctxFor(scoreRoutes, { other: true }))).toMatchObject({
      ports: ['default'],
    });
  });

  it('all-matching mode fires every matching route', async () => {
    const result = await branchNode.run(
      ctxFor({ ...scoreRoutes, matchMode: 'all' }, { score: 90 }),
    );
    expect(result).toMatchObject({ ports: ['high', 'medium'] });
  });

  it('combines AND/OR groups', async () => {
    const config = {
      routes: [
        {
          port: 'publish',
          combinator: 'and',
          conditions: [{ field: 'input.score', operator: 'gte', value: 80 }],
          groups: [
            {
              combinator: 'or',
              conditions: [
                { field: 'input.platform', operator: 'eq', value: 'linkedin' },
                { field: 'input.tags', operator: 'contains', value: 'launch' },
              ],
            },
          ],
        },
      ],
    };
    expect(
      await branchNode.run(ctxFor(config, { score: 90, platform: 'x', tags: ['launch'] })),
    ).toMatchObject({ ports: ['publish'] });
    expect(
      await branchNode.run(ctxFor(config, { score: 90, platform: 'x', tags: [] })),
    ).toMatchObject({ ports: ['default'] });
    expect(await branchNode.run(ctxFor(config, { score: 70, platform: 'linkedin' }))).toMatchObject(
      { ports: ['default'] },
    );
  });

  it('reads fields through expressions and templates (other nodes, trigger)', async () => {
    const log: EvaluateLog = { calls: [] };
    const config = {
      routes: [
        {
          port: 'vip',
          conditions: [
            {
              field: '{{ nodes.guard.output.score }}',
              operator: 'gt',
              value: '{{ trigger.threshold }}',
            },
          ],
        },
      ],
    };
    const ctx = ctxFor(
      config,
      { x: 1 },
      { trigger: { threshold: 70 }, outputs: { guard: { score: 71 } } },
      log,
    );
    expect(await branchNode.run(ctx)).toMatchObject({ ports: ['vip'] });
    expect(log.calls.map((c) => c.expression)).toEqual([
      '{{ nodes.guard.output.score }}',
      '{{ trigger.threshold }}',
    ]);
  });

  it('reads plain input paths without the sandbox', async () => {
    const log: EvaluateLog = { calls: [] };
    await branchNode.run(ctxFor(scoreRoutes, { score: 99 }, {}, log));
    expect(log.calls).toEqual([]);
  });

  it('supports a JS expression per route', async () => {
    const config = {
      routes: [
        { port: 'long', expression: 'input.text.length > 280' },
        { port: 'short', expression: '{{ input.text.length <= 280 }}' },
      ],
    };
    expect(await branchNode.run(ctxFor(config, { text: 'x'.repeat(300) }))).toMatchObject({
      ports: ['long'],
    });
    expect(await branchNode.run(ctxFor(config, { text: 'short one' }))).toMatchObject({
      ports: ['short'],
    });
  });

  it('reports a failing expression as a UserError naming the route field', async () => {
    const config = { routes: [{ port: 'bad', expression: 'input.missing.deeper > 1' }] };
    const err = await branchNode.run(ctxFor(config, {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.routes[0].expression');
    expect((err as UserError).message).toMatch(
      /^Branch route "bad": expression \{\{ input\.missing\.deeper > 1 \}\} failed: .*'deeper'/,
    );
  });

  it('reports an invalid regular expression as a UserError on the condition value', async () => {
    const config = {
      routes: [{ port: 'm', conditions: [{ field: 'input.t', operator: 'matches', value: '([' }] }],
    };
    const err = await branchNode.run(ctxFor(config, { t: 'x' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('config.routes[0].conditions[0].value');
  });
});
