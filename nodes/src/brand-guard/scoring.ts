/**
 * Pure brand-compliance checks: each rule yields violations with a span in the text and a
 * suggestion; the score is 100 minus weighted penalties; `autofix` applies only the fixes that
 * cannot change the message's meaning (removing banned terms, appending the disclaimer and
 * required hashtags, dropping surplus hashtags, trimming to the limit at a word boundary).
 */
import {
  extractHashtags,
  HASHTAG_PATTERN,
  MENTION_PATTERN,
  PLATFORM_RULES,
  platformLength,
  trimToLimit,
  URL_PATTERN,
  type ContentPlatform,
} from './platform-limits.js';

export type RuleId =
  | 'empty'
  | 'banned_term'
  | 'required_term'
  | 'required_hashtag'
  | 'disclaimer'
  | 'platform_length'
  | 'hashtag_limit'
  | 'mention_limit'
  | 'link_forbidden'
  | 'link_domain'
  | 'link_not_clickable'
  | 'mention_forbidden'
  | 'palette'
  | 'font'
  | 'brand_voice';

/** `block`: must not be published as is; `warning`: should be fixed; `info`: advice. */
export type Severity = 'block' | 'warning' | 'info';

export interface Span {
  start: number;
  end: number;
}

export interface Violation {
  rule: RuleId;
  severity: Severity;
  message: string;
  span?: Span;
  suggestion?: string;
  /** Whether `autofix` can repair it. */
  fixable: boolean;
  /** Points taken off the 0-100 score. */
  penalty: number;
}

export interface BrandRules {
  bannedTerms: string[];
  requiredTerms: string[];
  /** Without or with the leading `#`. */
  requiredHashtags: string[];
  /** Text that must appear (e.g. "Ad" or a legal line); appended by autofix. */
  disclaimer?: string;
  /** Overrides the platform's hashtag limit when lower. */
  maxHashtags?: number;
  /** `allowlist`: only links to `allowedDomains` (and their subdomains). */
  links: 'allow' | 'forbid' | 'allowlist';
  allowedDomains: string[];
  mentions: 'allow' | 'forbid';
  /** Brand colours, hex `#rrggbb`. */
  palette: string[];
  /** Brand font families. */
  fonts: string[];
}

export const EMPTY_RULES: BrandRules = {
  bannedTerms: [],
  requiredTerms: [],
  requiredHashtags: [],
  links: 'allow',
  allowedDomains: [],
  mentions: 'allow',
  palette: [],
  fonts: [],
};

/** Metadata of an attached image, when the content has one. */
export interface ImageMetadata {
  /** Dominant colours, hex. */
  colors?: string[];
  /** Font families used in the image. */
  fonts?: string[];
}

const PENALTY: Record<RuleId, number> = {
  empty: 100,
  banned_term: 30,
  required_term: 10,
  required_hashtag: 5,
  disclaimer: 20,
  platform_length: 30,
  hashtag_limit: 20,
  mention_limit: 15,
  link_forbidden: 20,
  link_domain: 20,
  link_not_clickable: 5,
  mention_forbidden: 10,
  palette: 10,
  font: 10,
  brand_voice: 10,
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whole-word, case-insensitive matcher for a term or phrase (whitespace inside a phrase may vary). */
export function termPattern(term: string): RegExp {
  const body = term.trim().split(/\s+/).map(escapeRegExp).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'giu');
}

