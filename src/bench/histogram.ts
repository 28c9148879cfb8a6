import type { Percentiles } from './types.js';

/**
 * Per-file latencies of a run of millions of files in bounded memory: a log-bucketed
 * histogram (as DDSketch), every value within 2% of the value that stands for its bucket.
 * A child process fills one and hands it to its parent as JSON.
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

/** The largest relative error of a value read back from its bucket. */
export const RELATIVE_ERROR = 0.02;
/** Each bucket's upper bound is GAMMA times its lower: (1 + e) / (1 - e), so its midpoint is within e of both. */
const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);
/** 0.1 µs: nothing that opens a file is faster; this and below (0, negatives from a clock step) share bucket 0. */
const MIN_MS = 1e-4;
/** 10^8 ms, 28 hours: any longer is counted in the top bucket (the exact max is still kept). */
const MAX_MS = 1e8;
/** 692 buckets: 5.5 KB of counts, whatever the number of files. */
const BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_GAMMA) + 1;

/** Bucket i > 0 holds (MIN·γ^(i-1), MIN·γ^i]. */
function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GAMMA));
}

/** The value that stands for bucket i: 2·MIN·γ^i / (γ + 1), within RELATIVE_ERROR of both bounds. */
function bucketValue(bucket: number): number {
  return bucket === 0 ? MIN_MS : (2 * MIN_MS * GAMMA ** bucket) / (GAMMA + 1);
}

/** What a histogram sends across a process boundary: the non-empty buckets as [index, count]. */
export interface LatencyHistogramJSON {
  readonly buckets: readonly (readonly [number, number])[];
  readonly max: number;
  readonly count: number;
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #max = 0;

  /** One file's latency in milliseconds; 0 or less (or NaN) counts in the lowest bucket. */
  add(ms: number): void {
    const bucket = bucketOf(ms);
    this.#counts[bucket] = (this.#counts[bucket] as number) + 1;
    this.#count += 1;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** Another run's (a worker's) latencies added to these. */
  merge(other: LatencyHistogram): void {
    other.#counts.forEach((count, index) => {
      this.#counts[index] = (this.#counts[index] as number) + count;
    });
    this.#count += other.#count;
    this.#max = Math.max(this.#max, other.#max);
  }

  /**
   * Nearest-rank percentiles, each within 2% of the exact one (never above the exact max,
   * which is kept as it was added). Throws a RangeError when nothing was added.
   */
  percentiles(): Percentiles {
    if (this.#count === 0) throw new RangeError('percentiles: no values');
    const ranks = [PER_MILLE.p50, PER_MILLE.p90, PER_MILLE.p99, PER_MILLE.p999].map((perMille) =>
      nearestRank(perMille, this.#count),
    );
    const found: number[] = [];
    let seen = 0;
    for (let i = 0; i < BUCKETS && found.length < ranks.length; i += 1) {
      seen += this.#counts[i] as number;
      while (found.length < ranks.length && seen >= (ranks[found.length] as number)) {
        found.push(Math.min(bucketValue(i), this.#max));
      }
    }
    const [p50, p90, p99, p999] = found as [number, number, number, number];
    return { p50, p90, p99, p999, max: this.#max };
  }

  toJSON(): LatencyHistogramJSON {
    const buckets: [number, number][] = [];
    this.#counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return { buckets, max: this.#max, count: this.#count };
  }

  /** A histogram back from toJSON(); a TypeError names what is wrong with anything else. */
  static fromJSON(json: unknown): LatencyHistogram {
    const data = json as Partial<LatencyHistogramJSON> | null;
    const fail = (why: string): never => {
      throw new TypeError(`not a latency histogram: ${why}`);
    };
    if (typeof data !== 'object' || data === null || !Array.isArray(data.buckets)) fail('no buckets');
    const { buckets, max, count } = data as LatencyHistogramJSON;
    if (typeof max !== 'number' || !(max >= 0)) fail(`max ${String(max)}`);
    const histogram = new LatencyHistogram();
    for (const pair of buckets) {
      const [index, n] = Array.isArray(pair) ? pair : [];
      if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= BUCKETS) {
        fail(`bucket ${JSON.stringify(pair)}`);
      }
      if (!Number.isInteger(n) || (n as number) <= 0) fail(`count in bucket ${JSON.stringify(pair)}`);
      histogram.#counts[index as number] = (histogram.#counts[index as number] as number) + (n as number);
      histogram.#count += n as number;
    }
    if (histogram.#count !== count) fail(`count ${String(count)}, buckets hold ${histogram.#count}`);
    histogram.#max = max;
    return histogram;
  }
}
