import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UserError } from './errors.js';
import {
  buildNodesScope,
  evaluateExpression,
  evaluateTemplateOrExpression,
  ExpressionError,
  resolveConfig,
  resolveTemplate,
  type ExpressionScope,
} from './expressions.js';
import type { Json, Sandbox } from './node-type.js';
import { createSandbox } from './sandbox.js';

const realSandbox = createSandbox({ poolSize: 2, defaultTimeoutMs: 500 });
afterAll(() => realSandbox.dispose());

/** The real sandbox, counting how often it is used (to prove plain paths never reach it). */
function countingSandbox(): Sandbox & { calls: number; lastVars?: Record<string, Json> } {
  const s = {
    calls: 0,
    lastVars: undefined as Record<string, Json> | undefined,
    runCode: realSandbox.runCode,
    evaluate(expression: string, globals: Record<string, Json>) {
      s.calls++;
      s.lastVars = globals;
      return realSandbox.evaluate(expression, globals);
    },
  };
  return s;
}

const scope: ExpressionScope = {
  trigger: { body: { title: 'Launch day', tags: ['a', 'b'], n: 21, nested: { deep: null } } },
  nodes: buildNodesScope([
    { id: 'gen1', name: 'Generate post', output: { text: 'Hello world', items: [{ name: 'first' }, { name: 'second' }], count: 2 } },
    { id: 'img1', name: 'Image', output: { url: 'https://example.com/a.png', big: 'x'.repeat(10_000) } },
  ]),
  item: { name: 'Ada', score: 9 },
  itemIndex: 3,
  run: { id: 'run_1', gridId: 'grid_1', startedAt: '2026-11-23T10:00:00.000Z' },
  input: { fromParent: true },
};

async function userError(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('evaluateExpression', () => {
  it('resolves plain paths natively, without the sandbox', async () => {
    const sb = countingSandbox();
    expect(await evaluateExpression('trigger.body.title', scope, sb)).toBe('Launch day');
    expect(await evaluateExpression('nodes["Generate post"].output.text', scope, sb)).toBe('Hello world');
    expect(await evaluateExpression('nodes.gen1.output.items[0]', scope, sb)).toEqual({ name: 'first' });
    expect(await evaluateExpression('nodes.gen1.output.items[1].name', scope, sb)).toBe('second');
    expect(await evaluateExpression('item.name', scope, sb)).toBe('Ada');
    expect(await evaluateExpression('itemIndex', scope, sb)).toBe(3);
    expect(await evaluateExpression('run.id', scope, sb)).toBe('run_1');
    expect(await evaluateExpression('input', scope, sb)).toEqual({ fromParent: true });
    expect(await evaluateExpression('trigger.body.tags.length', scope, sb)).toBe(2);
    expect(await evaluateExpression('trigger.body.title[0]', scope, sb)).toBe('L');
    expect(await evaluateExpression('trigger.body.missing', scope, sb)).toBeNull();
    expect(await evaluateExpression('trigger.body.tags[5]', scope, sb)).toBeNull();
    expect(sb.calls).toBe(0);
  });

  it('names a node without output', async () => {
    const err = await userError(evaluateExpression('nodes.x.output', scope, countingSandbox()));
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err.message).toBe('expression {{ nodes.x.output }} failed: node "x" has no output');
    // The same through the sandbox path.
    const err2 = await userError(evaluateExpression('nodes.x.output.text.toUpperCase()', scope, realSandbox));
    expect(err2.message).toBe('expression {{ nodes.x.output.text.toUpperCase() }} failed: node "x" has no output');
  });

  it('reports reading through null/undefined like JavaScript would, naming the path', async () => {
    const err = await userError(evaluateExpression('trigger.body.nested.deep.more', scope, realSandbox));
    expect(err.message).toBe('expression {{ trigger.body.nested.deep.more }} failed: trigger.body.nested.deep is null (reading "more")');
    const err2 = await userError(evaluateExpression('trigger.body.nope.more', scope, realSandbox));
    expect(err2.message).toMatch(/trigger\.body\.nope is undefined/);
  });

  it('evaluates other expressions in the sandbox with only the variables they mention', async () => {
    const sb = countingSandbox();
    expect(await evaluateExpression('trigger.body.title.toUpperCase()', scope, sb)).toBe('LAUNCH DAY');
    expect(sb.lastVars && Object.keys(sb.lastVars)).toEqual(['trigger']);
    expect(await evaluateExpression('nodes.gen1.output.count * 2 + trigger.body.n', scope, sb)).toBe(25);
    expect(Object.keys(sb.lastVars!.nodes as object)).toEqual(['gen1']);
    expect(await evaluateExpression('nodes["Generate post"].output.items.map(i => i.name).join(", ")', scope, sb)).toBe('first, second');
    expect(await evaluateExpression('Object.keys(nodes).length', scope, sb)).toBe(4); // by id and by name
    expect(await evaluateExpression('item.score > 5 ? "high" : "low"', scope, sb)).toBe('high');
    expect(await evaluateExpression('item.score + 1;', scope, sb)).toBe(10);
    expect(await evaluateExpression('nodes.missing?.output ?? "fallback"', scope, sb)).toBe('fallback');
    expect(await evaluateExpression('trigger.constructor', scope, sb)).toBeNull(); // a function: not JSON
    expect(sb.calls).toBe(8);
  });

  it('turns sandbox failures into expression errors', async () => {
    const syntax = await userError(evaluateExpression('trigger.body +', scope, realSandbox));
    expect(syntax.message).toMatch(/^expression \{\{ trigger\.body \+ \}\} failed: syntax error/);
    const ref = await userError(evaluateExpression('process.env', scope, realSandbox));
    expect(ref.message).toBe('expression {{ process.env }} failed: ReferenceError: process is not defined');
    const loop = await userError(evaluateExpression('(() => { for(;;){} })()', scope, realSandbox));
    expect(loop.message).toBe('expression {{ (() => { for(;;){} })() }} failed: timed out after 500 ms');
    const empty = await userError(evaluateExpression('  ', scope, realSandbox));
    expect(empty.message).toMatch(/empty/);
  });

  it('accepts extra variables', async () => {
    expect(await evaluateExpression('extraVar.a', scope, realSandbox, { extraVar: { a: 5 } })).toBe(5);
    expect(await evaluateExpression('extraVar.a + 1', scope, realSandbox, { extraVar: { a: 5 } })).toBe(6);
  });
});

