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
 * resources, whether every run did the whole dataset, and what not to trust.
 */
export function resultOf(planned: Planned, runs: RunSample[], files: number, bytes: number): CellResult {
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
      `${bad.length} of ${runs.length} runs did not do the whole dataset (one exited ${run.exitCode} after ${run.files} of ${files} files, ${run.bytes} of ${bytes} bytes).`,
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
