import type { BenchReport, CellResult, Percentiles, RunSample, SizeBucket } from './types.js';

/**
 * `--export-json`: hyperfine's JSON (a top-level `results`, one per cell, with hyperfine's
 * fields, so its scripts plot and compare our cells) with globpipe's own figures beside them
 * under `globpipe` keys; docs/bench-schema.json describes it. Pure: the report in, plain
 * JSON values out.
 */

/** The cell's settings as hyperfine's `parameters` (strings): `{ concurrency: '64', cache: 'cold', … }`. */
export interface ParametersJSON {
  readonly concurrency: string;
  readonly cache: string;
  readonly read: string;
  readonly work: string;
  /** The pool the runs got: the cell's own, else the machine's default. */
  readonly threadpool: string;
}

export type RunSampleJSON = Omit<RunSample, 'latency' | 'residentBytes'> & {
  readonly latency: Percentiles | null;
  readonly residentBytes: number | null;
};

export interface ResultJSON {
  readonly command: string;
  readonly mean: number;
  readonly stddev: number;
  readonly median: number;
  readonly user: number;
  readonly system: number;
  readonly min: number;
  readonly max: number;
  readonly times: readonly number[];
  /** Each run's peak RSS, as hyperfine's field of that name. */
  readonly memory_usage_byte: readonly number[];
  readonly exit_codes: readonly number[];
  readonly parameters: ParametersJSON;
  readonly globpipe: {
    readonly id: string;
    readonly label: string;
    readonly kind: string;
    readonly prepare: string;
    /** As the cell set it; null: globpipe's own choice (`parameters.threadpool` shows what that was). */
    readonly threadpool: number | null;
    readonly ci95: readonly [number, number];
    readonly filesPerSecond: number;
    readonly mibPerSecond: number;
    readonly iops: number;
    readonly latency: Percentiles | null;
    readonly userSeconds: number;
    readonly systemSeconds: number;
    readonly peakRssBytes: number;
    readonly verified: boolean;
    readonly outliers: readonly number[];
    readonly warnings: readonly string[];
    readonly baseline: { readonly median: number; readonly change: number } | null;
    readonly runs: readonly RunSampleJSON[];
  };
}

export interface BenchJSON {
  readonly results: readonly ResultJSON[];
  readonly globpipe: Omit<BenchReport, 'cells' | 'dataset' | 'cold' | 'fio'> & {
    readonly dataset: Omit<BenchReport['dataset'], 'histogram'> & {
      /** `to` is null for the last bucket (no upper bound; JSON has no Infinity). */
      readonly histogram: readonly (Omit<SizeBucket, 'to'> & { readonly to: number | null })[];
    };
    readonly cold: { readonly name: string; readonly command: string; readonly note: string | null };
    readonly fio:
      | (Omit<NonNullable<BenchReport['fio']>, 'sequentialRead'> & {
          readonly sequentialRead: { readonly file: string; readonly mibPerSecond: number } | null;
        })
      | null;
  };
}

function resultJSON(result: CellResult, defaultPool: number): ResultJSON {
  const { cell, wall } = result;
  return {
    command: cell.command,
    mean: wall.mean,
    stddev: wall.stddev,
    median: wall.median,
    user: result.userSeconds,
    system: result.systemSeconds,
    min: wall.min,
    max: wall.max,
    times: result.runs.map((run) => run.wallSeconds),
    memory_usage_byte: result.runs.map((run) => run.peakRssBytes),
    exit_codes: result.runs.map((run) => run.exitCode),
    parameters: {
      concurrency: String(cell.concurrency),
      cache: cell.cache,
      read: cell.read,
      work: cell.work,
      threadpool: String(cell.threadpool ?? defaultPool),
    },
    globpipe: {
      id: cell.id,
      label: cell.label,
      kind: cell.kind,
      prepare: cell.prepare,
      threadpool: cell.threadpool ?? null,
      ci95: [wall.ci95[0], wall.ci95[1]],
      filesPerSecond: result.filesPerSecond,
      mibPerSecond: result.mibPerSecond,
      iops: result.iops,
      latency: result.latency ?? null,
      userSeconds: result.userSeconds,
      systemSeconds: result.systemSeconds,
      peakRssBytes: result.peakRssBytes,
      verified: result.verified,
      outliers: [...result.outliers],
      warnings: [...result.warnings],
      baseline: result.baseline ?? null,
      runs: result.runs.map((run) => ({
        ...run,
        latency: run.latency ?? null,
        residentBytes: run.residentBytes ?? null,
      })),
    },
  };
}

/** The report as `--export-json` writes it: plain JSON values only (no undefined, no Infinity). */
export function toJSON(report: BenchReport): BenchJSON {
  const { cells, dataset, cold, fio, ...rest } = report;
  return {
    results: cells.map((result) => resultJSON(result, report.machine.threadpool)),
    globpipe: {
      ...rest,
      dataset: {
        ...dataset,
        histogram: dataset.histogram.map((bucket) => ({
          ...bucket,
          to: Number.isFinite(bucket.to) ? bucket.to : null,
        })),
      },
      cold: { name: cold.name, command: cold.command, note: cold.note ?? null },
      fio: fio === undefined ? null : { ...fio, sequentialRead: fio.sequentialRead ?? null },
    },
  };
}
