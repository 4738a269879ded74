/**
 * For-each: runs the nodes connected to its `item` port once per element of a list (up to
 * `concurrency` at a time), then fires `done` with the per-item results in order. The runner only
 * resolves and checks the list; the runtime's planner does the iteration (see
 * `@gridflow/runtime/for-each`).
 */
import { z } from 'zod';
import { defineNodeType, output, type Json } from '@gridflow/runtime/node-type';
import { UserError } from '@gridflow/runtime/errors';
import {
  FOR_EACH_DEFAULT_CONCURRENCY,
  FOR_EACH_DONE_PORT,
  FOR_EACH_ITEM_PORT,
  FOR_EACH_MAX_CONCURRENCY,
  FOR_EACH_TYPE,
} from '@gridflow/runtime/for-each';
import { resolveReference } from '../transform/reference.js';

export const FOR_EACH_MAX_ITEMS = 10_000;

export const forEachConfigSchema = z.object({
  items: z
    .union([z.string().min(1, 'items is required'), z.array(z.json()).max(FOR_EACH_MAX_ITEMS)])
    .describe(
      'An expression resolving to a list, e.g. {{ input.posts }} or {{ trigger.body.platforms }}, or a fixed list',
    )
    .meta({ 'x-gridflow-widget': 'expression' }),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(FOR_EACH_MAX_CONCURRENCY)
    .default(FOR_EACH_DEFAULT_CONCURRENCY)
    .describe('How many items run at the same time'),
});

export type ForEachConfig = z.infer<typeof forEachConfigSchema>;

export const forEachNode = defineNodeType({
  type: FOR_EACH_TYPE,
  version: 1,
  label: 'For each',
  description:
    'Runs the nodes after "item" once per element of a list, then continues from "done" with all results.',
  icon: '🔁',
  category: 'logic',
  inputs: [{ name: 'in', label: 'in' }],
  outputs: [
    { name: FOR_EACH_ITEM_PORT, label: 'item' },
    { name: FOR_EACH_DONE_PORT, label: 'done' },
  ],
  configSchema: forEachConfigSchema,
  // Resolved by the runner (a `{{ }}` template, a bare path or expression), so a list that resolves to
  // text is reported as such instead of being taken for an expression.
  rawFields: ['items'],
  summary: (config) =>
    `${Array.isArray(config.items) ? `${config.items.length} items` : config.items}, ${config.concurrency} at a time`,
  async run(ctx) {
    let items: unknown = ctx.config.items;
    if (typeof items === 'string') {
      const text = items.trim();
      try {
        items = await resolveReference(text, ctx);
      } catch (err) {
        if (err instanceof UserError)
          throw new UserError(`For each: ${err.message}`, 'config.items', err.code);
        throw err;
      }
    }
    if (!Array.isArray(items)) {
      const got =
        items === null || items === undefined
          ? 'nothing'
          : typeof items === 'string'
            ? 'text'
            : typeof items;
      throw new UserError(
        `For each: "items" must resolve to a list, but it resolved to ${got}. Point it at an array, e.g. {{ input.posts }}.`,
        'config.items',
      );
    }
    if (items.length > FOR_EACH_MAX_ITEMS) {
      throw new UserError(
        `For each: ${items.length} items is more than the limit of ${FOR_EACH_MAX_ITEMS}; split the list first.`,
        'config.items',
      );
    }
    return output({ items: items as Json[] });
  },
});
