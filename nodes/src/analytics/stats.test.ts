import { describe, expect, it } from 'vitest';
import {
  benchmarkOf,
  clickThroughRate,
  engagementRate,
  normalCdf,
  percentile,
  performanceScore,
  twoProportionZTest,
} from './stats.js';

describe('stats', () => {
  it('computes engagement rate and CTR per impression', () => {
    const m = {
      impressions: 1000,
      reach: 800,
      likes: 40,
      comments: 5,
      shares: 3,
      saves: 2,
      clicks: 25,
    };
    expect(engagementRate(m)).toBeCloseTo(0.05, 10);
    expect(clickThroughRate(m)).toBeCloseTo(0.025, 10);
    expect(engagementRate({ ...m, impressions: 0, reach: 0 })).toBe(0);
    expect(engagementRate({ ...m, impressions: 0 })).toBeCloseTo(50 / 800, 10);
  });

  it('percentile matches numpy linear interpolation', () => {
    // numpy.percentile([0.01..0.10], 90) == 0.091
    expect(percentile([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1], 90)).toBeCloseTo(
      0.091,
      12,
    );
    expect(percentile([3], 90)).toBe(3);
    expect(percentile([], 90)).toBe(0);
  });

  it('normal CDF at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
  });

  it('two-proportion z-test against known values', () => {
    // 200/1000 vs 250/1000: z = -2.677398, p = 0.0074196 (math.erfc(|z|/sqrt 2))
    const r = twoProportionZTest(200, 1000, 250, 1000);
    expect(r.z).toBeCloseTo(-2.677398, 5);
    expect(r.pValue).toBeCloseTo(0.0074196, 6);
    expect(r.winner).toBe('B');
    expect(r.confidence).toBeCloseTo(0.99258, 4);
    expect(r.lift).toBeCloseTo(0.25, 10);
    // 45/1000 vs 30/1000: z = 1.765470, p = 0.0774849: not significant at 5 %
    const s = twoProportionZTest(45, 1000, 30, 1000);
    expect(s.z).toBeCloseTo(1.76547, 5);
    expect(s.pValue).toBeCloseTo(0.0774849, 6);
    expect(s.winner).toBe('none');
    expect(twoProportionZTest(10, 100, 10, 100)).toMatchObject({ z: 0, pValue: 1, winner: 'none' });
  });

  it('scores performance against the benchmark', () => {
    const b = benchmarkOf(
      [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1].map((e) => ({
        engagementRate: e,
        ctr: e / 2,
      })),
    );
    expect(b.averageRate).toBeCloseTo(0.055, 10);
    expect(b.p90Rate).toBeCloseTo(0.091, 10);
    expect(performanceScore(0.055, b)).toBe(50);
    expect(performanceScore(0.091, b)).toBe(90);
    expect(performanceScore(0.182, b)).toBe(100);
    expect(performanceScore(0.0275, b)).toBe(25);
    expect(performanceScore(0.05, benchmarkOf([]))).toBeNull();
  });
});
