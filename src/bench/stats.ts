import type { Cell, Percentiles, Stats } from './types.js';

/**
 * The statistics bench reports over a cell's runs. Pure functions: the runner measures,
 * this computes. Run counts are small (tens), so every function sorts a copy and is exact.
 */

/**
 * The 1-based nearest rank of the percentile `perMille`/1000 among `count` values: the
 * smallest rank with that share of the values at or below it. In integers, so 99.9% of
 * 100,000 is rank 99,900 (0.999 × 100000 in floating point is 99900.00000000001).
 */
export function nearestRank(perMille: number, count: number): number {
  return Math.min(count, Math.max(1, Math.ceil((perMille * count) / 1000)));
}

/** The per-mille of each field of Percentiles but max. */
export const PER_MILLE = { p50: 500, p90: 900, p99: 990, p999: 999 } as const;

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The middle value, or the mean of the two middle ones (as hyperfine's `median`). */
function medianOfSorted(values: readonly number[]): number {
  const half = values.length >> 1;
  return values.length % 2 === 1
    ? (values[half] as number)
    : ((values[half - 1] as number) + (values[half] as number)) / 2;
}

/** The median of any order of values; NaN for none. */
export function median(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : medianOfSorted(sorted(values));
}

/** Fewer runs than this cannot give a 95% interval of the median from order statistics. */
export const MIN_RUNS_FOR_CI = 6;

/**
 * The 1-based rank `j` of the median's distribution-free 95% interval [x(j), x(n+1-j)].
 * How many of n runs fall below the true median is Binomial(n, 1/2), whatever the
 * distribution of times, so the interval covers the median with probability
 * 1 - 2·P(B <= j-1). The largest j with P(B <= j-1) <= 0.025 gives the narrowest interval
 * of at least 95%: n = 6 → ranks 1 and 6 (96.9%), n = 10 → 2 and 9 (97.9%), n = 20 → 6
 * and 15 (95.9%). Undefined below 6 runs: even [min, max] covers less than 95% there
 * (n = 5: 93.8%). The binomial terms are summed in log space, so any n works.
 */
export function medianCiRank(n: number): number | undefined {
  if (n < MIN_RUNS_FOR_CI) return undefined;
  const logHalfPowN = -n * Math.LN2;
  let logChoose = 0; // ln C(n, 0)
  let cumulative = 0;
  let rank = 0;
  for (let i = 0; i < n; i += 1) {
    cumulative += Math.exp(logChoose + logHalfPowN);
    if (cumulative > 0.025) break;
    rank = i + 1;
    logChoose += Math.log((n - i) / (i + 1)); // C(n, i+1) from C(n, i)
  }
  return rank;
}

/**
 * Median, mean, sample standard deviation (n - 1; 0 for one value), min, max, and `ci95`:
 * the median's distribution-free 95% confidence interval from order statistics (see
 * `medianCiRank`). With fewer than 6 values no interval reaches 95%: `ci95` is then
 * [min, max], which covers the median less often (93.8% for 5 runs, 75% for 3).
 * Throws a RangeError for no values: a cell always has at least one run.
 */
export function summarize(values: readonly number[]): Stats {
  if (values.length === 0) throw new RangeError('summarize: no values');
  const ordered = sorted(values);
  const n = ordered.length;
  const mean = ordered.reduce((sum, value) => sum + value, 0) / n;
  const squares = ordered.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  const min = ordered[0] as number;
  const max = ordered[n - 1] as number;
  const rank = medianCiRank(n);
  const ci95: readonly [number, number] =
    rank === undefined ? [min, max] : [ordered[rank - 1] as number, ordered[n - rank] as number];
  return {
    median: medianOfSorted(ordered),
    mean,
    stddev: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    min,
    max,
    ci95,
  };
}

/**
 * hyperfine's outlier threshold (src/outlier_detection.rs): a modified z-score
 * |x - median| / MAD above 1.4826 × 10, that is, further than ten standard deviations from
 * the median, the standard deviation estimated robustly as 1.4826 × MAD (the median
 * absolute deviation). Few runs, a loose threshold: only a run something else disturbed.
 */
export const OUTLIER_THRESHOLD = 1.4826 * 10;

/**
 * Indices of the outliers among values, as hyperfine finds them. When more than half the
 * values are equal the MAD is 0; as in hyperfine it is then taken as Number.EPSILON, so
 * any value away from the median is an outlier (never a division by zero).
 */
export function outliers(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const center = median(values);
  const deviations = values.map((value) => Math.abs(value - center));
  const mad = Math.max(median(deviations), Number.EPSILON);
  const found: number[] = [];
  deviations.forEach((deviation, index) => {
    if (deviation / mad > OUTLIER_THRESHOLD) found.push(index);
  });
  return found;
}

/** p50, p90, p99, p99.9 (nearest rank: always one of the values) and max, of values in any order. Throws for none. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) throw new RangeError('percentiles: no values');
  const ordered = sorted(values);
  const at = (perMille: number) => ordered[nearestRank(perMille, ordered.length) - 1] as number;
  return {
    p50: at(PER_MILLE.p50),
    p90: at(PER_MILLE.p90),
    p99: at(PER_MILLE.p99),
    p999: at(PER_MILLE.p999),
    max: ordered[ordered.length - 1] as number,
  };
}

/**
 * A cell's latency from its runs' percentiles: the median over runs of each percentile
 * (a run disturbed once does not move it), and the largest max (the worst any file saw).
 */
export function medianPercentiles(list: readonly Percentiles[]): Percentiles {
  if (list.length === 0) throw new RangeError('medianPercentiles: no percentiles');
  const of = (field: keyof Percentiles) => median(list.map((entry) => entry[field]));
  return {
    p50: of('p50'),
    p90: of('p90'),
    p99: of('p99'),
    p999: of('p999'),
    max: Math.max(...list.map((entry) => entry.max)),
  };
}

/** Runs spread over more than this share of the median (max - min) are too noisy to compare. */
export const SPREAD_LIMIT = 0.5;
/** A 95% CI of the median reaching further than this share of it on either side is too wide. */
export const CI_LIMIT = 0.2;

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/**
 * One sentence when a cell's figures should not be trusted, else undefined. Three signs, any
 * of them enough: outliers (as hyperfine warns: something else ran); a min-max spread over
 * 50% of the median (the runs disagree: 1.0 s against 1.6 s); a 95% CI of the median
 * reaching over 20% of it on either side (the median itself is uncertain; with fewer than 6
 * runs the CI is min-max, so a wide spread shows here too). A median of 0 checks outliers only.
 * `Statistical outliers were detected (1 of 10 runs); the runs spread over 64% of the median:
 * consider re-running on a quiet system, or with more --runs.`
 */
export function spreadWarning(stats: Stats, outliersCount: number, runs: number): string | undefined {
  const signs: string[] = [];
  if (outliersCount > 0) {
    signs.push(`Statistical outliers were detected (${outliersCount} of ${runs} runs)`);
  }
  if (stats.median > 0) {
    const spread = (stats.max - stats.min) / stats.median;
    if (spread > SPREAD_LIMIT) signs.push(`the runs spread over ${percent(spread)} of the median`);
    const below = (stats.median - stats.ci95[0]) / stats.median;
    const above = (stats.ci95[1] - stats.median) / stats.median;
    if (Math.max(below, above) > CI_LIMIT) {
      signs.push(`the median's 95% CI reaches -${percent(below)}/+${percent(above)}`);
    }
  }
  if (signs.length === 0) return undefined;
  const first = signs[0] as string;
  const sentence = [first.charAt(0).toUpperCase() + first.slice(1), ...signs.slice(1)].join('; ');
  return `${sentence}: consider re-running on a quiet system, or with more --runs.`;
}

/**
 * Operations per file for IOPS: one read, plus one write when the work writes (copy,
 * transform, fsync; the fsync itself is not counted) or the cell is the sync loop; none for
 * the overhead cell, which opens no file.
 */
export function operationsPerFile(cell: Pick<Cell, 'kind' | 'work'>): number {
  if (cell.kind === 'overhead') return 0;
  if (cell.kind === 'sync-loop') return 2;
  return cell.work === 'read' ? 1 : 2;
}

export interface CellFigures {
  readonly filesPerSecond: number;
  readonly mibPerSecond: number;
  readonly iops: number;
}

/**
 * A cell's rates from its median wall time: whole-process time, start included, so a short
 * run's rates are those a user gets, not the pipeline's alone. All 0 for no time at all.
 */
export function cellFigures(figures: {
  readonly files: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly ioPerFile: number;
}): CellFigures {
  const { files, bytes, seconds, ioPerFile } = figures;
  if (!(seconds > 0)) return { filesPerSecond: 0, mibPerSecond: 0, iops: 0 };
  return {
    filesPerSecond: files / seconds,
    mibPerSecond: bytes / 1024 ** 2 / seconds,
    iops: (files * ioPerFile) / seconds,
  };
}
