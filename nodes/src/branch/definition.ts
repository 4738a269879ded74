/**
 * Branch: routes its input to named output ports by conditions (AND/OR groups) or a JS expression.
 * Each route is a port; the first matching route fires (or every matching one in `all` mode), and the
 * `default` port fires when none matches. The input passes through unchanged.
 */
import { z } from 'zod';
import {
  defineNodeType,
  output,
  type Json,
  type NodeContext,
  type PortDefinition,
} from '@gridflow/runtime/node-type';
import { UserError } from '@gridflow/runtime/errors';
import {
  combine,
  compare,
  InvalidPatternError,
  OPERATORS,
  UNARY_OPERATORS,
  type Operator,
} from './conditions.js';
import { isTemplate, resolveReference } from '../transform/reference.js';

export const DEFAULT_PORT = 'default';
const RESERVED_PORTS = new Set([DEFAULT_PORT, 'error']);

const portNameSchema = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_-]{0,39}$/,
    'port names start with a letter and use letters, digits, "_" or "-" (max 40)',
  );

const combinatorSchema = z
  .enum(['and', 'or'])
  .default('and')
  .describe('How the conditions combine');

export const conditionSchema = z.object({
  field: z
    .string()
    .min(1, 'field is required')
    .describe('A path such as input.score, or an expression such as {{ nodes.guard.output.score }}')
    .meta({ 'x-gridflow-widget': 'expression' }),
  operator: z.enum(OPERATORS).default('eq'),
  value: z
    .union([z.string(), z.number(), z.boolean(), z.null()])
    .optional()
    .describe(
      'Compared with the field; may be a {{ }} expression. Ignored by exists/notExists/isEmpty/isNotEmpty',
    ),
  caseSensitive: z.boolean().default(true),
});

export const conditionGroupSchema = z.object({
  combinator: combinatorSchema,
  conditions: z.array(conditionSchema).min(1, 'a group needs at least one condition'),
});

export const routeSchema = z.object({
  port: portNameSchema.describe('Output port name used by edges, e.g. "high"'),
  label: z
    .string()
    .max(60)
    .optional()
    .describe('Label shown on the canvas (defaults to the port name)'),
  combinator: combinatorSchema,
  conditions: z.array(conditionSchema).default([]),
  /** Nested groups, combined with the conditions above by `combinator`: (a AND (b OR c)). */
  groups: z.array(conditionGroupSchema).default([]),
  /** A JS expression instead of conditions (truthy = match), evaluated through the sandbox. */
  expression: z
    .string()
    .optional()
    .describe(
      'JS expression, e.g. input.score >= 80 && input.platform === "linkedin"; used instead of conditions',
    )
    .meta({ 'x-gridflow-widget': 'expression' }),
});

export const branchConfigSchema = z
  .object({
    routes: z
      .array(routeSchema)
      .min(1, 'add at least one route')
      .max(20, 'at most 20 routes')
      .meta({
        'x-gridflow-ports': { itemName: 'port', itemLabel: 'label', append: [DEFAULT_PORT] },
      }),
    matchMode: z
      .enum(['first', 'all'])
      .default('first')
      .describe('first: only the first matching route fires; all: every matching route fires'),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.routes.forEach((route, i) => {
      if (RESERVED_PORTS.has(route.port)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'port'],
          message: `"${route.port}" is reserved; choose another port name`,
        });
      }
      if (seen.has(route.port)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'port'],
          message: `port "${route.port}" is used by two routes`,
        });
      }
      seen.add(route.port);
      const hasExpression = (route.expression ?? '').trim() !== '';
      if (!hasExpression && route.conditions.length === 0 && route.groups.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i],
          message: 'a route needs conditions or an expression',
        });
      }
      route.conditions.forEach((c, j) => {
        if (!UNARY_OPERATORS.has(c.operator) && c.value === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'conditions', j, 'value'],
            message: `operator "${c.operator}" needs a value`,
          });
        }
      });
    });
  });

export type BranchConfig = z.infer<typeof branchConfigSchema>;
type Condition = z.infer<typeof conditionSchema>;

