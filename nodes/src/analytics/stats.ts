/**
 * Pure engagement statistics: rates, benchmarks (average and p90), a 0-100 performance score
 * against the benchmark, and the two-proportion z-test used to pick an A/B winner.
 */

export interface MetricCounts {
  impressions: number;
  reach: number;
  likes: number;
  comments: number;
  shares: number;
  saves: number;
  clicks: number;
}

/** Likes + comments + shares + saves: the interactions that count as engagement. */
export function interactions(m: MetricCounts): number {
  return m.likes + m.comments + m.shares + m.saves;
}

/** Interactions per impression (falls back to reach when a platform reports no impressions); 0 without views. */
export function engagementRate(m: MetricCounts): number {
  const views = m.impressions || m.reach;
  return views > 0 ? interactions(m) / views : 0;
}

/** Clicks per impression; 0 without impressions. */
export function clickThroughRate(m: MetricCounts): number {
  const views = m.impressions || m.reach;
  return views > 0 ? m.clicks / views : 0;
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0;
}

/** Percentile with linear interpolation between closest ranks (numpy's default), q in 0..100. */
export function percentile(values: number[], q: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Benchmark {
  posts: number;
  averageRate: number;
  p90Rate: number;
  averageCtr: number;
}

export function benchmarkOf(rates: Array<{ engagementRate: number; ctr: number }>): Benchmark {
  return {
    posts: rates.length,
    averageRate: mean(rates.map((r) => r.engagementRate)),
    p90Rate: percentile(
      rates.map((r) => r.engagementRate),
      90,
    ),
    averageCtr: mean(rates.map((r) => r.ctr)),
  };
}

/**
 * 0-100 against the benchmark: 0..50 up to the average, 50..90 from the average to the p90,
 * 90..100 above the p90 (100 at twice the p90). Null without a benchmark to compare with.
 */
export function performanceScore(rate: number, benchmark: Benchmark): number | null {
  const { averageRate: avg, p90Rate: p90 } = benchmark;
  if (benchmark.posts === 0 || avg <= 0) return null;
  let score: number;
  if (rate <= avg) score = (50 * rate) / avg;
  else if (rate <= p90 && p90 > avg) score = 50 + (40 * (rate - avg)) / (p90 - avg);
  else
    score = 90 + 10 * Math.min(1, p90 > 0 ? (rate - Math.max(p90, avg)) / Math.max(p90, avg) : 1);
  return Math.round(Math.max(0, Math.min(100, score)) * 10) / 10;
}

/** Complementary error function (W. J. Cody's rational approximations via Numerical Recipes' erfcc; |rel err| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

export interface ZTestResult {
  rateA: number;
  rateB: number;
  z: number;
  /** Two-sided. */
  pValue: number;
  /** 1 - pValue. */
  confidence: number;
  /** `A`/`B` when significant at `alpha`, else `none` (inconclusive). */
  winner: 'A' | 'B' | 'none';
  /** Relative lift of B over A. */
  lift: number | null;
}

/** Two-proportion z-test with pooled variance: successes `xa` of `na` vs `xb` of `nb`. */
export function twoProportionZTest(
  xa: number,
  na: number,
  xb: number,
  nb: number,
  alpha = 0.05,
): ZTestResult {
  if (na <= 0 || nb <= 0) throw new Error('both variants need at least one impression');
  const rateA = xa / na;
  const rateB = xb / nb;
  const pooled = (xa + xb) / (na + nb);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  const z = se > 0 ? (rateA - rateB) / se : 0;
  const pValue = se > 0 ? Math.min(1, erfc(Math.abs(z) / Math.SQRT2)) : 1;
  const winner = pValue < alpha ? (rateA > rateB ? 'A' : 'B') : 'none';
  return {
    rateA,
    rateB,
    z,
    pValue,
    confidence: 1 - pValue,
    winner,
    lift: rateA > 0 ? (rateB - rateA) / rateA : null,
  };
}
