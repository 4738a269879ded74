/**
 * Transform: reshapes its input with a list of operations applied in order: set (a value or an
 * expression), rename, remove, pick, and map (an expression per element of an array). Expressions
 * see the original `input` and the data so far as `data`; in `map`, `item` is the element and
 * `index` its position.
 */
import { z } from 'zod';
import { defineNodeType, output, type Json, type NodeContext } from '@gridflow/runtime/node-type';
import { UserError } from '@gridflow/runtime/errors';
import {
  cloneJson,
  deletePath,
  getPath,
  parsePath,
  PathSyntaxError,
  setPath,
  toJson,
} from './path.js';
import { isTemplate } from './reference.js';

export const MAX_MAP_ITEMS = 10_000;

const pathField = (description: string) =>
  z.string().min(1, 'path is required').max(500).describe(description);

export const transformOperationSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('set'),
    path: pathField('Where to write, e.g. post.title or tags[0]'),
    value: z
      .json()
      .describe('A value, or a {{ }} expression using input and data (the data so far)')
      .meta({ 'x-gridflow-widget': 'expression' }),
  }),
  z.object({
    op: z.literal('rename'),
    from: pathField('Field to rename'),
    to: pathField('New path'),
  }),
  z.object({ op: z.literal('remove'), path: pathField('Field to remove') }),
  z.object({
    op: z.literal('pick'),
    paths: z
      .array(z.string().min(1).max(500))
      .min(1, 'pick at least one field')
      .max(200)
      .describe('Keep only these fields'),
  }),
  z.object({
    op: z.literal('map'),
    path: pathField(
      'The array to map, e.g. posts (empty path: the whole data when it is an array)',
    ).or(z.literal('')),
    expression: z
      .string()
      .min(1, 'expression is required')
      .max(10_000)
      .describe(
        'Evaluated per element with item (the element) and index, e.g. {{ { text: item.caption, n: index + 1 } }}',
      )
      .meta({ 'x-gridflow-widget': 'expression' }),
    to: z
      .string()
      .max(500)
      .optional()
      .describe('Where to write the result (default: replace the array)'),
  }),
]);

export const transformConfigSchema = z
  .object({
    operations: z.array(transformOperationSchema).max(100).default([]),
  })
  .superRefine((cfg, ctx) => {
    cfg.operations.forEach((op, i) => {
      const paths: Array<[string, Array<string | number>]> = [];
      switch (op.op) {
        case 'set':
        case 'remove':
          paths.push([op.path, ['path']]);
          break;
        case 'rename':
          paths.push([op.from, ['from']], [op.to, ['to']]);
          break;
        case 'pick':
          op.paths.forEach((p, j) => paths.push([p, ['paths', j]]));
          break;
        case 'map':
          if (op.path) paths.push([op.path, ['path']]);
          if (op.to) paths.push([op.to, ['to']]);
          break;
      }
      for (const [p, at] of paths) {
        try {
          parsePath(p);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            path: ['operations', i, ...at],
            message: (err as Error).message,
          });
        }
      }
    });
  });

export type TransformConfig = z.infer<typeof transformConfigSchema>;
type Operation = TransformConfig['operations'][number];

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

/** Resolves `{{ }}` in a set value, also inside objects and arrays (`{ "text": "{{ input.title }}" }`). */
async function evaluateValue(
  ctx: NodeContext<TransformConfig>,
  value: Json,
  extra: Record<string, Json>,
): Promise<Json> {
  if (typeof value === 'string') return isTemplate(value) ? ctx.evaluate(value, extra) : value;
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const v of value) out.push(await evaluateValue(ctx, v, extra));
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: await evaluateValue(ctx, v, extra),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

async function apply(
  ctx: NodeContext<TransformConfig>,
  data: Container,
  op: Operation,
  i: number,
): Promise<Container> {
  const field = `config.operations[${i}]`;
  switch (op.op) {
    case 'set': {
      const value = await evaluateValue(ctx, op.value, { data: data as Json });
      setPath(data, op.path, value);
      return data;
    }
    case 'rename': {
      const value = getPath(data, op.from);
      if (value === undefined) {
        ctx.log.debug('rename: nothing at path', { from: op.from });
        return data;
      }
      deletePath(data, op.from);
      setPath(data, op.to, value);
      return data;
    }
    case 'remove':
      deletePath(data, op.path);
      return data;
    case 'pick': {
      const picked: Record<string, unknown> = {};
      for (const p of op.paths) {
        const value = getPath(data, p);
        if (value !== undefined) setPath(picked, p, value);
      }
      return picked;
    }
    case 'map': {
      const list = op.path ? getPath(data, op.path) : data;
      if (!Array.isArray(list)) {
        throw new UserError(
          `Transform: "${op.path || '(the data)'}" is ${list === undefined ? 'missing' : `not a list (${typeof list})`}; map needs an array`,
          `${field}.path`,
        );
      }
      if (list.length > MAX_MAP_ITEMS) {
        throw new UserError(
          `Transform: map handles at most ${MAX_MAP_ITEMS} elements, got ${list.length}`,
          `${field}.path`,
        );
      }
      const mapped: Json[] = [];
      for (let index = 0; index < list.length; index++) {
        if (ctx.signal.aborted) break;
        mapped.push(await ctx.evaluate(op.expression, { item: toJson(list[index]), index }));
      }
      const target = op.to ?? op.path;
      if (!target) return mapped;
      setPath(data, target, mapped);
      return data;
    }
    default: {
      const never: never = op;
      throw new UserError(`unknown operation ${JSON.stringify(never)}`, `${field}.op`);
    }
  }
}

export const transformNode = defineNodeType({
  type: 'transform',
  version: 1,
  label: 'Transform',
  description:
    'Reshapes data: set, rename, remove and pick fields, or map a list with an expression.',
  icon: '🛠️',
  category: 'data',
  sideEffectFree: true,
  inputs: [{ name: 'in', label: 'in' }],
  outputs: [{ name: 'out', label: 'out' }],
  configSchema: transformConfigSchema,
  // Operations run in order and their expressions see the data so far, so the runner evaluates them.
  rawFields: ['operations'],
  summary: (config) =>
    config.operations.length === 0
      ? 'Pass through'
      : config.operations.map((o) => o.op).join(' → '),
  async run(ctx) {
    const input = ctx.input;
    if (input !== null && !isContainer(input)) {
      throw new UserError(
        `Transform needs an object or a list as input, got ${typeof input}`,
        'input',
      );
    }
    let data: Container = input === null ? {} : (cloneJson(input) as Container);
    for (const [i, op] of ctx.config.operations.entries()) {
      try {
        data = await apply(ctx, data, op, i);
      } catch (err) {
        if (err instanceof PathSyntaxError)
          throw new UserError(`Transform: ${err.message}`, `config.operations[${i}]`);
        if (err instanceof UserError && !(err.field ?? '').startsWith('config.operations')) {
          throw new UserError(
            `Transform, operation ${i + 1} (${op.op}): ${err.message}`,
            `config.operations[${i}]`,
            err.code,
          );
        }
        throw err;
      }
    }
    return output(toJson(data));
  },
});