/** Ports of a branch node for a (possibly partial) config: one per route, then `default`. */
export function branchOutputs(config: Partial<BranchConfig> | undefined): PortDefinition[] {
  const ports: PortDefinition[] = [];
  const seen = new Set<string>();
  for (const route of Array.isArray(config?.routes) ? config.routes : []) {
    const name = typeof route?.port === 'string' ? route.port : '';
    if (!name || seen.has(name) || RESERVED_PORTS.has(name)) continue;
    seen.add(name);
    ports.push({
      name,
      label: typeof route.label === 'string' && route.label ? route.label : name,
    });
  }
  ports.push({ name: DEFAULT_PORT, label: 'default' });
  return ports;
}

/**
 * An expression failure (a UserError from the runtime) is the user's to fix: restate it with the route
 * and field. Errors that tell the runtime what to do (retry, cancel) and infrastructure errors pass through.
 */
function explain(err: unknown, where: string, field: string): unknown {
  if (err instanceof UserError)
    return new UserError(`Branch ${where}: ${err.message}`, field, err.code);
  return err;
}

function truthy(v: unknown): boolean {
  return !(v === false || v === null || v === undefined || v === 0 || v === '' || v === 'false');
}

async function evaluateCondition(
  ctx: NodeContext<BranchConfig>,
  c: Condition,
  fieldPath: string,
  routeName: string,
): Promise<boolean> {
  let left: unknown;
  let right: unknown = c.value;
  try {
    left = await resolveReference(c.field, ctx);
    if (typeof right === 'string' && isTemplate(right)) right = await ctx.evaluate(right);
  } catch (err) {
    throw explain(err, `route "${routeName}", condition on "${c.field}"`, `config.${fieldPath}`);
  }
  try {
    return compare(left, c.operator as Operator, right, { caseSensitive: c.caseSensitive });
  } catch (err) {
    if (err instanceof InvalidPatternError) {
      throw new UserError(
        `Branch route "${routeName}": ${err.message}`,
        `config.${fieldPath}.value`,
      );
    }
    throw err;
  }
}

async function routeMatches(
  ctx: NodeContext<BranchConfig>,
  route: BranchConfig['routes'][number],
  i: number,
): Promise<boolean> {
  const name = route.label || route.port;
  if ((route.expression ?? '').trim() !== '') {
    try {
      return truthy(await ctx.evaluate(route.expression as string));
    } catch (err) {
      throw explain(err, `route "${name}"`, `config.routes[${i}].expression`);
    }
  }
  const results: boolean[] = [];
  // Sequential on purpose: conditions may call the sandbox, and order makes errors deterministic.
  for (const [j, c] of route.conditions.entries()) {
    results.push(await evaluateCondition(ctx, c, `routes[${i}].conditions[${j}]`, name));
  }
  for (const [g, group] of route.groups.entries()) {
    const inner: boolean[] = [];
    for (const [j, c] of group.conditions.entries()) {
      inner.push(
        await evaluateCondition(ctx, c, `routes[${i}].groups[${g}].conditions[${j}]`, name),
      );
    }
    results.push(combine(group.combinator, inner));
  }
  return combine(route.combinator, results);
}

export const branchNode = defineNodeType({
  type: 'branch',
  version: 1,
  label: 'Branch',
  description:
    'Routes items to named outputs by conditions or an expression; unmatched items go to "default".',
  icon: '🔀',
  category: 'logic',
  sideEffectFree: true,
  inputs: [{ name: 'in', label: 'in' }],
  outputs: [{ name: DEFAULT_PORT, label: 'default' }],
  outputsFor: (config) => branchOutputs(config),
  configSchema: branchConfigSchema,
  // Conditions are evaluated by the runner, per route and only as far as needed.
  rawFields: ['routes'],
  summary: (config) =>
    `${config.routes.length} route${config.routes.length === 1 ? '' : 's'}${config.matchMode === 'all' ? ', all matches' : ''}`,
  async run(ctx) {
    const fired: string[] = [];
    for (const [i, route] of ctx.config.routes.entries()) {
      if (await routeMatches(ctx, route, i)) {
        fired.push(route.port);
        if (ctx.config.matchMode === 'first') break;
      }
    }
    if (fired.length === 0) fired.push(DEFAULT_PORT);
    ctx.log.debug('branch routed', { ports: fired });
    return output(ctx.input as Json, fired);
  },
});
