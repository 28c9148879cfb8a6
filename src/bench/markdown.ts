import { formatBytes, formatCount, formatRate } from '../report/format.js';
import { MIN_RUNS_FOR_CI } from './stats.js';
import type { BenchReport, CellResult, Percentiles, SizeBucket } from './types.js';

/**
 * The report as Markdown (`--export-markdown`): what was measured on what, the answer, one
 * table row per cell, then warnings, notes, fio's figures and every cell's command. Every
 * figure carries its unit; sizes and rates in IEC units (KiB, MiB).
 */

/** `845 µs`, `12.3 ms`, `1.234 s`: three or four significant digits and a unit. */
export function formatDuration(seconds: number): string {
  const digits = (value: number) => value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
  if (seconds >= 1) return `${seconds.toFixed(seconds >= 100 ? 1 : 3)} s`;
  if (seconds >= 1e-3) return `${digits(seconds * 1e3)} ms`;
  return `${digits(seconds * 1e6)} µs`;
}

/** A per-file latency (milliseconds) with its unit. */
function latency(ms: number): string {
  return formatDuration(ms / 1e3);
}

/** `16,129 files/s`, `0.7 files/s`. */
function perSecond(count: number, unit: string): string {
  return `${count < 10 ? count.toFixed(1) : formatCount(count)} ${unit}`;
}

