import { formatBytes, formatCount } from '../report/format.js';
import type { Cell, CellResult, Dataset, MachineInfo } from './types.js';

/**
 * The one sentence bench answers with: for each cache state, how much faster the best
 * concurrency is than sequential, and where the gain stops (the knee: the least concurrency
 * within 10% of the best); then how warm `--sequential` compares with the plain sync loop.
 * `cold, 20,000 × 4 KiB on ext4: -j 64 is 4.1× faster than sequential, no gain beyond 64;
 * warm: concurrency buys 1.3×`.
 */

/** Within this of the best time counts as no further gain. */
const KNEE = 0.1;

function ratio(value: number): string {
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}×`;
}

/**
 * `20,000 × 4 KiB` when the files are all one size, else `20,000 files (78.1 MiB)`. From the
 * files' sizes: a histogram bucket spans a range, and files of 2 and 4 KiB average 3 KiB.
 */
export function describeDataset(dataset: Dataset, sizes: readonly number[]): string {
  const first = sizes[0];
  if (first !== undefined && sizes.every((size) => size === first))
    return `${formatCount(dataset.files)} × ${wholeSize(first)}`;
  return `${formatCount(dataset.files)} files (${formatBytes(dataset.bytes)})`;
}

/** `4 KiB` for a whole number of KiB (or MiB, GiB), as gen's sizes are given; else formatBytes's `2.9 KiB`. */
function wholeSize(bytes: number): string {
  for (const [unit, scale] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale} ${unit}`;
  return formatBytes(bytes);
}

/** The globpipe cells of one series (same cache, read, work, pool), by concurrency. */
function seriesOf(cells: readonly CellResult[]): CellResult[][] {
  const series = new Map<string, CellResult[]>();
  for (const result of cells) {
    const { cell } = result;
    if (cell.kind !== 'globpipe' || !result.verified) continue;
    const key = `${cell.cache}|${cell.read}|${cell.work}|${cell.threadpool}`;
    series.set(key, [...(series.get(key) ?? []), result]);
  }
  return [...series.values()].map((list) => list.sort((a, b) => a.cell.concurrency - b.cell.concurrency));
}

/** What concurrency buys in one series, as a clause; undefined without a sequential cell to compare with. */
function gain(series: readonly CellResult[]): string | undefined {
  const sequential = series.find((result) => result.cell.concurrency === 1);
  if (sequential === undefined || series.length < 2) return undefined;
  const best = series.reduce((a, b) => (b.wall.median < a.wall.median ? b : a));
  const speedup = sequential.wall.median / best.wall.median;
  if (best === sequential || speedup < 1 + KNEE) return 'concurrency buys nothing here';
  const knee = series.find((result) => result.wall.median <= best.wall.median * (1 + KNEE)) ?? best;
  const top = series.at(-1) as CellResult;
  const beyond =
    knee.cell.concurrency < top.cell.concurrency ? `, no gain beyond ${knee.cell.concurrency}` : '';
  return `-j ${best.cell.concurrency} is ${ratio(speedup)} faster than sequential${beyond}`;
}

/**
 * What sets a series apart when the matrix has several (of one cache state, only the first
 * is answered for): `--read single, -t brotli, pool 1`, from the settings that vary.
 */
function seriesName(cells: readonly CellResult[]): (cell: Cell) => string | undefined {
  const globpipe = cells.filter((result) => result.cell.kind === 'globpipe').map((result) => result.cell);
  const parts: ((cell: Cell) => string)[] = [
    (cell) => `--read ${cell.read}`,
    (cell) =>
      cell.work === 'transform'
        ? (cell.label.split(', ').find((part) => part.startsWith('-t ')) ?? 'transform')
        : cell.work,
    (cell) => (cell.threadpool === undefined ? 'default pool' : `pool ${cell.threadpool}`),
  ];
  const varying = parts.filter((part) => new Set(globpipe.map(part)).size > 1);
  return (cell) => (varying.length === 0 ? undefined : varying.map((part) => part(cell)).join(', '));
}

/** Why there is no answer: the matrix's concurrencies, when every cell ran and verified. */
function noAnswer(cells: readonly CellResult[]): string {
  const why = 'Not enough verified cells to compare: bench needs -j 1 and another concurrency';
  const globpipe = cells.filter((result) => result.cell.kind === 'globpipe');
  if (globpipe.length === 0 || globpipe.some((result) => !result.verified)) return `${why}.`;
  const levels = [...new Set(globpipe.map((result) => result.cell.concurrency))].sort((a, b) => a - b);
  return `${why} (every cell here ran at -j ${levels.join(', ')}).`;
}

/** `sizes`: each file's, for describeDataset. */
export function answerOf(
  cells: readonly CellResult[],
  dataset: Dataset,
  machine: MachineInfo,
  sizes: readonly number[],
): string {
  const clauses: string[] = [];
  const seen = new Set<string>();
  const named = seriesName(cells);
  for (const series of seriesOf(cells)) {
    const { cache } = (series[0] as CellResult).cell;
    if (seen.has(cache)) continue; // the first series of each cache state: the first work asked for
    const clause = gain(series);
    if (clause === undefined) continue;
    seen.add(cache);
    const state = cache === 'cold' && machine.virtualized ? 'guest-cold' : cache;
    const which = named((series[0] as CellResult).cell);
    const cold = which === undefined ? state : `${state} (${which})`;
    clauses.push(
      clauses.length === 0
        ? `${cold}, ${describeDataset(dataset, sizes)} on ${machine.filesystem.type}: ${clause}`
        : `${cold}: ${clause}`,
    );
  }
  const loop = cells.find((r) => r.cell.kind === 'sync-loop' && r.cell.cache === 'warm' && r.verified);
  const sequential = cells.find(
    (r) =>
      r.cell.kind === 'globpipe' &&
      r.cell.cache === 'warm' &&
      r.cell.concurrency === 1 &&
      r.cell.read === 'auto' &&
      r.cell.work === loop?.cell.work &&
      r.verified,
  );
  if (loop !== undefined && sequential !== undefined)
    clauses.push(
      `warm --sequential takes ${ratio(sequential.wall.median / loop.wall.median)} the time of a plain sync loop`,
    );
  if (clauses.length === 0) return noAnswer(cells);
  const sentence = clauses.join('; ');
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}
