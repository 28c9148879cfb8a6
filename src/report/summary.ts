import type { Failure, FileResult, Latency, SkipReason, Summary } from '../types.js';

/** Paths kept per skip reason. */
const SKIP_PATHS = 5;

/** Accumulates file results into the run's summary; pure, so it is tested on its own. */
export class SummaryBuilder {
  matched = 0;
  written = 0;
  skipped = 0;
  failed = 0;
  /** Directories the glob could not walk: failures that are no matched file's. */
  failedDirectories = 0;
  outputs = 0;
  /** Files planned by a dry run. */
  planned = 0;
  /** Files read and transformed, their outputs dropped (`discard`). */
  discarded = 0;
  /** Each file's milliseconds, for the latency percentiles: 8 bytes a file, a million files 8 MB. */
  #ms = new Float64Array(1024);
  #timed = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly failures: Failure[] = [];
  readonly directoryFailures: Failure[] = [];
  readonly #skips = new Grouped();
  /** Outputs dropped by `minRatio`, by reason. */
  readonly #dropped = new Grouped();
  originalsDeleted = 0;
  readonly #kept = new Grouped();

  add(result: FileResult): void {
    switch (result.status) {
      case 'written':
        this.written += 1;
        this.outputs += result.outputs.length;
        break;
      case 'planned':
        this.planned += 1;
        this.outputs += result.outputs.length;
        break;
      case 'discarded':
        this.discarded += 1;
        break;
      case 'skipped': {
        this.skipped += 1;
        this.#skips.add(result.reason ?? 'skipped', result.input);
        break;
      }
      case 'failed':
        this.failed += 1;
        this.failures.push({
          path: result.input,
          code: result.error?.code ?? 'EREAD',
          message: result.error?.message ?? 'failed, with no reason given',
        });
        break;
    }
    for (const { output, reason } of result.dropped ?? []) this.#dropped.add(reason, output);
    if (result.original?.deleted === true) this.originalsDeleted += 1;
    else if (result.original !== undefined) this.#kept.add(result.original.reason, result.input);
    this.bytesIn += result.bytesIn;
    this.bytesOut += result.bytesOut;
    if (result.status === 'written' || result.status === 'discarded') this.#time(result.ms);
  }

  #time(ms: number): void {
    if (this.#timed === this.#ms.length) {
      const grown = new Float64Array(this.#ms.length * 2);
      grown.set(this.#ms);
      this.#ms = grown;
    }
    this.#ms[this.#timed++] = ms;
  }

  /** Nearest-rank percentiles of the files written (or discarded); undefined when there are none. */
  latency(): Latency | undefined {
    if (this.#timed === 0) return undefined;
    const sorted = this.#ms.slice(0, this.#timed).sort();
    // Per mille, in integers: 99.9% of 100,000 is rank 99,900 (0.999 × 100000 is 99900.00000000001).
    const at = (perMille: number) =>
      round(sorted[Math.max(0, Math.ceil((perMille * sorted.length) / 1000) - 1)] as number, 3);
    return { p50: at(500), p90: at(900), p99: at(990), p999: at(999), max: at(1000) };
  }

  /**
   * A failure that belongs to no matched file: a directory the glob could not read, or a
   * symlinked directory that loops. Counted apart from the files, so that the files add up.
   */
  addFailure(failure: Failure): void {
    this.failedDirectories += 1;
    this.directoryFailures.push(failure);
  }

  build(fields: {
    cwd: string;
    out: string;
    elapsedMs: number;
    concurrency: number;
    dryRun: boolean;
    interrupted: boolean;
  }): Summary {
    const seconds = fields.elapsedMs / 1000;
    const done = this.written + this.planned + this.skipped + this.failed + this.discarded;
    return {
      cwd: fields.cwd,
      out: fields.out,
      matched: this.matched,
      written: this.written,
      discarded: this.discarded,
      planned: this.planned,
      skipped: this.skipped,
      failed: this.failed,
      // Matches the run never finished: it was interrupted, stopped by the error policy, or its glob failed.
      notProcessed: Math.max(0, this.matched - done),
      failedDirectories: this.failedDirectories,
      outputs: this.outputs,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      elapsedSeconds: round(seconds, 3),
      filesPerSecond: seconds > 0 ? round(done / seconds, 1) : 0,
      mbPerSecond: seconds > 0 ? round(this.bytesIn / 1e6 / seconds, 2) : 0,
      mibPerSecond: seconds > 0 ? round(this.bytesIn / 2 ** 20 / seconds, 2) : 0,
      latencyMs: this.latency(),
      concurrency: fields.concurrency,
      dryRun: fields.dryRun,
      interrupted: fields.interrupted,
      failures: byPath(this.failures),
      directoryFailures: byPath(this.directoryFailures),
      skips: this.#skips.list(),
      dropped: this.#dropped.list(),
      originalsDeleted: this.originalsDeleted,
      originalsKept: this.#kept.list(),
    };
  }
}

/** Paths by reason: each reason once, with how many and the first few paths. */
class Grouped {
  readonly #groups = new Map<string, { count: number; paths: string[] }>();

  add(reason: string, path: string): void {
    const group = this.#groups.get(reason) ?? { count: 0, paths: [] };
    group.count += 1;
    if (group.paths.length < SKIP_PATHS) group.paths.push(path);
    this.#groups.set(reason, group);
  }

  list(): SkipReason[] {
    return [...this.#groups].map(([reason, { count, paths }]) => ({
      reason,
      count,
      paths: [...paths].sort(),
    }));
  }
}

function byPath(failures: readonly Failure[]): Failure[] {
  return [...failures].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
