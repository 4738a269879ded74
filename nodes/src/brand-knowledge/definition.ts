/**
 * brand-knowledge: teaches a brand profile its voice and looks things up in it.
 * - `store`: each entry's text is embedded through `ctx.embed` and stored as a BrandKnowledgeEntry
 *   (embedder name and dimension kept, see `embedding/knowledge.ts`). Texts already stored for the
 *   brand with the same embedder (same sha256 content hash) are skipped, so a retried or
 *   re-delivered step, or the same samples sent twice, never duplicate entries.
 * - `search`: the `k` entries of the brand nearest to `query` (cosine similarity, same embedder only).
 * Always scoped to the run's workspace; the brand profile must belong to it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  defineNodeType,
  output,
  UserError,
  type Embedding,
  type Json,
  type NodeContext,
} from '@gridflow/runtime';
import { nearestKnowledge, storeKnowledgeEntry } from '../embedding/knowledge.js';
import type { Embedder } from '../embedding/embedder.js';

export const BRAND_KNOWLEDGE_MAX_ENTRIES = 500;
export const BRAND_KNOWLEDGE_MAX_CHARS = 20_000;
export const BRAND_KNOWLEDGE_MAX_K = 20;
/** Embedding calls in flight at once (OpenAI round trips dominate a large batch). */
const EMBED_CONCURRENCY = 4;
const MAX_TAGS = 20;
const MAX_TAG_CHARS = 40;
const MAX_TITLE_CHARS = 200;
const MAX_SOURCE_CHARS = 80;

export const brandKnowledgeConfigSchema = z.object({
  brandProfileId: z.string().min(1, 'Pick a brand profile'),
  mode: z.enum(['store', 'search']).default('store'),
  /**
   * Store: what to store. An expression resolving to a text, a list of texts, or a list of
   * `{ text, title?, source?, tags? }` objects (e.g. `{{ trigger.body.posts }}`).
   */
  entries: z
    .union([z.string(), z.array(z.json()), z.record(z.string(), z.json())])
    .default('')
    .describe(
      'A text, a list of texts, or a list of { text, title?, source?, tags? }, e.g. {{ trigger.body.posts }}',
    )
    .meta({ 'x-gridflow-widget': 'expression', 'x-gridflow-showWhen': { mode: 'store' } }),
  /** Store: where entries come from when an entry names no `source` (kept as the entry's category). */
  source: z
    .string()
    .max(MAX_SOURCE_CHARS)
    .default('')
    .meta({ 'x-gridflow-showWhen': { mode: 'store' } }),
  /** Store: tags added to every entry. */
  tags: z
    .array(z.string().max(MAX_TAG_CHARS))
    .max(MAX_TAGS)
    .default([])
    .meta({ 'x-gridflow-showWhen': { mode: 'store' } }),
  /** Search: the text to look up. */
  query: z
    .string()
    .default('')
    .meta({ 'x-gridflow-widget': 'expression', 'x-gridflow-showWhen': { mode: 'search' } }),
  /** Search: how many entries to return. */
  k: z
    .number()
    .int()
    .min(1)
    .max(BRAND_KNOWLEDGE_MAX_K)
    .default(5)
    .meta({ 'x-gridflow-showWhen': { mode: 'search' } }),
});

export type BrandKnowledgeConfig = z.infer<typeof brandKnowledgeConfigSchema>;
type Ctx = NodeContext<BrandKnowledgeConfig>;

