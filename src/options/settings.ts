import type { IoPort } from '../io/port.js';
import type { ResolvedTransform } from '../transforms/resolved.js';
import type { GlobpipeEvent, ReadStrategy, RunOptions } from '../types.js';
import type { Naming } from './names.js';
import type { ShardSettings } from './shard-options.js';

/**
 * Everything below the public API works from this: the user's options,
 * validated once, defaults filled and rules derived (`sequential` is
 * concurrency 1, `inPlace` means out = cwd). Nothing here has touched the file
 * system; what it is like there (probe.ts) and how files will run
 * (run/strategy.ts) are decided later, from this.
 */
export interface Settings {
  readonly cwd: string;
  readonly patterns: readonly string[];
  readonly out: string;
  readonly inPlace: boolean;
  /** Each stage: one transform, or several that fan out. */
  readonly stages: readonly (readonly ResolvedTransform[])[];
  /** Every path from the first stage to the last: one output per chain. */
  readonly chains: readonly (readonly ResolvedTransform[])[];
  readonly ext: string | undefined;
  /** User ignores plus the output directory when it lies inside `cwd`, and the in-place journal. */
  readonly ignore: readonly string[];
  readonly dot: boolean;
  readonly followSymlinks: boolean;
  /** A positive pattern that matches no file is a usage error (plan/matching.ts). */
  readonly errorOnUnmatchedPattern: boolean;
  /** Files in flight as the user asked; undefined lets run/strategy.ts choose from the work. */
  readonly concurrency: number | undefined;
  readonly dryRun: boolean;
  /** How files are read (RunOptions.read). */
  readonly read: ReadStrategy;
  /** Read and transform, write nothing. */
  readonly discard: boolean;
  readonly maxErrors: number;
  readonly fsync: boolean;
  readonly skipExisting: boolean;
  readonly ifNewer: boolean;
  /** Finish an interrupted in-place run from its journal. */
  readonly resume: boolean;
  /**
   * `incremental` runs: the manifest's path when one was given (else the cache directory's,
   * run/incremental-setup.ts), and the options that decide outputs' bytes, as stable JSON.
   */
  readonly incremental: { readonly manifest: string | undefined; readonly options: string } | undefined;
  /** Remove outputs whose input is gone (with `incremental`). */
  readonly deleteStale: boolean;
  /** Where the run manifest goes (`manifest`), resolved from the process's directory; undefined: none. */
  readonly manifest: string | undefined;
  /** Inputs smaller than this are skipped (options/compression.ts). */
  readonly minSize: number;
  /** A compressor's output is kept only at output/input <= this; undefined: no compressor runs. */
  readonly minRatio: number | undefined;
  /** Compressors take every type (none skipped by type, plan/matching.ts). */
  readonly allTypes: boolean;
  readonly deleteOriginal: boolean;
  /** This run's shard of the matches; undefined: all of them. */
  readonly shard: ShardSettings | undefined;
  /** Paths to look up instead of walking the tree (RunOptions.only); undefined: walk. */
  readonly only: readonly string[] | undefined;
  /** How errors name options: keys for run(), flags when the CLI gave them (names.ts). */
  readonly naming: Naming;
  readonly signal: AbortSignal | undefined;
  readonly onEvent: (event: GlobpipeEvent) => void;
  /** A port given by a test (faults injected); undefined: the real file system. */
  readonly port: IoPort | undefined;
  /** An executor forced by a test (the parity suite); undefined: run/strategy.ts chooses. */
  readonly executor: RunOptions['executor'];
  readonly probe: RunOptions['probe'];
}
