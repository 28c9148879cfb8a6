import { describe, expect, it } from 'vitest';
import {
  cellFigures,
  median,
  medianCiRank,
  medianPercentiles,
  OUTLIER_THRESHOLD,
  operationsPerFile,
  outliers,
  percentiles,
  spreadWarning,
  summarize,
} from '../../src/bench/stats.js';

describe('summarize', () => {
  it('gives the median, mean, sample stddev, min and max', () => {
    const stats = summarize([3, 1, 2, 5, 4]);
    expect(stats).toMatchObject({ median: 3, mean: 3, min: 1, max: 5 });
    expect(stats.stddev).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('has stddev 0 and a CI of the value itself for one run', () => {
    expect(summarize([1.5])).toEqual({
      median: 1.5,
      mean: 1.5,
      stddev: 0,
      min: 1.5,
      max: 1.5,
      ci95: [1.5, 1.5],
    });
  });

  it('takes the CI ranks from the binomial distribution (standard tables)', () => {
    expect([5, 6, 7, 8, 9, 10, 20, 50].map(medianCiRank)).toEqual([undefined, 1, 1, 1, 2, 2, 6, 18]);
    // Large n: no overflow, and close to the normal approximation n/2 - 1.96·√n/2.
    expect(medianCiRank(10_000)).toBe(4902);
  });

  it('gives the order statistics at those ranks as the CI', () => {
    const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]; // 1..10 shuffled
    expect(summarize(values).ci95).toEqual([2, 9]);
    const twenty = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(summarize(twenty).ci95).toEqual([6, 15]);
    expect(summarize([6, 5, 4, 3, 2, 1]).ci95).toEqual([1, 6]);
  });

  it('falls back to min-max below 6 runs', () => {
    expect(summarize([2, 9, 4]).ci95).toEqual([2, 9]);
    expect(summarize([5, 1, 2, 3, 4]).ci95).toEqual([1, 5]);
  });

  it('refuses no values', () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe('outliers', () => {
  it("uses hyperfine's threshold", () => {
    expect(OUTLIER_THRESHOLD).toBeCloseTo(14.826, 10);
  });

  it('leaves a run six MADs off alone: only a run ten robust deviations off is flagged', () => {
    // median 5.5, MAD 2.5: 20 is 5.8 MADs off (an outlier by the textbook 3.5, not by hyperfine).
    expect(outliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 20])).toEqual([]);
    expect(outliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 43])).toEqual([9]);
  });

  it('finds a planted outlier by its index', () => {
    const times = [1.02, 0.99, 1.01, 1.0, 0.98, 1.03, 1.0, 2.5, 0.97, 1.01];
    expect(outliers(times)).toEqual([7]);
    expect(outliers(times.filter((_, i) => i !== 7))).toEqual([]);
  });

  it("agrees with hyperfine's own test cases", () => {
    expect(outliers([])).toEqual([]);
    expect(outliers([50])).toEqual([]);
    expect(outliers([1000, 0])).toEqual([]);
    expect(outliers([-0.2, 0.0, 0.2])).toEqual([]);
    expect(outliers([-0.2, 0.0, 0.2, 4.0])).toEqual([3]);
    expect(outliers([0.5, 0.3, 0.29, 0.31, 0.3])).toEqual([0]);
    const normal = [2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273];
    const more = [-1.0712388, -0.96394741, -1.15897446, 1.10976285];
    expect(outliers([...normal, ...more])).toEqual([]);
    expect(outliers([...normal, ...more, 20.0, -500.0])).toEqual([10, 11]);
  });

  it('does not divide by a MAD of 0: any value off the median is an outlier', () => {
    expect(outliers([10, 10, 10, 10, 10, 10, 10, 100])).toEqual([7]);
    expect(outliers([10, 10, 10, 10, 10, 10, 10, 100, 100])).toEqual([7, 8]);
    expect(outliers([3, 3, 3])).toEqual([]);
  });
});

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000 reversed
    expect(percentiles(values)).toEqual({ p50: 500, p90: 900, p99: 990, p999: 999, max: 1000 });
    expect(percentiles([7, 3])).toEqual({ p50: 3, p90: 7, p99: 7, p999: 7, max: 7 });
    expect(percentiles([4])).toEqual({ p50: 4, p90: 4, p99: 4, p999: 4, max: 4 });
  });

  it('gets 99.9% of 100,000 values at rank 99,900, not 99,901', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => i + 1);
    expect(percentiles(values).p999).toBe(99_900);
  });

  it('takes the median of each percentile over runs, and the largest max', () => {
    const runs = [
      { p50: 1, p90: 5, p99: 9, p999: 20, max: 30 },
      { p50: 3, p90: 4, p99: 10, p999: 25, max: 90 },
      { p50: 2, p90: 6, p99: 50, p999: 21, max: 31 },
    ];
    expect(medianPercentiles(runs)).toEqual({ p50: 2, p90: 5, p99: 10, p999: 21, max: 90 });
    expect(() => medianPercentiles([])).toThrow(RangeError);
    expect(median([])).toBeNaN();
  });
});

describe('spreadWarning', () => {
  const stats = (median: number, min: number, max: number, ci: [number, number] = [min, max]) => ({
    median,
    mean: median,
    stddev: 0,
    min,
    max,
    ci95: ci,
  });

  it('says nothing of tight runs', () => {
    expect(spreadWarning(stats(1, 0.95, 1.1, [0.97, 1.05]), 0, 10)).toBeUndefined();
  });

  it('warns of outliers as hyperfine does', () => {
    expect(spreadWarning(stats(1, 0.95, 1.1, [0.97, 1.05]), 1, 10)).toMatch(
      /^Statistical outliers were detected \(1 of 10 runs\)/,
    );
  });

  it('warns of a wide spread and of a wide CI, in one sentence', () => {
    const warning = spreadWarning(stats(1, 0.9, 1.6, [0.95, 1.3]), 0, 10);
    expect(warning).toBe(
      "The runs spread over 70% of the median; the median's 95% CI reaches -5%/+30%: " +
        'consider re-running on a quiet system, or with more --runs.',
    );
    expect(spreadWarning(stats(1, 0.75, 1.05, [0.75, 1.05]), 0, 4)).toMatch(/CI reaches -25%\/\+5%/);
  });

  it('does not divide by a median of 0', () => {
    expect(spreadWarning(stats(0, 0, 0), 0, 3)).toBeUndefined();
  });
});

describe('cellFigures', () => {
  it('gives files/s, MiB/s and IOPS from the median time', () => {
    const figures = cellFigures({ files: 20_000, bytes: 80 * 1024 ** 2, seconds: 2, ioPerFile: 2 });
    expect(figures).toEqual({ filesPerSecond: 10_000, mibPerSecond: 40, iops: 20_000 });
    expect(cellFigures({ files: 1, bytes: 1, seconds: 0, ioPerFile: 1 })).toEqual({
      filesPerSecond: 0,
      mibPerSecond: 0,
      iops: 0,
    });
  });

  it('counts a read per file, and a write when the work writes', () => {
    expect(operationsPerFile({ kind: 'globpipe', work: 'read' })).toBe(1);
    expect(operationsPerFile({ kind: 'globpipe', work: 'fsync' })).toBe(2);
    expect(operationsPerFile({ kind: 'sync-loop', work: 'read' })).toBe(2);
    expect(operationsPerFile({ kind: 'overhead', work: 'copy' })).toBe(0);
  });
});
