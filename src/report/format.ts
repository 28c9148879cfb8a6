import { join } from 'node:path';
import type { Failure, FileResult, SkipReason, Summary } from '../types.js';

const cEscapes: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r' };

function octal(byte: number): string {
  return `\\${byte.toString(8).padStart(3, '0')}`;
}

/**
 * A file name (or a message that holds one) made safe for one line of a terminal, as
 * `ls -b` shows it: `a<LF>b` -> `a\nb`, `<ESC>[31m` -> `\033[31m`, `a\b` -> `a\\b`.
 * C0 controls and DEL are escaped, C1 controls (U+0080–U+009F) as their UTF-8 bytes
 * (U+0085 -> `\302\205`), and a lone surrogate U+DC80–U+DCFF, which stands for the raw
 * byte 0x80–0xFF of a name that is not UTF-8, as that byte (U+DCFF -> `\377`): so a
 * raw byte and a C1 character never look alike. `--json` output is not escaped this way.
 */
export function escapeName(name: string): string {
  let escaped = '';
  let from = 0;
  for (let i = 0; i < name.length; i += 1) {
    const unit = name.charCodeAt(i);
    let replacement: string | undefined;
    if (unit < 0x20 || unit === 0x7f) replacement = cEscapes[unit] ?? octal(unit);
    else if (unit === 0x5c) replacement = '\\\\';
    else if (unit >= 0x80 && unit <= 0x9f) replacement = octal(0xc2) + octal(unit);
    else if (unit >= 0xdc80 && unit <= 0xdcff) {
      // A low surrogate after a high one is half of a real character, not a raw byte.
      const before = i > 0 ? name.charCodeAt(i - 1) : 0;
      if (before < 0xd800 || before > 0xdbff) replacement = octal(unit - 0xdc00);
    }
    if (replacement === undefined) continue;
    escaped += name.slice(from, i) + replacement;
    from = i + 1;
  }
  return from === 0 ? name : escaped + name.slice(from);
}

/** Failed files shown one line each as they fail; past this many, the rest only at the end, grouped by cause. */
export const STREAMED_FAILURES = 10;
/** Paths shown for a group of failures or skips. */
const EXAMPLES = 3;
/** Lines of failure groups at the end, at most: the rest are summed up in one more line. */
const GROUP_LINES = 20;

