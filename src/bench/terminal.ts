import { formatBytes, formatCount } from '../report/format.js';
import { formatDuration } from './markdown.js';
import type { BenchReport, CellResult } from './types.js';

/**
 * bench's table for a terminal: the figures a reader compares at a glance, aligned in
 * columns (the Markdown export has every figure).
 */

function row(result: CellResult): string[] {
  const { wall, latency } = result;
  const none = result.cell.kind === 'overhead';
  return [
    result.cell.label,
    `${formatDuration(wall.median)} (${formatDuration(wall.min)} – ${formatDuration(wall.max)})`,
    none ? '–' : formatCount(Math.round(result.filesPerSecond)),
    none ? '–' : `${result.mibPerSecond.toFixed(1)} MiB/s`,
    latency === undefined
      ? '–'
      : `${formatDuration(latency.p50 / 1000)} / ${formatDuration(latency.p99 / 1000)}`,
    formatBytes(result.peakRssBytes),
    `${result.verified ? '✓' : '✗'}${result.outliers.length > 0 ? ` ${result.outliers.length} outlier${result.outliers.length > 1 ? 's' : ''}` : ''}${result.baseline === undefined ? '' : ` ${result.baseline.change >= 0 ? '+' : ''}${(result.baseline.change * 100).toFixed(1)}% vs baseline`}`,
  ];
}

export function benchTable(report: BenchReport): string {
  const titles = [
    'cell',
    'median (min – max)',
    'files/s',
    'throughput',
    'latency p50 / p99',
    'peak RSS',
    'verified',
  ];
  const rows = [titles, ...report.cells.map(row)];
  const widths = titles.map((_, i) => Math.max(...rows.map((cells) => [...(cells[i] as string)].length)));
  const pad = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const space = ' '.repeat((widths[i] as number) - [...cell].length);
        return i === 0 || i === cells.length - 1 ? cell + space : space + cell;
      })
      .join('  ')
      .trimEnd();
  return [pad(titles), ...rows.slice(1).map(pad)].join('\n');
}
