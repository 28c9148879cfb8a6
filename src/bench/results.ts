import type { Planned } from './cells.js';
import {
  cellFigures,
  medianPercentiles,
  operationsPerFile,
  outliers,
  spreadWarning,
  summarize,
} from './stats.js';
import type { CellResult, RunSample } from './types.js';

/**
 * A cell's result from its runs: the statistics of its wall times, its rates, latency and
 * resources, whether every run did the whole dataset, and what not to trust. `failure`: the
 * first error a failed run wrote, quoted in the warning.
 */
export function resultOf(
  planned: Planned,
  runs: RunSample[],
  files: number,
  bytes: number,
  failure?: string,
): CellResult {
  const { cell } = planned;
  const times = runs.map((run) => run.wallSeconds);
  const wall = summarize(times);
  const flagged = outliers(times);
  // Every run must have done the whole dataset: all its files, all its bytes (a dry run reads none).
  const bad = runs.filter(
    (run) => run.exitCode !== 0 || run.files !== files || (cell.kind !== 'overhead' && run.bytes !== bytes),
  );
  const warnings: string[] = [];
  const spread = spreadWarning(wall, flagged.length, runs.length);
  if (spread !== undefined) warnings.push(spread);
  if (bad.length > 0) {
    const run = bad[0] as RunSample;
    warnings.push(
      `${bad.length} of ${runs.length} runs did not do the whole dataset (one exited ${run.exitCode} after ${run.files} of ${files} files, ${run.bytes} of ${bytes} bytes)${failure === undefined ? '' : `: ${failure}`}.`,
    );
  }
  if (cell.cache === 'cold') {
    const warmest = Math.max(...runs.map((run) => run.residentBytes ?? 0));
    if (warmest > bytes * 0.05)
      warnings.push(
        `Not cold: up to ${Math.round((warmest / bytes) * 100)}% of the dataset was still cached before a run.`,
      );
  }
  const latencies = runs.flatMap((run) => (run.latency === undefined ? [] : [run.latency]));
  return {
    cell,
    runs,
    wall,
    ...cellFigures({ files, bytes, seconds: wall.median, ioPerFile: operationsPerFile(cell) }),
    latency: latencies.length > 0 ? medianPercentiles(latencies) : undefined,
    userSeconds: summarize(runs.map((run) => run.userSeconds)).median,
    systemSeconds: summarize(runs.map((run) => run.systemSeconds)).median,
    peakRssBytes: Math.max(...runs.map((run) => run.peakRssBytes)),
    verified: bad.length === 0,
    outliers: flagged,
    warnings,
  };
}

/**
 * A note when cold cells ran but how cold they were could not be seen (every run's cached
 * figure unknown): fincore is missing, or this user neither owns nor may write the files, and
 * the kernel hides their cache state. Unknown is said as unknown, never as 0% (nor warned
 * "Not cold").
 */
export function coldUnknown(cells: readonly CellResult[]): string | undefined {
  const cold = cells.filter((result) => result.cell.cache === 'cold' && result.runs.length > 0);
  if (cold.length === 0 || cold.some((result) => result.runs.some((run) => run.residentBytes !== undefined)))
    return undefined;
  return 'How cold the cold runs were is unknown: fincore could not see the page cache of the dataset (it is not installed, or this user neither owns nor may write the files, whose cache state the kernel then hides).';
}