describe('resolveTemplate', () => {
  it('returns the raw value of a single expression and a string for mixed text', async () => {
    expect(await resolveTemplate('{{ trigger.body.n }}', scope, realSandbox)).toBe(21);
    expect(await resolveTemplate(' {{ nodes.gen1.output.items }} ', scope, realSandbox)).toEqual([{ name: 'first' }, { name: 'second' }]);
    expect(await resolveTemplate('n={{ trigger.body.n }}', scope, realSandbox)).toBe('n=21');
    expect(await resolveTemplate('{{ item.name }} scored {{ item.score * 10 }}%', scope, realSandbox)).toBe('Ada scored 90%');
    expect(await resolveTemplate('obj: {{ item }}; none: [{{ trigger.body.missing }}]', scope, realSandbox)).toBe(
      'obj: {"name":"Ada","score":9}; none: []',
    );
    expect(await resolveTemplate('no template', scope, realSandbox)).toBe('no template');
    expect(await resolveTemplate('unclosed {{ here', scope, realSandbox)).toBe('unclosed {{ here');
    expect(await resolveTemplate(42, scope, realSandbox)).toBe(42);
  });

  it('evaluateTemplateOrExpression takes both forms', async () => {
    expect(await evaluateTemplateOrExpression('item.score + 1', scope, realSandbox)).toBe(10);
    expect(await evaluateTemplateOrExpression('{{ item.score + 1 }}', scope, realSandbox)).toBe(10);
    expect(await evaluateTemplateOrExpression('score: {{ item.score }}', scope, realSandbox)).toBe('score: 9');
  });
});

