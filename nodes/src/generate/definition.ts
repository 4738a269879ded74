/**
 * generate: writes post text (and optionally an image) through the `openai` client, with the
 * brand's voice in the system prompt. Without an OpenAI key or base URL it uses the offline
 * template writer and says so in its output. Records ApiUsage and one GeneratedContent row per
 * step (a retried or re-delivered step returns the stored content instead of generating again).
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { z } from 'zod';
import { defineNodeType, output, UserError, type Json, type NodeContext } from '@gridflow/runtime';
import {
  PLATFORM_RULES,
  extractHashtags,
  platformLength,
  type ContentPlatform,
} from '../brand-guard/platform-limits.js';
import { mapOpenAIError } from '../embedding/openai-errors.js';
import { writeOffline } from './offline-writer.js';
import { imageCost, textCost } from './pricing.js';

export const CONTENT_PLATFORMS = ['linkedin', 'x', 'facebook', 'instagram', 'generic'] as const;

export const generateConfigSchema = z.object({
  model: z
    .string()
    .min(1)
    .default('gpt-4o-mini')
    .describe('Chat model (OpenAI or your OpenAI-compatible server)'),
  systemPrompt: z
    .string()
    .default(
      'You are an experienced social media copywriter. Write ready-to-publish posts, no preamble.',
    )
    .describe('System prompt')
    .meta({ 'x-gridflow-widget': 'textarea' }),
  prompt: z
    .string()
    .min(1, 'Write the brief: what the post is about')
    .describe('Brief; {{ }} fields are filled in at run time')
    .meta({ 'x-gridflow-widget': 'textarea' }),
  brandProfileId: z
    .string()
    .min(1)
    .optional()
    .describe('Brand profile whose voice, tone and terms are applied'),
  platform: z.enum(CONTENT_PLATFORMS).default('linkedin'),
  variants: z.number().int().min(1).max(5).default(1),
  temperature: z.number().min(0).max(2).default(0.7),
  maxTokens: z.number().int().min(16).max(8000).default(800),
  image: z
    .object({
      enabled: z.boolean().default(false),
      model: z.string().min(1).default('dall-e-3'),
      size: z.enum(['1024x1024', '1792x1024', '1024x1792']).default('1024x1024'),
      /** Defaults to the brief. */
      prompt: z.string().optional(),
    })
    .default({ enabled: false, model: 'dall-e-3', size: '1024x1024' }),
});

export type GenerateConfig = z.infer<typeof generateConfigSchema>;

interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  priced: boolean;
}

/** A UUID-shaped id derived from a string: the same step always maps to the same row. */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

interface BrandVoice {
  id: string;
  name: string;
  voiceTone: string;
  toneKeywords: string[];
  bannedTerms: string[];
  requiredTerms: string[];
}

export function buildSystemPrompt(
  base: string,
  platform: ContentPlatform,
  brand?: BrandVoice,
): string {
  const lines = [base.trim()];
  const rules = PLATFORM_RULES[platform];
  if (platform !== 'generic') {
    lines.push(
      `Platform: ${rules.label}. Stay within ${rules.maxChars} characters${rules.maxHashtags ? ` and ${rules.maxHashtags} hashtags` : ''}.` +
        (rules.linksClickable ? '' : ' Links in captions are not clickable: say "link in bio".'),
    );
  }
  if (brand) {
    lines.push(`Brand: ${brand.name}.`);
    if (brand.voiceTone.trim()) lines.push(`Voice and tone: ${brand.voiceTone.trim()}`);
    if (brand.toneKeywords.length) lines.push(`Tone keywords: ${brand.toneKeywords.join(', ')}.`);
    if (brand.requiredTerms.length)
      lines.push(`Always include: ${brand.requiredTerms.join(', ')}.`);
    if (brand.bannedTerms.length)
      lines.push(`Never use these words: ${brand.bannedTerms.join(', ')}.`);
  }
  lines.push('Return only the post text.');
  return lines.join('\n');
}

function variantInfo(platform: ContentPlatform, text: string) {
  const length = platformLength(platform, text);
  return {
    text,
    length,
    withinLimit: length <= PLATFORM_RULES[platform].maxChars,
    hashtags: extractHashtags(text),
  };
}

async function loadBrand(ctx: NodeContext<GenerateConfig>): Promise<BrandVoice | undefined> {
  const id = ctx.config.brandProfileId;
  if (!id) return undefined;
  const brand = await ctx.db.brandProfile.findFirst({
    where: { id, workspaceId: ctx.execution.workspaceId },
    select: {
      id: true,
      name: true,
      voiceTone: true,
      toneKeywords: true,
      bannedTerms: true,
      requiredTerms: true,
    },
  });
  if (!brand)
    throw new UserError(
      `Brand profile "${id}" was not found in this workspace. Pick another brand profile.`,
      'config.brandProfileId',
      'BRAND_NOT_FOUND',
    );
  return brand;
}