/** A table cell's text: a `|` would end the cell, a line break the row. */
function cellText(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

/** `text` as a code span, fenced with more backticks than it holds in a row. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function latencies(p: Percentiles | undefined): string {
  return p === undefined ? '–' : `${latency(p.p50)} / ${latency(p.p99)} / ${latency(p.p999)}`;
}

function signedPercent(change: number): string {
  return `${change >= 0 ? '+' : '−'}${Math.abs(change * 100).toFixed(1)}%`;
}

/** `4 KiB–64 KiB: 1,200 files (38.2 MiB)`; the last bucket `≥ 1.0 MiB: …`. */
function sizeBucket(bucket: SizeBucket): string {
  const range = Number.isFinite(bucket.to)
    ? `${formatBytes(bucket.from)}–${formatBytes(bucket.to)}`
    : `≥ ${formatBytes(bucket.from)}`;
  return `${range}: ${formatCount(bucket.files)} files (${formatBytes(bucket.bytes)})`;
}

function header(report: BenchReport): string[] {
  const { machine, dataset, cold } = report;
  const fs = machine.filesystem;
  const pool = `libuv pool ${machine.threadpool}`;
  return [
    '# globpipe bench',
    '',
    `**${report.answer}**`,
    '',
    `Machine: ${machine.hostname}, ${machine.cpu} (${machine.cores} cores), ${formatBytes(machine.memoryBytes)} memory; ` +
      `${machine.os} ${machine.kernel}${machine.virtualized ? ' (virtualized: cold means guest-cold)' : ''}; ` +
      `Node ${machine.node}, globpipe ${machine.globpipe}, ${pool}. ` +
      `File system: ${fs.type} on ${fs.device}, mounted at ${fs.mount}.`,
    '',
    `Dataset: ${formatCount(dataset.files)} files, ${formatBytes(dataset.bytes)} (${formatCount(dataset.bytes)} bytes) ` +
      `under ${code(dataset.root)}${dataset.patterns.length > 0 ? `, ${dataset.patterns.map(code).join(' ')}` : ''}.`,
    ...(dataset.histogram.length > 0 ? ['', `Sizes: ${dataset.histogram.map(sizeBucket).join(' · ')}.`] : []),
    '',
    `Cold cache: ${cold.name}${cold.command === '' ? '' : ` (${code(cold.command)})`}${cold.note === undefined ? '' : `; ${cold.note}`}. ` +
      `${report.runs} ${report.runs === 1 ? 'run' : 'runs'} per cell after ${report.warmup} warmup ${report.warmup === 1 ? 'run' : 'runs'}, interleaved; ${report.date}.`,
  ];
}

function row(result: CellResult, withBaseline: boolean): string[] {
  const { wall } = result;
  const fewRuns = result.runs.length < MIN_RUNS_FOR_CI ? ' †' : '';
  const io = result.cell.kind !== 'overhead';
  const cells = [
    cellText(result.cell.label),
    `${formatDuration(wall.median)} (${formatDuration(wall.min)} – ${formatDuration(wall.max)})`,
    `${formatDuration(wall.ci95[0])} – ${formatDuration(wall.ci95[1])}${fewRuns}`,
    // The overhead cell reads no file: it has a time, no rates.
    ...(io
      ? [
          perSecond(result.filesPerSecond, 'files/s'),
          formatRate(result.mibPerSecond * 1024 ** 2, 1),
          perSecond(result.iops, 'IOPS'),
        ]
      : ['–', '–', '–']),
    latencies(result.latency),
    `${formatDuration(result.userSeconds)} / ${formatDuration(result.systemSeconds)}`,
    formatBytes(result.peakRssBytes),
    result.verified ? '✓' : '✗',
    `${result.outliers.length} of ${result.runs.length}`,
  ];
  if (withBaseline) {
    const base = result.baseline;
    cells.push(
      base === undefined ? '–' : `${signedPercent(base.change)} (was ${formatDuration(base.median)})`,
    );
  }
  return cells;
}

function table(report: BenchReport, withBaseline: boolean): string[] {
  const titles = [
    'Cell',
    'Median (min – max)',
    '95% CI of median',
    'Files/s',
    'Throughput',
    'IOPS',
    'Latency p50 / p99 / p99.9',
    'CPU user / sys',
    'Peak RSS',
    'Verified',
    'Outliers',
    ...(withBaseline ? ['vs baseline'] : []),
  ];
  const align = titles.map((_, index) => (index === 0 ? ':---' : '---:'));
  return [titles, align, ...report.cells.map((result) => row(result, withBaseline))].map(
    (cells) => `| ${cells.join(' | ')} |`,
  );
}

function fioSection(report: BenchReport): string[] {
  const fio = report.fio;
  if (fio === undefined) return [];
  const reads = fio.randomRead.map((entry) => `iodepth ${entry.iodepth}: ${formatCount(entry.iops)} IOPS`);
  return [
    '',
    '## fio',
    '',
    ...(reads.length > 0 ? [`- 4 KiB random reads: ${reads.join(', ')}`] : []),
    ...(fio.sequentialRead === undefined
      ? []
      : [
          `- Sequential read of ${code(fio.sequentialRead.file)}: ${formatRate(fio.sequentialRead.mibPerSecond * 1024 ** 2, 1)}`,
        ]),
    ...fio.comparisons.map((comparison) => `- ${comparison}`),
    '',
    ...fio.commands.map((command) => `    ${command}`),
  ];
}

export interface MarkdownOptions {
  /** The baseline file the cells' `baseline` came from, named in the text; the column shows when any cell has one. */
  readonly baseline?: string | undefined;
}

export function toMarkdown(report: BenchReport, options: MarkdownOptions = {}): string {
  const withBaseline = report.cells.some((result) => result.baseline !== undefined);
  const warnings = report.cells.flatMap((result) =>
    result.warnings.map((warning) => `- ${cellText(result.cell.label)}: ${warning}`),
  );
  const lines = [
    ...header(report),
    '',
    ...table(report, withBaseline),
    '',
    'Times are wall seconds of the whole process (start included), the median over runs; rates are from the median. ' +
      'Latency is per file (median over runs of each percentile); CPU is user / system time; ' +
      `outliers as hyperfine finds them.${report.cells.some((result) => result.runs.length < MIN_RUNS_FOR_CI) ? ` † fewer than ${MIN_RUNS_FOR_CI} runs: min – max, which covers the median less than 95% of the time.` : ''}` +
      (withBaseline && options.baseline !== undefined ? ` Baseline: ${code(options.baseline)}.` : ''),
    ...(warnings.length > 0 ? ['', '## Warnings', '', ...warnings] : []),
    ...(report.notes.length > 0 ? ['', '## Notes', '', ...report.notes.map((note) => `- ${note}`)] : []),
    ...fioSection(report),
    '',
    '## Commands',
    '',
    ...report.cells.map(
      (result) =>
        `- ${cellText(result.cell.label)}: ${code(result.cell.command)}` +
        (result.cell.prepare === '' ? '' : `, prepared by ${code(result.cell.prepare)}`),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
