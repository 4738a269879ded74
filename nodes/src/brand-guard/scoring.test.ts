import { describe, expect, it } from 'vitest';
import {
  autofix,
  checkText,
  complianceScore,
  EMPTY_RULES,
  hasBlocking,
  voiceViolation,
  type BrandRules,
} from './scoring.js';
import {
  extractHashtags,
  platformLength,
  trimToLimit,
  xWeightedLength,
} from './platform-limits.js';

const rules = (over: Partial<BrandRules>): BrandRules => ({ ...EMPTY_RULES, ...over });

describe('platform limits', () => {
  it('counts X weighted length: URLs 23, CJK and emoji 2', () => {
    expect(xWeightedLength('hello')).toBe(5);
    expect(xWeightedLength('see https://example.com/a/very/long/path/indeed')).toBe(4 + 23);
    expect(xWeightedLength('日本')).toBe(4);
    expect(xWeightedLength('🙂')).toBe(2);
    expect(platformLength('linkedin', '🙂')).toBe(1);
  });

  it('trims at a word boundary with an ellipsis, within the limit', () => {
    const text = 'The quick brown fox jumps over the lazy dog '.repeat(10);
    const out = trimToLimit('x', text);
    expect(xWeightedLength(out)).toBeLessThanOrEqual(280);
    expect(out.endsWith('…')).toBe(true);
    expect(text.startsWith(out.slice(0, -1))).toBe(true);
    expect(/\s…$/.test(out)).toBe(false);
    expect(trimToLimit('x', 'short')).toBe('short');
  });
});

describe('checkText', () => {
  it('finds banned terms as whole words, case-insensitively, with spans', () => {
    const text = 'Our Guaranteed results beat the guaranteedly odd.';
    const v = checkText(text, 'linkedin', rules({ bannedTerms: ['guaranteed'] }));
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      rule: 'banned_term',
      severity: 'block',
      span: { start: 4, end: 14 },
    });
    expect(text.slice(v[0]!.span!.start, v[0]!.span!.end)).toBe('Guaranteed');
  });

  it('reports missing required terms, hashtags and disclaimer', () => {
    const v = checkText(
      'Spring is here #spring',
      'linkedin',
      rules({
        requiredTerms: ['Acme'],
        requiredHashtags: ['#Spring', 'AcmeLife'],
        disclaimer: 'Ad.',
      }),
    );
    expect(v.map((x) => x.rule).sort()).toEqual([
      'disclaimer',
      'required_hashtag',
      'required_term',
    ]);
    expect(v.find((x) => x.rule === 'required_hashtag')!.message).toContain('#acmelife');
  });

  it('enforces platform limits: X 280, Instagram 2,200 and 30 hashtags', () => {
    expect(checkText('a'.repeat(280), 'x', EMPTY_RULES)).toEqual([]);
    const long = checkText('a'.repeat(281), 'x', EMPTY_RULES);
    expect(long[0]).toMatchObject({
      rule: 'platform_length',
      severity: 'block',
      span: { start: 280, end: 281 },
    });
    expect(checkText('a'.repeat(2201), 'instagram', EMPTY_RULES).map((x) => x.rule)).toEqual([
      'platform_length',
    ]);
    expect(checkText('a'.repeat(2201), 'linkedin', EMPTY_RULES)).toEqual([]);
    const tags = Array.from({ length: 31 }, (_, i) => `#tag${i}`).join(' ');
    expect(checkText(tags, 'instagram', EMPTY_RULES).map((x) => x.rule)).toEqual(['hashtag_limit']);
    expect(checkText(tags, 'linkedin', EMPTY_RULES)).toEqual([]);
  });

  it('applies link and mention rules', () => {
    const text = 'Read https://blog.acme.com/post and https://evil.example/x thanks @bob';
    const allow = checkText(
      text,
      'linkedin',
      rules({ links: 'allowlist', allowedDomains: ['acme.com'], mentions: 'forbid' }),
    );
    expect(allow.map((x) => x.rule)).toEqual(['mention_forbidden', 'link_domain']);
    expect(text.slice(allow[1]!.span!.start, allow[1]!.span!.end)).toBe('https://evil.example/x');
    expect(
      checkText(text, 'linkedin', rules({ links: 'forbid' })).filter(
        (x) => x.rule === 'link_forbidden',
      ),
    ).toHaveLength(2);
    expect(
      checkText('see https://acme.com', 'instagram', EMPTY_RULES).map((x) => x.severity),
    ).toEqual(['info']);
  });

  it('checks image palette and fonts', () => {
    const r = rules({ palette: ['#0A66C2', '#FFFFFF'], fonts: ['Inter'] });
    expect(
      checkText('hi', 'linkedin', r, { colors: ['#0b67c0', '#fefefe'], fonts: ['inter'] }),
    ).toEqual([]);
    const v = checkText('hi', 'linkedin', r, { colors: ['#ff0000'], fonts: ['Comic Sans'] });
    expect(v.map((x) => x.rule)).toEqual(['palette', 'font']);
  });

  it('scores 100 minus penalties and knows what blocks', () => {
    expect(complianceScore([])).toBe(100);
    const v = checkText(
      'Guaranteed wins',
      'linkedin',
      rules({ bannedTerms: ['guaranteed'], requiredTerms: ['Acme'] }),
    );
    expect(complianceScore(v)).toBe(60);
    expect(hasBlocking(v)).toBe(true);
    expect(complianceScore(checkText('', 'x', EMPTY_RULES))).toBe(0);
  });

  it('penalises low brand-voice similarity proportionally', () => {
    expect(voiceViolation(0.5, 0.3)).toBeUndefined();
    expect(voiceViolation(0, 0.3)!.penalty).toBe(10);
    expect(voiceViolation(0.15, 0.3)!.penalty).toBe(5);
  });
});

describe('autofix', () => {
  it('removes banned terms, adds required hashtags and the disclaimer, and re-checks clean', () => {
    const r = rules({
      bannedTerms: ['guaranteed', 'best ever'],
      requiredHashtags: ['Acme'],
      disclaimer: 'Paid partnership.',
    });
    const { text, applied } = autofix('Our guaranteed , best ever offer!', 'linkedin', r);
    expect(text).toBe('Our, offer!\n\n#Acme\nPaid partnership.');
    expect(applied).toHaveLength(4);
    expect(checkText(text, 'linkedin', r)).toEqual([]);
  });

  it('trims to the platform limit keeping the disclaimer and hashtags', () => {
    const r = rules({ requiredHashtags: ['Acme'], disclaimer: '#ad' });
    const { text } = autofix('word '.repeat(100), 'x', r);
    expect(xWeightedLength(text)).toBeLessThanOrEqual(280);
    expect(text.endsWith('#Acme\n#ad')).toBe(true);
    expect(checkText(text, 'x', r)).toEqual([]);
  });

  it('drops surplus optional hashtags, keeping required ones', () => {
    const tags = Array.from({ length: 33 }, (_, i) => `#t${i}`).join(' ');
    const r = rules({ requiredHashtags: ['t32', 'brand'] });
    const { text } = autofix(`Hello ${tags}`, 'instagram', r);
    const out = extractHashtags(text);
    expect(out).toHaveLength(30);
    expect(out).toContain('t32');
    expect(out).toContain('brand');
    expect(checkText(text, 'instagram', r)).toEqual([]);
  });
});
