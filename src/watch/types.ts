import type { RunOptions, Summary } from '../types.js';

export interface WatchOptions extends RunOptions {
  /** Milliseconds with no new change before a batch starts. Default: 100. */
  debounceMs?: number;
  /** Called after the first run (`index` 0) and after each batch of changes. */
  onBatch?: (batch: WatchBatch) => void;
  /**
   * Called when a batch could not run (a usage error its paths raised, such as two inputs
   * mapping to one output) or the file watcher failed (ENOSPC: too many watches). The watch goes on.
   */
  onError?: (error: Error) => void;
}

/** An input that is gone, and what became of the outputs globpipe had written for it. */
export interface Deleted {
  /** Relative to `cwd`. */
  readonly input: string;
  /** Outputs removed (`deleteStale`), relative to `out`. */
  readonly removed: readonly string[];
  /** Outputs left: no `deleteStale`, a dry run, or changed since globpipe wrote them (not its own any more). */
  readonly kept: readonly string[];
}

export interface WatchBatch {
  /** 0 for the first run, then 1, 2, … for each batch of changes. */
  readonly index: number;
  /** Inputs this batch dealt with: the changed or added files the patterns select, and the inputs gone. */
  readonly changed: number;
  readonly deleted: readonly Deleted[];
  /** The run over the changed files (the whole tree for the first run). */
  readonly summary: Summary;
  /** Milliseconds from the start of the batch to its end, removals included. */
  readonly ms: number;
}

export interface Watcher {
  /** The first run's summary, once it is done and changes are watched; rejects on a usage error (the watch is closed then). */
  readonly ready: Promise<Summary>;
  /**
   * Stops: the batch in flight is aborted as an aborted run is (nothing new starts, in-flight
   * files cancelled, temp files removed; its batch is still reported, interrupted), and the
   * file watcher is closed. Resolves when all of it is done.
   */
  close(): Promise<void>;
}