/** `4,998`: thousands grouped, the same in every locale. */
export function formatCount(count: number): string {
  return String(Math.round(count)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1 file`, `4,998 files`. */
export function countOf(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

const IEC = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Bytes in IEC units, each 1024 of the one before: `12 B`, `1.5 KiB` (1,536 bytes),
 * `118 MiB`, `4.5 TiB`. The unit moves up where its figure would round to 1024.
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = -1;
  while (unit < IEC.length - 1 && Math.round(value) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  if (unit < 0) return `${Math.round(value)} B`;
  return `${value < 99.95 ? value.toFixed(1) : value.toFixed(0)} ${IEC[unit]}`;
}

/** Bytes per second in IEC units: `25.8 KiB/s`, `1.4 GiB/s`; `0 B/s` for no time at all. */
export function formatRate(bytes: number, seconds: number): string {
  return `${formatBytes(Math.round(seconds > 0 ? bytes / seconds : 0))}/s`;
}

/** `0.7`, `45`, `16,129` (files per second). */
function formatPerSecond(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : formatCount(perSecond);
}

/** `1.23 s`, `2m05s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

/**
 * What a brief summary folds into its line (report/brief.ts): why files were skipped, after
 * the skipped count (`12 smaller than 1 KiB, 1 not worth compressing`), and counts that follow
 * the failed one (`1 output dropped`).
 */
export interface Folded {
  readonly skipped: string;
  readonly counts: readonly string[];
}

/**
 * The summary line: every matched file counted once (written, skipped, failed, and those an
 * interrupted or stopped run never finished); directories the glob could not walk apart.
 * `globpipe: 12 matched, 11 written, 0 skipped, 1 failed | 47.1 KiB -> 8.9 KiB | 0.05 s, 240 files/s, 942 KiB/s | -j 4`
 * A dry run reads and writes nothing, so it has no bytes and no rates:
 * `globpipe: dry run: 1 matched, 1 output planned, 0 skipped, 0 failed | 0.01 s | -j 64`
 * With `--discard`: `globpipe: 200 matched, 200 read and discarded, 0 skipped, 0 failed | …`
 * One shard of a run (`--shard 2/4`): `globpipe: shard 2/4: 3 matched, 3 written, 0 skipped, 0 failed | …`
 */
export function formatHead(summary: Summary, folded?: Folded): string {
  const states = [
    summary.shard === undefined ? '' : `shard ${summary.shard.index}/${summary.shard.count}`,
    summary.dryRun ? 'dry run' : '',
    summary.interrupted ? 'interrupted' : '',
  ].filter(Boolean);
  const done = summary.dryRun
    ? `${countOf(summary.outputs, 'output', 'outputs')} planned${summary.outputs === summary.planned ? '' : ` (${countOf(summary.planned, 'file', 'files')})`}`
    : summary.discarded > 0
      ? `${formatCount(summary.discarded)} read and discarded`
      : `${formatCount(summary.written)} written`;
  const counts = [
    `${formatCount(summary.matched)} matched`,
    done,
    `${formatCount(summary.skipped)} skipped${folded?.skipped ? ` (${folded.skipped})` : ''}`,
    `${formatCount(summary.failed)} failed`,
    ...(summary.originalsDeleted > 0
      ? [`${countOf(summary.originalsDeleted, 'original', 'originals')} deleted`]
      : []),
    ...(summary.notProcessed > 0 ? [`${formatCount(summary.notProcessed)} not processed`] : []),
    ...(folded?.counts ?? []),
  ].join(', ');
  const seconds = formatSeconds(summary.elapsedSeconds);
  const parts = [
    `globpipe: ${states.map((state) => `${state}: `).join('')}${counts}`,
    ...(summary.failedDirectories > 0
      ? [`${countOf(summary.failedDirectories, 'directory', 'directories')} failed`]
      : []),
    ...(summary.dryRun
      ? [seconds]
      : [
          `${formatBytes(summary.bytesIn)} -> ${formatBytes(summary.bytesOut)}`,
          `${seconds}, ${formatPerSecond(summary.filesPerSecond)} files/s, ${formatRate(summary.bytesIn, summary.elapsedSeconds)}`,
        ]),
    `-j ${summary.concurrency}`,
  ];
  return parts.join(' | ');
}

/**
 * What the end of a run prints, the summary line last so that it never scrolls away: the
 * skips grouped by reason, the failures (unless all of them were `shown` one by one as they
 * happened: then they stand just above), the directories the glob could not walk, then the line.
 */
export function formatSummary(summary: Summary, shown = 0): string {
  return [
    ...formatSkips(summary),
    ...formatIncremental(summary),
    ...formatProblems(summary, shown),
    formatHead(summary),
  ].join('\n');
}

/**
 * An incremental run's notices, and each stale output removed or kept:
 * `  notice: the pipeline changed since the last run: every file is processed`,
 * `  removed: old.js.gz (its input is gone)`, `  kept: old.css.gz: changed since globpipe wrote it: kept`.
 */
export function formatIncremental(summary: Summary): string[] {
  const { incremental } = summary;
  if (incremental === undefined) return [];
  return [
    ...formatNotices(summary),
    ...incremental.removed.map((path) => `  removed: ${escapeName(path)} (its input is gone)`),
    ...incremental.kept.map((kept) => `  kept: ${escapeName(kept.path)}: ${escapeName(kept.reason)}`),
  ];
}

/** An incremental run's notices, which ask for action (a manifest not trusted): a line each, in every mode. */
export function formatNotices(summary: Summary): string[] {
  return (summary.incremental?.notices ?? []).map((notice) => `  notice: ${escapeName(notice)}`);
}

/**
 * The failures, for the end of a run (what `--quiet` prints there): every failed file grouped by
 * cause, unless all of them were `shown` one by one as they happened; every failed directory.
 */
export function formatProblems(summary: Summary, shown = 0): string[] {
  const files = summary.failed > shown ? formatFailureGroups(summary.failures) : [];
  const dirs = summary.directoryFailures.map(
    (failure) => `  failed directory: ${escapeName(failure.path)}: ${escapeName(failure.message)}`,
  );
  return [...files, ...dirs];
}

/** A failed file as one line, as it is shown when it fails: `  failed: docs/bad.gz: gunzip: incorrect header check`. */
export function formatFailure(failure: Pick<Failure, 'path' | 'message'>): string {
  return `  failed: ${escapeName(failure.path)}: ${escapeName(failure.message)}`;
}

/** The line that says failed files are no longer shown one by one. */
export const MORE_FAILURES = `  (more than ${STREAMED_FAILURES} files failed: the rest are counted, and all are grouped by cause at the end)`;

/**
 * A failure's cause without the path it names, so that files failing alike group:
 * `cannot read a.txt: EACCES: permission denied` -> `cannot read: EACCES: permission denied`.
 */
export function causeOf(failure: Failure): string {
  const { path, message } = failure;
  const read = `cannot read ${path}: `;
  if (message.startsWith(read)) return `cannot read: ${message.slice(read.length)}`;
  const write = 'cannot write ';
  // The output is named by its absolute path; one holding `: ` leaves part of it in the cause.
  const at = message.startsWith(write) ? message.indexOf(': ', write.length) : -1;
  return at < 0 ? message : `cannot write: ${message.slice(at + 2)}`;
}

interface Group {
  readonly cause: string;
  readonly first: Failure;
  count: number;
  readonly paths: string[];
}

/**
 * Failures grouped by code and cause, the largest group first: a lone one as its own line, a
 * group with its count and first paths (by path):
 * `  failed 4,998 files: cannot read: EACCES: permission denied (a.txt, b.txt, c.txt and 4,995 more)`.
 */
export function formatFailureGroups(failures: readonly Failure[]): string[] {
  const groups = new Map<string, Group>();
  for (const failure of failures) {
    const cause = causeOf(failure);
    const key = `${failure.code}\0${cause}`;
    const group = groups.get(key) ?? { cause, first: failure, count: 0, paths: [] };
    group.count += 1;
    if (group.paths.length < EXAMPLES) group.paths.push(failure.path);
    groups.set(key, group);
  }
  const sorted = [...groups.values()].sort(
    (a, b) => b.count - a.count || (a.first.path < b.first.path ? -1 : a.first.path > b.first.path ? 1 : 0),
  );
  const shown = sorted.length > GROUP_LINES ? sorted.slice(0, GROUP_LINES - 1) : sorted;
  const lines = shown.map((group) =>
    group.count === 1
      ? formatFailure(group.first)
      : `  failed ${countOf(group.count, 'file', 'files')}: ${escapeName(group.cause)} (${examples(group.paths, group.count)})`,
  );
  const rest = sorted.slice(shown.length);
  if (rest.length > 0) {
    const files = rest.reduce((sum, group) => sum + group.count, 0);
    lines.push(
      `  failed ${countOf(files, 'more file', 'more files')}, for ${countOf(rest.length, 'other cause', 'other causes')} (--json lists every failure)`,
    );
  }
  return lines;
}

/** `a.txt, b.txt`, or past the examples: `a.txt, b.txt, c.txt and 4,995 more`. */
function examples(paths: readonly string[], count: number): string {
  const listed = paths.slice(0, EXAMPLES).map(escapeName).join(', ');
  return count > EXAMPLES ? `${listed} and ${formatCount(count - EXAMPLES)} more` : listed;
}

/**
 * The skips grouped by reason: `  skipped: img.png: binary content`, or for many:
 * `  skipped 1,200 files: output exists (--skip-existing) (a.txt, b.txt, c.txt and 1,197 more)`.
 */
export function formatSkips(summary: Summary): string[] {
  return [
    ...grouped(summary.skips, 'skipped', 'file', 'files'),
    // `  dropped 2 outputs: output/input above --min-ratio 0.8 (a.png.br, b.bin.gz)`
    ...grouped(summary.dropped, 'dropped', 'output', 'outputs'),
    // `  kept: a.js: an output was dropped (a.js.gz), so not every output is there`
    ...grouped(summary.originalsKept, 'kept', 'original', 'originals'),
  ];
}

function grouped(groups: readonly SkipReason[], verb: string, one: string, many: string): string[] {
  return groups.map((group) =>
    group.count === 1
      ? `  ${verb}: ${escapeName(group.paths[0] ?? '')}: ${escapeName(group.reason)}`
      : `  ${verb} ${countOf(group.count, one, many)}: ${escapeName(group.reason)} (${examples(group.paths, group.count)})`,
  );
}

/**
 * A dry run's line for one file, its outputs by their full path under `out`:
 * `docs/a.md -> /site/docs/a.html, /site/docs/a.html.gz`.
 */
export function formatPlanned(result: FileResult, out: string): string {
  return `${escapeName(result.input)} -> ${result.outputs.map((output) => escapeName(join(out, output))).join(', ')}`;
}
