/**
 * Platform text rules, as the platforms document them. Shared by the guard, the offline writer,
 * the publish connectors and the fake platform server, so all four agree on what "too long" means.
 */
export const PLATFORMS = ['linkedin', 'x', 'facebook', 'instagram'] as const;
export type SocialPlatform = (typeof PLATFORMS)[number];
export type ContentPlatform = SocialPlatform | 'generic';

export interface PlatformRules {
  label: string;
  /** Maximum characters (X: weighted characters, see `xWeightedLength`). */
  maxChars: number;
  maxHashtags?: number;
  maxMentions?: number;
  /** Whether links in the text are clickable; Instagram captions are not. */
  linksClickable: boolean;
  /** Whether a post needs an image or video (Instagram feed posts do). */
  requiresMedia: boolean;
}

export const PLATFORM_RULES: Record<ContentPlatform, PlatformRules> = {
  x: { label: 'X', maxChars: 280, linksClickable: true, requiresMedia: false },
  linkedin: { label: 'LinkedIn', maxChars: 3000, linksClickable: true, requiresMedia: false },
  instagram: {
    label: 'Instagram',
    maxChars: 2200,
    maxHashtags: 30,
    maxMentions: 20,
    linksClickable: false,
    requiresMedia: true,
  },
  facebook: { label: 'Facebook', maxChars: 63206, linksClickable: true, requiresMedia: false },
  generic: { label: 'Generic', maxChars: 100_000, linksClickable: true, requiresMedia: false },
};

export const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;
export const HASHTAG_PATTERN = /(^|[^\p{L}\p{N}_&])#([\p{L}\p{N}_]+)/gu;
export const MENTION_PATTERN = /(^|[^\p{L}\p{N}_.@])@([A-Za-z0-9_.]{1,30})/gu;

/** Length in code points (what LinkedIn, Facebook and Instagram count). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * X's weighted length (twitter-text v3): every URL counts 23; code points in the Latin, general
 * punctuation and similar ranges count 1, everything else (CJK, emoji) counts 2.
 */
export function xWeightedLength(text: string): number {
  let length = 0;
  let last = 0;
  for (const m of text.matchAll(URL_PATTERN)) {
    length += weighted(text.slice(last, m.index)) + 23;
    last = (m.index ?? 0) + m[0].length;
  }
  return length + weighted(text.slice(last));
}

function weighted(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const light =
      (cp >= 0 && cp <= 4351) ||
      (cp >= 8192 && cp <= 8205) ||
      (cp >= 8208 && cp <= 8223) ||
      (cp >= 8242 && cp <= 8247);
    n += light ? 1 : 2;
  }
  return n;
}

/** The length that counts against the platform's limit. */
export function platformLength(platform: ContentPlatform, text: string): number {
  return platform === 'x' ? xWeightedLength(text) : codePointLength(text);
}

export function extractHashtags(text: string): string[] {
  return [...text.matchAll(HASHTAG_PATTERN)].map((m) => m[2]!);
}

export function extractMentions(text: string): string[] {
  return [...text.matchAll(MENTION_PATTERN)].map((m) => m[2]!);
}

export function extractLinks(text: string): string[] {
  return [...text.matchAll(URL_PATTERN)].map((m) => m[0]);
}

/**
 * Cuts text so that it fits `platform`'s limit, at a word boundary, with an ellipsis.
 * Keeps trailing hashtags when they fit, since platforms rank on them.
 */
export function trimToLimit(
  platform: ContentPlatform,
  text: string,
  limit = PLATFORM_RULES[platform].maxChars,
): string {
  if (platformLength(platform, text) <= limit) return text;
  const ellipsis = '…';
  const words = text.split(/(\s+)/);
  let out = '';
  for (const w of words) {
    const next = out + w;
    if (platformLength(platform, next.trimEnd() + ellipsis) > limit) break;
    out = next;
  }
  out = out.trimEnd().replace(/[\s,;:.!?-]+$/u, '');
  if (!out) {
    // A single word longer than the limit: cut by code points.
    const cps = [...text];
    while (cps.length && platformLength(platform, cps.join('') + ellipsis) > limit) cps.pop();
    out = cps.join('');
  }
  return out + ellipsis;
}
