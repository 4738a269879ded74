import { describe, expect, it } from 'vitest';
import { keywordHashtags, writeOffline } from './offline-writer.js';
import { platformLength } from '../brand-guard/platform-limits.js';
import { stableUuid } from './definition.js';
import { textCost } from './pricing.js';

const brief =
  'Our spring sourdough workshop opens on Saturday. Bring your own starter and learn shaping, scoring and baking from our head baker.';

describe('offline writer', () => {
  it('fills the platform template from the brief, one distinct hook per variant', () => {
    const out = writeOffline(brief, 'linkedin', 3, {
      name: 'Acme',
      requiredTerms: ['Acme Bakery'],
    });
    expect(out).toHaveLength(3);
    expect(new Set(out).size).toBe(3);
    for (const t of out) {
      expect(t).toContain('Bring your own starter');
      expect(t).toContain('Acme Bakery');
      expect(t).toMatch(/#\w+/);
    }
  });

  it('respects platform limits and removes banned terms', () => {
    const long = `${brief} `.repeat(20);
    for (const p of ['x', 'instagram', 'linkedin'] as const) {
      for (const t of writeOffline(long, p, 2))
        expect(platformLength(p, t)).toBeLessThanOrEqual(
          p === 'x' ? 280 : p === 'instagram' ? 2200 : 3000,
        );
    }
    expect(
      writeOffline('A guaranteed win for everyone.', 'generic', 1, {
        bannedTerms: ['guaranteed'],
      })[0],
    ).toBe('A win for everyone.');
  });

  it('derives hashtags from distinctive words', () => {
    expect(keywordHashtags('sourdough sourdough workshop baking', 2)).toEqual([
      '#Sourdough',
      '#Workshop',
    ]);
  });
});

describe('helpers', () => {
  it('stableUuid is deterministic and UUID-shaped', () => {
    expect(stableUuid('a')).toBe(stableUuid('a'));
    expect(stableUuid('a')).not.toBe(stableUuid('b'));
    expect(stableUuid('a')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('prices tokens per model family, unknown models unpriced', () => {
    expect(textCost('gpt-4o-mini', 1_000_000, 1_000_000)).toEqual({ costUsd: 0.75, priced: true });
    expect(textCost('gpt-4o-mini-2024-07-18', 1000, 0).costUsd).toBeCloseTo(0.00015, 8);
    expect(textCost('llama3.1:8b', 1000, 1000)).toEqual({ costUsd: 0, priced: false });
  });
});
