/**
 * brand-guard: scores text against a brand profile (rules in scoring.ts, brand-voice similarity
 * through pgvector), stores a GuardResult and routes by enforcement: `block` → `fail` below the
 * minimum score or on a blocking violation; `warn` → `pass` with warnings; `autofix` → apply the
 * safe fixes, re-score, and route the fixed text.
 */
import { z } from 'zod';
import { defineNodeType, output, UserError, type Json, type NodeContext } from '@gridflow/runtime';
import { nearestKnowledge } from '../embedding/knowledge.js';
import { stableUuid } from '../generate/definition.js';
import {
  autofix,
  checkText,
  complianceScore,
  EMPTY_RULES,
  hasBlocking,
  voiceViolation,
  type BrandRules,
  type Violation,
} from './scoring.js';
import type { ContentPlatform } from './platform-limits.js';

export const ENFORCEMENT_LEVELS = ['block', 'warn', 'autofix'] as const;
export type Enforcement = (typeof ENFORCEMENT_LEVELS)[number];

export const brandGuardConfigSchema = z.object({
  brandProfileId: z.string().min(1, 'Pick a brand profile'),
  /** The text to check; empty = the input's `text` field. */
  text: z.string().default('').meta({ 'x-gridflow-widget': 'expression' }),
  platform: z.enum(['linkedin', 'x', 'facebook', 'instagram', 'generic']).default('linkedin'),
  /** Overrides the profile's enforcement level. */
  enforcement: z.enum(ENFORCEMENT_LEVELS).optional(),
  /** 0-100; overrides the profile's minimum compliance score. */
  minScore: z.number().min(0).max(100).optional(),
  /** GeneratedContent to attach the result to; default: the input's `contentId`, else a new row. */
  contentId: z.string().optional(),
  /** Rules the brand profile does not carry (yet). */
  rules: z
    .object({
      requiredHashtags: z.array(z.string()).default([]),
      disclaimer: z.string().optional(),
      maxHashtags: z.number().int().min(0).optional(),
      links: z.enum(['allow', 'forbid', 'allowlist']).default('allow'),
      allowedDomains: z.array(z.string()).default([]),
      mentions: z.enum(['allow', 'forbid']).default('allow'),
    })
    .default({ requiredHashtags: [], links: 'allow', allowedDomains: [], mentions: 'allow' }),
  /** Metadata of an attached image (dominant colours, fonts), checked against palette and fonts. */
  image: z
    .object({ colors: z.array(z.string()).optional(), fonts: z.array(z.string()).optional() })
    .optional(),
  /** Cosine similarity to the brand's knowledge below which brand voice is flagged. */
  voiceThreshold: z.number().min(0).max(1).default(0.2),
});

export type BrandGuardConfig = z.infer<typeof brandGuardConfigSchema>;

/** Maps the profile's level (off | advisory | strict, or a node-level name) to an enforcement. */
export function enforcementOf(profileLevel: string): Enforcement {
  switch (profileLevel) {
    case 'strict':
    case 'block':
      return 'block';
    case 'autofix':
      return 'autofix';
    default:
      return 'warn';
  }
}

