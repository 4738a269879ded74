/**
 * The offline writer: used when no OpenAI key or base URL is configured. It does not pretend to
 * be a model: it fills the platform's post template from the brief (hook, body, call to action,
 * hashtags), varies the hook per variant, and respects the platform's limits. Its output is
 * labelled `writer: 'offline-template'`.
 */
import {
  PLATFORM_RULES,
  extractHashtags,
  trimToLimit,
  type ContentPlatform,
} from '../brand-guard/platform-limits.js';

export interface OfflineBrand {
  name?: string;
  requiredTerms?: string[];
  bannedTerms?: string[];
}

const HOOKS = [
  '',
  'Big news: ',
  'Here is the short version: ',
  'Worth a minute: ',
  'In case you missed it: ',
];
const CTAS: Record<ContentPlatform, string> = {
  linkedin: 'What do you think? Share your view in the comments.',
  x: '',
  facebook: 'Tell us what you think below.',
  instagram: 'Link in bio.',
  generic: '',
};
const STOP = new Set(
  'about above after again against because before being below between both could during each from further have having here into itself just more most once only other over same should some such than that their them then there these they this those through under until very what when where which while with would your ours yours will shall must also'.split(
    ' ',
  ),
);

function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?])\s+/)
    .filter(Boolean);
}

/** Up to `n` hashtags from the brief's most distinctive words (long, non-stop-words, first seen first). */
export function keywordHashtags(text: string, n: number): string[] {
  const seen = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[\p{L}][\p{L}\p{N}]{4,}/gu) ?? []) {
    if (!STOP.has(w)) seen.set(w, (seen.get(w) ?? 0) + 1);
  }
  return [...seen.entries()]
    .sort((a, b) => b[1] - a[1] || b[0].length - a[0].length)
    .slice(0, n)
    .map(([w]) => `#${w.charAt(0).toUpperCase()}${w.slice(1)}`);
}

function removeBanned(text: string, banned: string[]): string {
  let out = text;
  for (const term of banned.filter((t) => t.trim())) {
    const body = term
      .trim()
      .split(/\s+/)
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s+');
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'giu'), '');
  }
  return out
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ +([,.;:!?])/g, '$1')
    .trim();
}

export function writeOffline(
  brief: string,
  platform: ContentPlatform,
  variants: number,
  brand: OfflineBrand = {},
): string[] {
  const parts = sentences(removeBanned(brief, brand.bannedTerms ?? []));
  const hook = parts[0] ?? '';
  const body = parts.slice(1).join(' ');
  const existingTags = new Set(extractHashtags(brief).map((t) => t.toLowerCase()));
  const tagCount =
    platform === 'instagram' ? 5 : platform === 'x' ? 2 : platform === 'generic' ? 0 : 3;
  const tags = keywordHashtags(brief.replace(/#[\p{L}\p{N}_]+/gu, ''), tagCount).filter(
    (t) => !existingTags.has(t.slice(1).toLowerCase()),
  );
  const required = (brand.requiredTerms ?? []).filter(
    (t) => t.trim() && !brief.toLowerCase().includes(t.toLowerCase()),
  );
  const signature = required.length ? `${required.join(' · ')}` : '';
  return Array.from({ length: variants }, (_, i) => {
    const opener = HOOKS[i % HOOKS.length]!;
    const first = opener ? opener + hook.charAt(0).toLowerCase() + hook.slice(1) : hook;
    let text: string;
    switch (platform) {
      case 'x':
        text = [first, body, signature, tags.join(' ')].filter(Boolean).join(' ');
        break;
      case 'linkedin':
      case 'facebook':
        text = [first, body, signature, CTAS[platform], tags.join(' ')]
          .filter(Boolean)
          .join('\n\n');
        break;
      case 'instagram':
        text = [first, body, signature, CTAS.instagram, tags.join(' ')]
          .filter(Boolean)
          .join('\n.\n');
        break;
      case 'generic':
        text = [first, body, signature].filter(Boolean).join(' ');
        break;
    }
    return trimToLimit(platform, text, PLATFORM_RULES[platform].maxChars);
  });
}