export const generateNode = defineNodeType({
  type: 'generate',
  version: 1,
  label: 'Generate content',
  description:
    'Writes post variants with OpenAI (or a compatible server) in your brand voice; offline template writer without a key.',
  icon: '✍️',
  category: 'content',
  inputs: [{ name: 'main', label: 'in' }],
  outputs: [{ name: 'main', label: 'out' }],
  configSchema: generateConfigSchema,
  summary: (c) => `${c.variants} × ${c.platform} · ${c.model}`,
  async run(ctx) {
    const { config, execution } = ctx;
    const platform = config.platform;
    const contentId = stableUuid(`${execution.workspaceId}:${ctx.step.idempotencyKey}`);

    // Idempotent per step: a retry or re-delivery returns what was generated (and paid for) before.
    const existing = await ctx.db.generatedContent.findFirst({
      where: { id: contentId, workspaceId: execution.workspaceId },
    });
    if (existing?.text) {
      const meta = existing.metadata as { output?: Json } | null;
      if (meta?.output) return output(meta.output);
    }

    const brand = await loadBrand(ctx);
    const system = buildSystemPrompt(config.systemPrompt, platform, brand);
    const online = Boolean(ctx.env.openaiApiKey || ctx.env.openaiBaseUrl);
    const started = Date.now();
    let texts: string[];
    let writer: 'openai' | 'offline-template';
    let model: string;
    let usage: Usage;
    let imageUrl: string | null = null;

    if (online) {
      writer = 'openai';
      model = config.model;
      const client = new OpenAI({
        apiKey: ctx.env.openaiApiKey ?? 'no-key',
        ...(ctx.env.openaiBaseUrl ? { baseURL: ctx.env.openaiBaseUrl } : {}),
        maxRetries: 0, // the durable step retries, with the runtime's backoff
        timeout: 120_000,
      });
      texts = [];
      let promptTokens = 0;
      let completionTokens = 0;
      // Some OpenAI-compatible servers ignore `n`: ask again for the missing variants.
      for (let call = 0; texts.length < config.variants && call < config.variants; call++) {
        let res;
        try {
          res = await client.chat.completions.create(
            {
              model: config.model,
              messages: [
                { role: 'system', content: system },
                { role: 'user', content: config.prompt },
              ],
              n: config.variants - texts.length,
              temperature: config.temperature,
              max_tokens: config.maxTokens,
            },
            { signal: ctx.signal },
          );
        } catch (err) {
          throw mapOpenAIError(err, 'chat completion');
        }
        promptTokens += res.usage?.prompt_tokens ?? 0;
        completionTokens += res.usage?.completion_tokens ?? 0;
        for (const choice of res.choices) {
          const text = (choice.message.content ?? '').trim();
          if (text) texts.push(text);
        }
      }
      if (texts.length === 0)
        throw new Error(`OpenAI chat completion: model "${config.model}" returned no text`);
      const cost = textCost(config.model, promptTokens, completionTokens);
      usage = {
        promptTokens,
        completionTokens,
        totalTokens: promptTokens + completionTokens,
        ...cost,
      };
      await ctx.db.apiUsage.create({
        data: {
          workspaceId: execution.workspaceId,
          provider: 'openai',
          model: config.model,
          endpoint: 'chat.completions',
          executionId: execution.id,
          nodeId: ctx.node.id,
          promptTokens,
          completionTokens,
          totalTokens: promptTokens + completionTokens,
          costUsd: cost.costUsd,
          responseStatus: 200,
          latencyMs: Date.now() - started,
        },
      });
      if (config.image.enabled) {
        const imgStarted = Date.now();
        let img;
        try {
          img = await client.images.generate(
            {
              model: config.image.model,
              prompt: config.image.prompt ?? config.prompt,
              n: 1,
              size: config.image.size,
            },
            { signal: ctx.signal },
          );
        } catch (err) {
          throw mapOpenAIError(err, 'image generation');
        }
        imageUrl =
          img.data?.[0]?.url ??
          (img.data?.[0]?.b64_json ? `data:image/png;base64,${img.data[0].b64_json}` : null);
        await ctx.db.apiUsage.create({
          data: {
            workspaceId: execution.workspaceId,
            provider: 'openai',
            model: config.image.model,
            endpoint: 'images.generate',
            executionId: execution.id,
            nodeId: ctx.node.id,
            imagesGenerated: 1,
            costUsd: imageCost(config.image.model, 1).costUsd,
            responseStatus: 200,
            latencyMs: Date.now() - imgStarted,
          },
        });
      }
    } else {
      writer = 'offline-template';
      model = 'offline-template';
      texts = writeOffline(config.prompt, platform, config.variants, brand ?? {});
      usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0, priced: true };
      await ctx.db.apiUsage.create({
        data: {
          workspaceId: execution.workspaceId,
          provider: 'local',
          model,
          endpoint: 'offline-writer',
          executionId: execution.id,
          nodeId: ctx.node.id,
          latencyMs: Date.now() - started,
        },
      });
      if (config.image.enabled)
        ctx.log.warn('Image generation needs an OpenAI key or base URL; no image was generated.');
    }

    const variants = texts.map((t) => variantInfo(platform, t));
    const result = {
      text: variants[0]!.text,
      variants,
      platform,
      writer,
      model,
      usage: { ...usage },
      contentId,
      imageUrl,
      brandProfileId: brand?.id ?? null,
      ...(writer === 'offline-template'
        ? { note: 'Written by the offline template writer (no OpenAI key or base URL configured).' }
        : {}),
    } satisfies Record<string, Json>;

    const data = {
      brandProfileId: brand?.id ?? null,
      executionId: execution.id,
      gridId: execution.gridId,
      nodeId: ctx.node.id,
      itemIndex: ctx.step.itemIndex ?? -1,
      platform,
      kind: imageUrl ? 'image' : 'text',
      intent: {
        prompt: config.prompt,
        systemPrompt: system,
        temperature: config.temperature,
        variants: config.variants,
        maxTokens: config.maxTokens,
      },
      text: result.text,
      imageUrl,
      hashtags: variants[0]!.hashtags,
      model,
      status: 'draft',
      metadata: {
        idempotencyKey: ctx.step.idempotencyKey,
        stepId: ctx.step.id,
        writer,
        output: result,
      },
    };
    await ctx.db.generatedContent.upsert({
      where: { id: contentId },
      create: { id: contentId, workspaceId: execution.workspaceId, ...data },
      update: data,
    });
    ctx.emit({
      type: 'content.generated',
      data: { contentId, platform, writer, model, variants: variants.length },
    });
    return output(result);
  },
});