/** Collects `#rrggbb` strings from a palette JSON of any shape ({ primary: '#..', extra: ['#..'] }). */
export function jsonStrings(value: unknown, filter: (s: string) => boolean = () => true): string[] {
  if (typeof value === 'string') return filter(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((v) => jsonStrings(v, filter));
  if (value && typeof value === 'object')
    return Object.values(value).flatMap((v) => jsonStrings(v, filter));
  return [];
}

function inputField(input: Json, field: string): string | undefined {
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const v = (input as Record<string, Json>)[field];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

async function voiceSimilarity(
  ctx: NodeContext<BrandGuardConfig>,
  brandProfileId: string,
  text: string,
) {
  const embedding = await ctx.embed(text);
  const matches = await nearestKnowledge(
    ctx.db,
    ctx.execution.workspaceId,
    brandProfileId,
    embedding,
    3,
  );
  if (!matches.length) return null;
  return {
    similarity: Math.round(matches[0]!.similarity * 1000) / 1000,
    embedder: embedding.embedder,
    matches: matches.map((m) => ({
      id: m.id,
      title: m.title,
      similarity: Math.round(m.similarity * 1000) / 1000,
    })),
  };
}

export const brandGuardNode = defineNodeType({
  type: 'brand-guard',
  version: 1,
  label: 'Brand guard',
  description:
    'Scores content against a brand profile (terms, hashtags, disclaimer, platform limits, links, voice) and blocks, warns or fixes.',
  icon: '🛡️',
  category: 'content',
  inputs: [{ name: 'main', label: 'in' }],
  outputs: [
    { name: 'pass', label: 'pass' },
    { name: 'fail', label: 'fail' },
  ],
  configSchema: brandGuardConfigSchema,
  summary: (c) =>
    `${c.platform}${c.enforcement ? ` · ${c.enforcement}` : ''}${c.minScore !== undefined ? ` · min ${c.minScore}` : ''}`,
  async run(ctx) {
    const { config, execution } = ctx;
    const workspaceId = execution.workspaceId;
    const stepKey = ctx.step.idempotencyKey;

    const previous = await ctx.db.guardResult.findFirst({
      where: { workspaceId, details: { path: ['stepKey'], equals: stepKey } },
    });
    if (previous) {
      const prev = previous.details as { output?: Json; ports?: string[] };
      if (prev.output && prev.ports) return output(prev.output, prev.ports);
    }

    const text = config.text || inputField(ctx.input, 'text') || '';
    const platform = config.platform as ContentPlatform;
    const brand = await ctx.db.brandProfile.findFirst({
      where: { id: config.brandProfileId, workspaceId },
    });
    if (!brand)
      throw new UserError(
        `Brand profile "${config.brandProfileId}" was not found in this workspace. Pick another brand profile.`,
        'config.brandProfileId',
        'BRAND_NOT_FOUND',
      );

    const enforcement = config.enforcement ?? enforcementOf(brand.enforcementLevel);
    const minScore =
      config.minScore ??
      Math.round(
        (brand.minComplianceScore <= 1
          ? brand.minComplianceScore * 100
          : brand.minComplianceScore) * 10,
      ) / 10;
    const rules: BrandRules = {
      ...EMPTY_RULES,
      bannedTerms: brand.bannedTerms,
      requiredTerms: brand.requiredTerms,
      requiredHashtags: config.rules.requiredHashtags,
      ...(config.rules.disclaimer ? { disclaimer: config.rules.disclaimer } : {}),
      ...(config.rules.maxHashtags !== undefined ? { maxHashtags: config.rules.maxHashtags } : {}),
      links: config.rules.links,
      allowedDomains: config.rules.allowedDomains,
      mentions: config.rules.mentions,
      palette: jsonStrings(brand.palette, (s) => /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(s.trim())),
      fonts: jsonStrings(brand.fonts),
    };

    const evaluate = async (t: string) => {
      const violations: Violation[] = checkText(t, platform, rules, config.image);
      const voice = t.trim() ? await voiceSimilarity(ctx, brand.id, t) : null;
      if (voice) {
        const v = voiceViolation(voice.similarity, config.voiceThreshold);
        if (v) violations.push(v);
      }
      const score = complianceScore(violations);
      return { violations, voice, score, passed: score >= minScore && !hasBlocking(violations) };
    };

    const original = await evaluate(text);
    let final = original;
    let fixedText: string | null = null;
    let applied: string[] = [];
    if (enforcement === 'autofix' && original.violations.some((v) => v.fixable)) {
      const fix = autofix(text, platform, rules);
      if (fix.text !== text) {
        fixedText = fix.text;
        applied = fix.applied;
        final = await evaluate(fix.text);
      }
    }

    const ports = enforcement === 'warn' || final.passed ? ['pass'] : ['fail'];
    const strip = (vs: Violation[]) =>
      vs.map((v) => ({
        rule: v.rule,
        severity: v.severity,
        message: v.message,
        ...(v.span ? { span: { start: v.span.start, end: v.span.end } } : {}),
        ...(v.suggestion ? { suggestion: v.suggestion } : {}),
        fixable: v.fixable,
        penalty: v.penalty,
      }));

    // Attach to the content it scores: explicit id, else the generate node's, else a row of its own.
    const candidateId = config.contentId || inputField(ctx.input, 'contentId');
    let contentId = candidateId
      ? (
          await ctx.db.generatedContent.findFirst({
            where: { id: candidateId, workspaceId },
            select: { id: true },
          })
        )?.id
      : undefined;
    if (!contentId) {
      contentId = stableUuid(`${workspaceId}:${stepKey}:guarded`);
      await ctx.db.generatedContent.upsert({
        where: { id: contentId },
        create: {
          id: contentId,
          workspaceId,
          brandProfileId: brand.id,
          executionId: execution.id,
          gridId: execution.gridId,
          nodeId: ctx.node.id,
          itemIndex: ctx.step.itemIndex ?? -1,
          platform,
          text,
          metadata: { source: 'brand-guard', stepKey },
        },
        update: {},
      });
    }

    const guardResultId = stableUuid(`${workspaceId}:${stepKey}:guard`);
    const result = {
      passed: final.passed,
      score: final.score,
      minScore,
      enforcement,
      platform,
      text: fixedText ?? text,
      fixedText,
      applied,
      violations: strip(final.violations),
      warnings:
        enforcement === 'warn' ? strip(final.violations.filter((v) => v.severity !== 'info')) : [],
      ...(fixedText !== null
        ? { originalScore: original.score, originalViolations: strip(original.violations) }
        : {}),
      voice: final.voice,
      brandProfileId: brand.id,
      contentId,
      guardResultId,
    } satisfies Record<string, Json>;

    await ctx.db.$transaction([
      ctx.db.guardResult.upsert({
        where: { id: guardResultId },
        create: {
          id: guardResultId,
          workspaceId,
          contentId,
          guard: 'brand_compliance',
          passed: final.passed,
          score: final.score,
          autoFixed: fixedText !== null,
          details: { stepKey, output: result, ports },
        },
        update: {},
      }),
      ctx.db.generatedContent.updateMany({
        where: { id: contentId, workspaceId },
        data: { complianceScore: final.score },
      }),
    ]);
    ctx.emit({
      type: 'guard.scored',
      data: {
        contentId,
        score: final.score,
        passed: final.passed,
        enforcement,
        violations: final.violations.length,
      },
    });
    return output(result, ports);
  },
});
