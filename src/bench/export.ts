import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { GlobpipeError } from '../errors.js';
import { tempPathFor } from '../io/atomic.js';
import { toMarkdown } from './markdown.js';
import { toSVG } from './svg.js';
import type { BenchReport, CellResult, Percentiles, RunSample, SizeBucket } from './types.js';

/**
 * bench's exports. `--export-json` is hyperfine's JSON (a top-level `results`, one per
 * cell, with hyperfine's fields, so its scripts plot and compare our cells) with globpipe's
 * own figures beside them under `globpipe` keys; docs/bench-schema.json describes it. The
 * renderers are pure; writeExports writes each file atomically.
 */

export { toMarkdown } from './markdown.js';
export { toSVG } from './svg.js';

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

/** A CSV field as RFC 4180 quotes it: in double quotes, inner ones doubled, when it holds `,`, `"` or a line break. */
export function csvField(value: string | number | boolean | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** hyperfine's columns, in its order; then its `parameter_<name>` columns. */
const HYPERFINE_COLUMNS = ['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max'];
const PARAMETERS = ['concurrency', 'cache', 'read', 'work', 'threadpool'] as const;

/**
 * One row per cell: hyperfine's CSV columns first (a script reading hyperfine's CSV reads
 * this), its parameter columns, then globpipe's figures (latency in ms, rates per second).
 */
export function toCSV(report: BenchReport): string {
  const header = [
    ...HYPERFINE_COLUMNS,
    ...PARAMETERS.map((name) => `parameter_${name}`),
    ...['id', 'label', 'kind', 'runs', 'ci95_low', 'ci95_high', 'files_per_second', 'mib_per_second', 'iops'],
    ...['latency_p50_ms', 'latency_p90_ms', 'latency_p99_ms', 'latency_p999_ms', 'latency_max_ms'],
    ...['peak_rss_bytes', 'verified', 'outliers', 'baseline_median', 'baseline_change', 'warnings'],
  ];
  const rows = toJSON(report).results.map((result) => {
    const own = result.globpipe;
    const latency = own.latency;
    return [
      ...[result.command, result.mean, result.stddev, result.median, result.user, result.system],
      ...[result.min, result.max],
      ...PARAMETERS.map((name) => result.parameters[name]),
      ...[own.id, own.label, own.kind, own.runs.length, own.ci95[0], own.ci95[1]],
      ...[own.filesPerSecond, own.mibPerSecond, own.iops],
      ...[latency?.p50, latency?.p90, latency?.p99, latency?.p999, latency?.max],
      ...[own.peakRssBytes, own.verified, own.outliers.length, own.baseline?.median, own.baseline?.change],
      own.warnings.join(' '),
    ];
  });
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\n`).join('');
}

/** Where writeExports writes each format; each one left out is not rendered. */
export interface ExportPaths {
  readonly json?: string | undefined;
  readonly markdown?: string | undefined;
  readonly csv?: string | undefined;
  readonly svg?: string | undefined;
}

/** `text` at `path`, whole or not at all: written to a temp beside it, then renamed over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new GlobpipeError('EWRITE', `cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
      path,
    });
  }
}

/** Renders and writes each asked-for export (all rendered first: a chart that fails leaves no file half done). */
export async function writeExports(report: BenchReport, paths: ExportPaths): Promise<void> {
  const files: [string, string][] = [];
  if (paths.json !== undefined) files.push([paths.json, `${JSON.stringify(toJSON(report), null, 2)}\n`]);
  if (paths.markdown !== undefined) files.push([paths.markdown, toMarkdown(report)]);
  if (paths.csv !== undefined) files.push([paths.csv, toCSV(report)]);
  if (paths.svg !== undefined) files.push([paths.svg, await toSVG(report)]);
  for (const [path, text] of files) await writeAtomically(path, text);
}

function baselineError(path: string, why: string, cause?: unknown): GlobpipeError {
  return new GlobpipeError('EUSAGE', `--baseline ${path}: ${why}`, { cause });
}

/**
 * An earlier export's medians (seconds) by cell id: ours (`--export-json` of globpipe
 * bench), or hyperfine's JSON keyed by `command`. The first result of a key counts.
 * A missing, unreadable or foreign file rejects with EUSAGE, naming the path and cause.
 */
export async function readBaseline(path: string): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw baselineError(path, `cannot read it: ${(error as Error).message}`, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw baselineError(path, `not JSON: ${(error as Error).message}`, error);
  }
  const results = (data as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) {
    throw baselineError(
      path,
      'no `results` list: expected an --export-json file of globpipe bench or hyperfine',
    );
  }
  const medians = new Map<string, number>();
  results.forEach((entry: unknown, index) => {
    const result = (entry ?? {}) as { command?: unknown; median?: unknown; globpipe?: { id?: unknown } };
    const key = typeof result.globpipe?.id === 'string' ? result.globpipe.id : result.command;
    if (typeof key !== 'string') throw baselineError(path, `results[${index}] has no cell id or command`);
    if (typeof result.median !== 'number' || !(result.median > 0)) {
      throw baselineError(path, `results[${index}] (${key}) has no median time`);
    }
    if (!medians.has(key)) medians.set(key, result.median);
  });
  return medians;
}

/** A cell's baseline from readBaseline's map, by its id, else by its command; change 0.1 = 10% slower. */
export function baselineFor(
  result: Pick<CellResult, 'cell' | 'wall'>,
  baseline: ReadonlyMap<string, number>,
): { readonly median: number; readonly change: number } | undefined {
  const median = baseline.get(result.cell.id) ?? baseline.get(result.cell.command);
  return median === undefined ? undefined : { median, change: result.wall.median / median - 1 };
}