/** One entry to store, normalised from the config. */
export interface KnowledgeInput {
  text: string;
  title?: string;
  source?: string;
  tags: string[];
  /** Config path of the entry's text, for errors (`config.entries[3].text`). */
  field: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function cleanTags(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string'))
    throw new UserError(
      `Brand knowledge: "${field.replace(/^config\./, '')}" must be a list of texts.`,
      field,
    );
  return (value as string[]).map((t) => t.trim().slice(0, MAX_TAG_CHARS)).filter(Boolean);
}

function optionalText(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new UserError(
      `Brand knowledge: "${field.replace(/^config\./, '')}" must be text, got ${describeValue(value)}.`,
      field,
    );
  const t = value.trim();
  return t ? t.slice(0, max) : undefined;
}

/**
 * The entries of the config as a list, checked: at most 500, each text at most 20,000 characters
 * (a UserError names the offending field). Blank texts are kept (and later skipped).
 */
export function normalizeEntries(value: unknown): KnowledgeInput[] {
  if (value === '' || value === null || value === undefined)
    throw new UserError(
      `Brand knowledge: "entries" resolved to nothing. Point it at the texts to store, e.g. {{ trigger.body.posts }}.`,
      'config.entries',
    );
  const single = !Array.isArray(value);
  const list: unknown[] = single ? [value] : (value as unknown[]);
  if (list.length > BRAND_KNOWLEDGE_MAX_ENTRIES)
    throw new UserError(
      `Brand knowledge: ${list.length} entries is more than the limit of ${BRAND_KNOWLEDGE_MAX_ENTRIES} per run; send them in smaller batches.`,
      'config.entries',
    );
  return list.map((item, i) => {
    const at = single ? 'entries' : `entries[${i}]`;
    let text: unknown;
    let field: string;
    let rest: Record<string, unknown> = {};
    if (typeof item === 'string') {
      text = item;
      field = `config.${at}`;
    } else if (item && typeof item === 'object' && !Array.isArray(item)) {
      rest = item as Record<string, unknown>;
      text = rest.text;
      field = `config.${at}.text`;
      if (typeof text !== 'string')
        throw new UserError(
          `Brand knowledge: ${at} has no "text" (got ${describeValue(text)}); each entry is a text or { text, title?, source?, tags? }.`,
          field,
        );
    } else {
      throw new UserError(
        `Brand knowledge: ${at} is ${describeValue(item)}; each entry must be a text or { text, title?, source?, tags? }.`,
        `config.${at}`,
      );
    }
    const trimmed = (text as string).trim();
    if (trimmed.length > BRAND_KNOWLEDGE_MAX_CHARS)
      throw new UserError(
        `Brand knowledge: ${field.replace(/^config\./, '')} is ${trimmed.length.toLocaleString('en-US')} characters; the limit is ${BRAND_KNOWLEDGE_MAX_CHARS.toLocaleString('en-US')} per entry. Split it into smaller entries.`,
        field,
      );
    const title = optionalText(rest.title, `config.${at}.title`, MAX_TITLE_CHARS);
    const source = optionalText(rest.source, `config.${at}.source`, MAX_SOURCE_CHARS);
    return {
      text: trimmed,
      ...(title ? { title } : {}),
      ...(source ? { source } : {}),
      tags: cleanTags(rest.tags, `config.${at}.tags`),
      field,
    };
  });
}

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping the order of results. */
async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function requireBrand(ctx: Ctx): Promise<string> {
  const id = ctx.config.brandProfileId;
  const brand = await ctx.db.brandProfile.findFirst({
    where: { id, workspaceId: ctx.execution.workspaceId },
    select: { id: true },
  });
  if (!brand)
    throw new UserError(
      `Brand knowledge: brand profile "${id}" (brandProfileId) was not found in this workspace. Pick another brand profile.`,
      'config.brandProfileId',
      'BRAND_PROFILE_NOT_FOUND',
    );
  return brand.id;
}

function checkAborted(ctx: Ctx): void {
  if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
}

async function store(ctx: Ctx, brandProfileId: string) {
  const workspaceId = ctx.execution.workspaceId;
  const inputs = normalizeEntries(ctx.config.entries);
  const baseTags = cleanTags(ctx.config.tags, 'config.tags');
  const baseSource = ctx.config.source.trim() || undefined;

  // Blank texts and repeats inside this batch are skipped before anything is embedded.
  const seen = new Set<string>();
  const candidates: Array<KnowledgeInput & { hash: string }> = [];
  let skipped = 0;
  for (const e of inputs) {
    const hash = sha256(e.text);
    if (!e.text || seen.has(hash)) {
      skipped++;
      continue;
    }
    seen.add(hash);
    candidates.push({ ...e, hash });
  }
  if (!candidates.length)
    return { stored: 0, skipped, entryIds: [], existingIds: [], embedder: null, dimension: null };

  // The embedder is only known from a vector: embed the first text, then look for texts this
  // brand already has from the same embedder (a re-delivered step finds all of its own).
  const embeddings = new Map<string, Promise<Embedding>>();
  const embed = (text: string) => {
    let p = embeddings.get(text);
    if (!p) embeddings.set(text, (p = ctx.embed(text)));
    return p;
  };
  const probe = await embed(candidates[0]!.text);
  const existing = await ctx.db.brandKnowledgeEntry.findMany({
    where: {
      workspaceId,
      brandProfileId,
      embedder: probe.embedder,
      dimension: probe.dimension,
      contentHash: { in: candidates.map((c) => c.hash) },
    },
    select: { id: true, contentHash: true },
    orderBy: { createdAt: 'asc' },
  });
  const existingByHash = new Map<string, string>();
  for (const row of existing)
    if (row.contentHash && !existingByHash.has(row.contentHash))
      existingByHash.set(row.contentHash, row.id);
  const fresh = candidates.filter((c) => !existingByHash.has(c.hash));
  skipped += candidates.length - fresh.length;

  // Vectors first (a failing embedding call stores nothing), a few calls at a time.
  await mapLimit(fresh, EMBED_CONCURRENCY, async (c) => {
    checkAborted(ctx);
    const e = await embed(c.text);
    if (e.embedder !== probe.embedder || e.dimension !== probe.dimension)
      throw new Error(
        `embedder changed during the step (${probe.embedder}/${probe.dimension} → ${e.embedder}/${e.dimension})`,
      );
  });
  const embedder: Embedder = {
    name: probe.embedder,
    dimension: probe.dimension,
    embed: (text) => embed(text),
  };
  const entryIds: string[] = [];
  for (const c of fresh) {
    checkAborted(ctx);
    const tags = [...new Set([...baseTags, ...c.tags])].slice(0, MAX_TAGS);
    const source = c.source ?? baseSource;
    const stored = await storeKnowledgeEntry(
      ctx.db,
      workspaceId,
      brandProfileId,
      c.text,
      embedder,
      {
        ...(c.title ? { title: c.title } : {}),
        ...(source ? { category: source } : {}),
        tags,
      },
    );
    entryIds.push(stored.id);
  }
  ctx.log.info('brand knowledge stored', {
    brandProfileId,
    stored: entryIds.length,
    skipped,
    embedder: probe.embedder,
  });
  return {
    stored: entryIds.length,
    skipped,
    entryIds,
    existingIds: [...new Set(existingByHash.values())],
    embedder: probe.embedder,
    dimension: probe.dimension,
  };
}

async function search(ctx: Ctx, brandProfileId: string) {
  const query = ctx.config.query.trim();
  if (!query)
    throw new UserError(
      'Brand knowledge: "query" is empty. Give the text to look up, e.g. {{ input.text }}.',
      'config.query',
    );
  if (query.length > BRAND_KNOWLEDGE_MAX_CHARS)
    throw new UserError(
      `Brand knowledge: "query" is ${query.length.toLocaleString('en-US')} characters; the limit is ${BRAND_KNOWLEDGE_MAX_CHARS.toLocaleString('en-US')}.`,
      'config.query',
    );
  const embedding = await ctx.embed(query);
  const matches = await nearestKnowledge(
    ctx.db,
    ctx.execution.workspaceId,
    brandProfileId,
    embedding,
    ctx.config.k,
  );
  return {
    matches: matches.map((m) => ({
      id: m.id,
      text: m.content,
      similarity: Math.round(m.similarity * 1e6) / 1e6,
    })),
    embedder: embedding.embedder,
    dimension: embedding.dimension,
  };
}

export const brandKnowledgeNode = defineNodeType({
  type: 'brand-knowledge',
  version: 1,
  label: 'Brand knowledge',
  description:
    "Stores texts (sample posts, guidelines) as a brand's knowledge, embedded on write and never duplicated, or finds the entries nearest to a text.",
  icon: '📚',
  category: 'content',
  inputs: [{ name: 'main', label: 'in' }],
  outputs: [{ name: 'main', label: 'out' }],
  configSchema: brandKnowledgeConfigSchema,
  summary: (c) =>
    c.mode === 'search'
      ? `search · top ${c.k}`
      : `store${typeof c.entries === 'string' && c.entries ? ` · ${c.entries}` : ''}`,
  async run(ctx) {
    const brandProfileId = await requireBrand(ctx);
    const result =
      ctx.config.mode === 'search'
        ? await search(ctx, brandProfileId)
        : await store(ctx, brandProfileId);
    return output(result as unknown as Json);
  },
});
