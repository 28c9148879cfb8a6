import { constants, write } from 'node:fs';
import { access, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { tempPathFor } from '../io/atomic.js';
import { toJSON } from './export-json.js';
import { toMarkdown } from './markdown.js';
import { toSVG } from './svg.js';
import type { BenchReport } from './types.js';

/**
 * bench's exports. `--export-json` is hyperfine's JSON (a top-level `results`, one per
 * cell, with hyperfine's fields, so its scripts plot and compare our cells) with globpipe's
 * own figures beside them under `globpipe` keys; docs/bench-schema.json describes it. The
 * renderers are pure; writeExports writes each file atomically.
 */

export { baselineFor, readBaseline } from './baseline.js';
export {
  type BenchJSON,
  type ParametersJSON,
  type ResultJSON,
  type RunSampleJSON,
  toJSON,
} from './export-json.js';
export { toMarkdown } from './markdown.js';
export { toSVG } from './svg.js';

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

/** Why writing failed, in words, naming no temp file: `its directory does not exist`. */
function reason(error: NodeJS.ErrnoException, temp: string, path: string): string {
  const words: Record<string, string> = {
    ENOENT: 'its directory does not exist',
    ENOTDIR: 'a part of it is not a directory',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
  };
  return words[error.code ?? ''] ?? error.message.replaceAll(temp, path);
}

/**
 * Paths that are not files to replace: a device, a FIFO, `/dev/stdout` (a link into /proc).
 * Renaming a temp over one would swap the device node for a file (as root, even /dev/null).
 */
async function isStream(path: string): Promise<boolean> {
  const absolute = resolve(path);
  if (absolute.startsWith('/dev/') || absolute.startsWith('/proc/')) return true;
  const target = await stat(path).catch(() => undefined);
  return target !== undefined && !target.isFile() && !target.isDirectory();
}

/** `/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/1`: the descriptor it names, else undefined. */
function descriptorOf(path: string): number | undefined {
  const named = /^\/dev\/(stdout|stderr)$|^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(resolve(path));
  if (named === null) return undefined;
  return named[1] === 'stdout' ? 1 : named[1] === 'stderr' ? 2 : Number(named[2]);
}

/**
 * `text` to a device or FIFO as it is. Standard output and error are written through their
 * streams, after what was printed there: opening `/dev/stdout` anew would start at offset 0
 * of a file it is redirected to, over the answer printed before.
 */
function writeStream(path: string, text: string): Promise<void> {
  const fd = descriptorOf(path);
  const stream = fd === 1 ? process.stdout : fd === 2 ? process.stderr : undefined;
  if (stream !== undefined)
    return new Promise((done, fail) => stream.write(text, (error) => (error ? fail(error) : done())));
  if (fd !== undefined)
    return new Promise((done, fail) => write(fd, text, (error) => (error ? fail(error) : done())));
  return writeFile(path, text);
}

/** Where a write to `path` lands: through symlinks, a dangling one too (as `>` writes through it). */
async function finalPath(path: string): Promise<string> {
  const real = await realpath(path).catch(() => undefined);
  if (real !== undefined) return real;
  const link = await readlink(path).catch(() => undefined);
  return link === undefined ? path : resolve(dirname(path), link);
}

/**
 * `text` at `path`, whole or not at all: written to a temp beside it, then renamed over it
 * (over the file a symlink names, which stays a link). A device or FIFO is written as it is.
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  if (await isStream(path)) {
    await writeStream(path, text).catch((error: NodeJS.ErrnoException) => {
      throw new GlobpipeError('EWRITE', `cannot write ${path}: ${reason(error, path, path)}`, {
        cause: error,
        path,
      });
    });
    return;
  }
  const real = await finalPath(path);
  const temp = tempPathFor(real);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, real);
  } catch (error) {
    await rm(temp, { force: true });
    throw new GlobpipeError('EWRITE', `cannot write ${path}: ${reason(error as Error, temp, path)}`, {
      cause: error,
      path,
    });
  }
}

/**
 * Why each export could not be written, checked before bench measures, so that a typo
 * costs no run: `--export-json out/r.json: its directory out does not exist`. `flag` names
 * each (`json` -> `--export-json` on the command line). Two exports to one path are refused.
 */
export async function exportProblems(
  paths: ExportPaths,
  flag: (key: keyof ExportPaths) => string = (key) => `\`${key}\``,
): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Map<string, keyof ExportPaths>();
  for (const key of ['json', 'markdown', 'csv', 'svg'] as const) {
    const path = paths[key];
    if (path === undefined) continue;
    const other = seen.get(resolve(path));
    if (other !== undefined) problems.push(`${flag(key)} ${path}: ${flag(other)} writes there too`);
    seen.set(resolve(path), key);
    if (await isStream(path)) continue;
    const target = await stat(path).catch(() => undefined);
    if (target?.isDirectory()) {
      problems.push(`${flag(key)} ${path}: it is a directory`);
      continue;
    }
    const dir = dirname(resolve(path));
    const why = await stat(dir)
      .then(
        (parent) =>
          parent.isDirectory() ? access(dir, constants.W_OK).then(() => undefined) : 'is not a directory',
        (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'does not exist' : error.message),
      )
      .catch(() => 'is not writable (permission denied)');
    if (why !== undefined) problems.push(`${flag(key)} ${path}: its directory ${dir} ${why}`);
  }
  return problems;
}

/**
 * Renders and writes each asked-for export (all rendered first: a chart that fails leaves no
 * file half done). One that cannot be written does not stop the others: all are tried, then
 * one EWRITE names every path that failed.
 */
export async function writeExports(report: BenchReport, paths: ExportPaths): Promise<void> {
  const files: [string, string][] = [];
  if (paths.json !== undefined) files.push([paths.json, `${JSON.stringify(toJSON(report), null, 2)}\n`]);
  if (paths.markdown !== undefined) files.push([paths.markdown, toMarkdown(report)]);
  if (paths.csv !== undefined) files.push([paths.csv, toCSV(report)]);
  if (paths.svg !== undefined) files.push([paths.svg, await toSVG(report)]);
  const failures: GlobpipeError[] = [];
  for (const [path, text] of files)
    await writeAtomically(path, text).catch((error: GlobpipeError) => failures.push(error));
  const [first] = failures;
  if (first === undefined) return;
  const written = files.length - failures.length;
  throw new GlobpipeError(
    'EWRITE',
    `${failures.map((failure) => failure.message).join('; ')}${written > 0 ? ` (the other ${written === 1 ? 'export was' : `${written} exports were`} written)` : ''}`,
    { cause: first, path: first.path },
  );
}