function normaliseTag(tag: string): string {
  return tag.replace(/^#/, '').toLowerCase();
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function hexToRgb(hex: string): [number, number, number] | undefined {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return undefined;
  let h = m[1]!;
  if (h.length === 3)
    h = h
      .split('')
      .map((c) => c + c)
      .join('');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** Euclidean distance in RGB, 0..441. */
export function colorDistance(a: string, b: string): number {
  const x = hexToRgb(a);
  const y = hexToRgb(b);
  if (!x || !y) return Infinity;
  return Math.hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]);
}

/** Colours closer than this to a palette colour count as on-brand (about 10% of the RGB cube's diagonal). */
export const PALETTE_TOLERANCE = 45;

export function checkText(
  text: string,
  platform: ContentPlatform,
  rules: BrandRules,
  image?: ImageMetadata,
): Violation[] {
  const out: Violation[] = [];
  const add = (v: Omit<Violation, 'penalty'> & { penalty?: number }) =>
    out.push({ penalty: PENALTY[v.rule], ...v });
  if (!text.trim()) {
    add({
      rule: 'empty',
      severity: 'block',
      message: 'The content is empty.',
      suggestion: 'Provide the text to publish.',
      fixable: false,
    });
    return out;
  }

  for (const term of rules.bannedTerms.filter((t) => t.trim())) {
    for (const m of text.matchAll(termPattern(term))) {
      add({
        rule: 'banned_term',
        severity: 'block',
        message: `Banned term "${m[0]}".`,
        span: { start: m.index!, end: m.index! + m[0].length },
        suggestion: `Remove or rephrase "${m[0]}".`,
        fixable: true,
      });
    }
  }

  for (const term of rules.requiredTerms.filter((t) => t.trim())) {
    if (!termPattern(term).test(text)) {
      add({
        rule: 'required_term',
        severity: 'warning',
        message: `Required term "${term}" is missing.`,
        suggestion: `Mention "${term}".`,
        fixable: false,
      });
    }
  }

  const tags = new Set(extractHashtags(text).map(normaliseTag));
  for (const tag of rules.requiredHashtags.filter((t) => normaliseTag(t))) {
    if (!tags.has(normaliseTag(tag))) {
      add({
        rule: 'required_hashtag',
        severity: 'warning',
        message: `Required hashtag #${normaliseTag(tag)} is missing.`,
        suggestion: `Add #${tag.replace(/^#/, '')}.`,
        fixable: true,
      });
    }
  }

  if (
    rules.disclaimer?.trim() &&
    !text.toLowerCase().includes(rules.disclaimer.trim().toLowerCase())
  ) {
    add({
      rule: 'disclaimer',
      severity: 'block',
      message: `The disclaimer "${rules.disclaimer.trim()}" is missing.`,
      suggestion: 'Append the disclaimer.',
      fixable: true,
    });
  }

  const platformRules = PLATFORM_RULES[platform];
  const length = platformLength(platform, text);
  if (length > platformRules.maxChars) {
    add({
      rule: 'platform_length',
      severity: 'block',
      message: `${length} characters: ${platformRules.label} allows ${platformRules.maxChars}.`,
      span: { start: sliceIndexAtLength(platform, text, platformRules.maxChars), end: text.length },
      suggestion: `Shorten by ${length - platformRules.maxChars} characters.`,
      fixable: true,
    });
  }

  const hashtagMatches = [...text.matchAll(HASHTAG_PATTERN)];
  const maxTags = Math.min(rules.maxHashtags ?? Infinity, platformRules.maxHashtags ?? Infinity);
  if (hashtagMatches.length > maxTags) {
    const first = hashtagMatches[maxTags]!;
    add({
      rule: 'hashtag_limit',
      severity: 'block',
      message: `${hashtagMatches.length} hashtags: at most ${maxTags} allowed.`,
      span: { start: first.index! + first[1]!.length, end: text.length },
      suggestion: `Remove ${hashtagMatches.length - maxTags} hashtags.`,
      fixable: true,
    });
  }

  const mentions = [...text.matchAll(MENTION_PATTERN)];
  if (platformRules.maxMentions !== undefined && mentions.length > platformRules.maxMentions) {
    add({
      rule: 'mention_limit',
      severity: 'block',
      message: `${mentions.length} mentions: ${platformRules.label} allows ${platformRules.maxMentions}.`,
      suggestion: 'Mention fewer accounts.',
      fixable: false,
    });
  }
  if (rules.mentions === 'forbid') {
    for (const m of mentions) {
      const start = m.index! + m[1]!.length;
      add({
        rule: 'mention_forbidden',
        severity: 'warning',
        message: `Mentions are not allowed (@${m[2]}).`,
        span: { start, end: start + m[2]!.length + 1 },
        suggestion: 'Remove the mention.',
        fixable: false,
      });
    }
  }

  for (const m of text.matchAll(URL_PATTERN)) {
    const span = { start: m.index!, end: m.index! + m[0].length };
    if (rules.links === 'forbid') {
      add({
        rule: 'link_forbidden',
        severity: 'block',
        message: `Links are not allowed (${m[0]}).`,
        span,
        suggestion: 'Remove the link.',
        fixable: false,
      });
      continue;
    }
    if (rules.links === 'allowlist') {
      const host = hostOf(m[0]);
      const ok =
        host &&
        rules.allowedDomains.some(
          (d) => host === d.toLowerCase() || host.endsWith(`.${d.toLowerCase()}`),
        );
      if (!ok) {
        add({
          rule: 'link_domain',
          severity: 'block',
          message: `Link to ${host ?? m[0]} is not on the allowed domains (${rules.allowedDomains.join(', ') || 'none'}).`,
          span,
          suggestion: 'Link to an allowed domain.',
          fixable: false,
        });
        continue;
      }
    }
    if (!platformRules.linksClickable) {
      add({
        rule: 'link_not_clickable',
        severity: 'info',
        message: `Links in ${platformRules.label} captions are not clickable.`,
        span,
        suggestion: 'Say "link in bio" and put the link in the profile.',
        fixable: false,
      });
    }
  }

  if (image) {
    const palette = rules.palette.filter((c) => hexToRgb(c));
    if (palette.length) {
      for (const c of image.colors ?? []) {
        const nearest = Math.min(...palette.map((p) => colorDistance(c, p)));
        if (nearest > PALETTE_TOLERANCE) {
          add({
            rule: 'palette',
            severity: 'warning',
            message: `Image colour ${c} is off-palette.`,
            suggestion: `Use the brand colours (${palette.join(', ')}).`,
            fixable: false,
          });
        }
      }
    }
    if (rules.fonts.length) {
      const allowed = new Set(rules.fonts.map((f) => f.toLowerCase()));
      for (const f of image.fonts ?? []) {
        if (!allowed.has(f.toLowerCase())) {
          add({
            rule: 'font',
            severity: 'warning',
            message: `Font "${f}" is not a brand font.`,
            suggestion: `Use ${rules.fonts.join(' or ')}.`,
            fixable: false,
          });
        }
      }
    }
  }
  return out;
}

function sliceIndexAtLength(platform: ContentPlatform, text: string, limit: number): number {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (platformLength(platform, text.slice(0, mid)) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Brand-voice check: `similarity` is the cosine similarity to the brand's closest knowledge
 * entries. Below `threshold` the penalty grows linearly to 10 points at similarity 0.
 */
export function voiceViolation(similarity: number, threshold: number): Violation | undefined {
  if (similarity >= threshold) return undefined;
  const penalty = Math.round(
    PENALTY.brand_voice * Math.min(1, (threshold - similarity) / threshold),
  );
  return {
    rule: 'brand_voice',
    severity: 'warning',
    message: `Brand-voice similarity ${similarity.toFixed(2)} is below ${threshold.toFixed(2)}.`,
    suggestion: 'Rewrite closer to the brand examples (tone keywords, typical phrases).',
    fixable: false,
    penalty,
  };
}

/** 0-100: 100 minus the penalties, floored at 0. */
export function complianceScore(violations: Violation[]): number {
  return Math.max(0, 100 - violations.reduce((s, v) => s + v.penalty, 0));
}

export function hasBlocking(violations: Violation[]): boolean {
  return violations.some((v) => v.severity === 'block');
}

export interface AutofixResult {
  text: string;
  /** What was changed, in order, for the run log and the GuardResult. */
  applied: string[];
}

export function autofix(text: string, platform: ContentPlatform, rules: BrandRules): AutofixResult {
  const applied: string[] = [];
  let body = text;

  for (const term of rules.bannedTerms.filter((t) => t.trim())) {
    const re = termPattern(term);
    if (re.test(body)) {
      body = body.replace(termPattern(term), '');
      applied.push(`removed banned term "${term}"`);
    }
  }
  // Tidy what removals leave behind: doubled spaces, space before punctuation, empty lines.
  body = body
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ +([,.;:!?])/g, '$1')
    .replace(/^[ \t]+|[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

  const platformRules = PLATFORM_RULES[platform];
  const maxTags = Math.min(rules.maxHashtags ?? Infinity, platformRules.maxHashtags ?? Infinity);
  const present = new Set(extractHashtags(body).map(normaliseTag));
  const missingTags = rules.requiredHashtags
    .map((t) => t.replace(/^#/, '').trim())
    .filter((t) => t && !present.has(t.toLowerCase()));
  if (Number.isFinite(maxTags)) {
    // Keep room for the required hashtags: drop optional ones from the end.
    const required = new Set(rules.requiredHashtags.map(normaliseTag));
    const matches = [...body.matchAll(HASHTAG_PATTERN)];
    if (matches.length + missingTags.length > maxTags) {
      const requiredPresent = matches.filter((m) => required.has(normaliseTag(m[2]!))).length;
      let optionalLeft = Math.max(0, maxTags - requiredPresent - missingTags.length);
      const drop = matches.filter((m) => {
        if (required.has(normaliseTag(m[2]!))) return false;
        if (optionalLeft > 0) {
          optionalLeft--;
          return false;
        }
        return true;
      });
      for (const m of drop.reverse()) {
        const start = m.index! + m[1]!.length;
        body = body.slice(0, start) + body.slice(start + m[2]!.length + 1);
      }
      body = body
        .replace(/[ \t]{2,}/g, ' ')
        .replace(/[ \t]+$/gm, '')
        .trim();
      if (drop.length) applied.push(`removed ${drop.length} hashtags over the limit`);
    }
  }

  const suffixParts: string[] = [];
  if (missingTags.length) {
    suffixParts.push(missingTags.map((t) => `#${t}`).join(' '));
    applied.push(`added ${missingTags.map((t) => `#${t}`).join(' ')}`);
  }
  const disclaimer = rules.disclaimer?.trim();
  if (disclaimer && !body.toLowerCase().includes(disclaimer.toLowerCase())) {
    suffixParts.push(disclaimer);
    applied.push('appended the disclaimer');
  }
  const suffix = suffixParts.length ? `\n\n${suffixParts.join('\n')}` : '';
  const limit = platformRules.maxChars - platformLength(platform, suffix);
  if (platformLength(platform, body) > limit) {
    body = trimToLimit(platform, body, Math.max(1, limit));
    applied.push(`trimmed to ${platformRules.maxChars} characters`);
  }
  return { text: body + suffix, applied };
}
