import { normalizeOptions } from './options/normalize.js';
import { runPipeline } from './run/pipeline.js';
import { runRecorded } from './run/run-manifest-write.js';
import type { RunOptions, Summary, Transform } from './types.js';

/**
 * Globs files under `cwd`, runs each through the transforms and writes the
 * results, with at most `concurrency` files in flight. Resolves with the
 * summary; rejects with a {@link GlobpipeError} only for bad options or a bad
 * plan, before anything is written. Per-file failures are in the summary.
 *
 * Options are checked as the CLI checks its flags: an unknown key is an error
 * that names it and the key it most likely meant (``Unknown option `dryrun`:
 * did you mean `dryRun`?``), and so is a value of the wrong type.
 */
export async function run(options: RunOptions = {}): Promise<Summary> {
  const settings = await normalizeOptions(options);
  if (settings.manifest !== undefined) return runRecorded(settings, options, runPipeline);
  return runPipeline(settings);
}

/** Types a transform module's export; returns its argument unchanged. */
export function defineTransform<T extends Transform>(transform: T): T {
  return transform;
}

export { type BenchOptions, type BenchPlan, type BenchProgress, bench } from './bench/bench.js';
export { type ExportPaths, toCSV, toJSON, toMarkdown, toSVG, writeExports } from './bench/export.js';
export type {
  GenContent,
  GenContentKind,
  GenOptions,
  GenParameters,
  GenPreset,
  GenProgress,
  GenSummary,
} from './bench/gen.js';
export { gen } from './bench/gen-write.js';
export type {
  BenchReport,
  CacheState,
  Cell,
  CellKind,
  CellResult,
  ColdMethod,
  Dataset,
  FioFigures,
  MachineInfo,
  RunSample,
  SizeBucket,
  Stats,
  Work,
} from './bench/types.js';
export { defineConfig, loadConfig } from './config/load.js';
export type {
  ConfigOptions,
  LoadConfigOptions,
  ResolvedConfig,
  ResolvedPipeline,
  UserConfig,
} from './config/types.js';
export type { ErrorCode, FileErrorCode, UsageErrorCode } from './errors.js';
export { GlobpipeError } from './errors.js';
export type {
  BufferTransform,
  Failure,
  FileInfo,
  FileResult,
  FileStatus,
  GlobpipeEvent,
  IncrementalReport,
  Latency,
  ReadStrategy,
  RunOptions,
  SkipReason,
  StreamTransform,
  Summary,
  Transform,
  TransformResult,
  TransformSpec,
  TransformStage,
} from './types.js';
export type { Deleted, WatchBatch, Watcher, WatchOptions } from './watch/types.js';
export { watch } from './watch/watch.js';