describe('resolveConfig', () => {
  const opts = { sandbox: realSandbox, nodeName: 'Generate post', nodeId: 'gen1' };

  it('resolves deeply and leaves raw fields alone', async () => {
    const config = {
      prompt: 'Write about {{ trigger.body.title }}',
      count: '{{ nodes.gen1.output.count }}',
      headers: { Authorization: 'Bearer {{ run.id }}', plain: 'x' },
      list: ['{{ item.name }}', 7, { deep: '{{ itemIndex }}' }, null, true],
      code: 'return {{ not resolved }}',
    };
    const out = await resolveConfig(config, scope, { ...opts, rawFields: ['code'] });
    expect(out).toEqual({
      prompt: 'Write about Launch day',
      count: 2,
      headers: { Authorization: 'Bearer run_1', plain: 'x' },
      list: ['Ada', 7, { deep: 3 }, null, true],
      code: 'return {{ not resolved }}',
    });
    expect(config.prompt).toBe('Write about {{ trigger.body.title }}'); // input not mutated
  });

  it('names the node, the field and the expression', async () => {
    const err = await userError(resolveConfig({ prompt: '{{ nodes.x.output }}' }, scope, opts));
    expect(err.message).toBe('Node "Generate post", field "prompt": expression {{ nodes.x.output }} failed: node "x" has no output');
    expect(err.field).toBe('config.prompt');
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect((err as UserError & { nodeId: string }).nodeId).toBe('gen1');

    const nested = await userError(resolveConfig({ headers: { 'X-Id': 'a {{ item.nope.deeper }}' }, list: [] }, scope, opts));
    expect(nested.message).toBe(
      'Node "Generate post", field "headers["X-Id"]": expression {{ item.nope.deeper }} failed: item.nope is undefined (reading "deeper")',
    );
    expect(nested.field).toBe('config.headers["X-Id"]');

    const inList = await userError(resolveConfig({ posts: [{ text: 'ok' }, { text: '{{ foo( }}' }] }, scope, opts));
    expect(inList.field).toBe('config.posts[1].text');
    expect(inList.message).toMatch(/^Node "Generate post", field "posts\[1\]\.text": expression \{\{ foo\( \}\} failed: syntax error/);
  });

  it('keeps a "__proto__" key as data', async () => {
    const config = JSON.parse('{"obj": {"__proto__": {"polluted": "{{ item.name }}"}}}') as Record<string, unknown>;
    const out = await resolveConfig(config, scope, opts);
    const obj = out.obj as Record<string, unknown>;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('fuzzing expressions (fast-check)', () => {
  const pieces = [
    'trigger', 'nodes', 'item', 'run', 'input', 'itemIndex', '.', '[', ']', '(', ')', '{', '}', '"', "'", '`', '?.', '??',
    '+', '-', '*', '/', '%', '=>', ',', ';', ':', '?', '!', '=', '0', '1', '1e308', 'x', 'body', 'title', 'output', 'gen1',
    '"Generate post"', 'constructor', '__proto__', 'prototype', 'process', 'require', 'this', 'new', 'function', 'return',
    'while(true)', 'async', 'await', 'import', 'globalThis', 'JSON', 'length', 'map', ' ', '\n', '\\', '${', '/*', '*/', '//',
  ];
  const expr = fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((a) => a.join(''));
  const seeds = [
    'trigger.body.title',
    'nodes["Generate post"].output.text',
    'nodes.gen1.output.items[0].name',
    'item.score * 2',
    'trigger.body.tags.map(t => t.toUpperCase())',
    'this.constructor.constructor("return process")()',
  ];
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(40), fc.string({ maxLength: 4 }))
    .map(([s, at, del, ins]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + ins + s.slice(i + del % 4);
    });

  function isJson(v: unknown): boolean {
    return v === null || ['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && JSON.stringify(v) !== undefined);
  }

  it('random and mutated expressions give a value or a UserError, never a crash', async () => {
    let values = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(expr, mutated, fc.string({ maxLength: 20 })), async (e) => {
        try {
          const v = await evaluateExpression(e, scope, realSandbox);
          expect(isJson(v)).toBe(true);
          values++;
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect((err as UserError).message).toMatch(/^expression \{\{ .* \}\} failed: /s);
          errors++;
        }
      }),
      { numRuns: 1500 },
    );
    expect(values).toBeGreaterThan(10);
    expect(errors).toBeGreaterThan(10);
    // The sandbox still serves.
    expect(await evaluateExpression('item.score + 1', scope, realSandbox)).toBe(10);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);

  it('random templates resolve or fail with a UserError naming node and field', async () => {
    const template = fc.array(fc.oneof(fc.constantFrom('{{', '}}', 'text ', ' '), expr, mutated), { maxLength: 6 }).map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(template, async (t) => {
        try {
          await resolveConfig({ field: t }, scope, { sandbox: realSandbox, nodeName: 'N', nodeId: 'n1' });
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect((err as UserError).message.startsWith('Node "N", field "field": expression {{ ')).toBe(true);
          expect((err as UserError).field).toBe('config.field');
        }
      }),
      { numRuns: 500 },
    );
  }, 120_000);
});
