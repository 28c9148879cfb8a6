import type { OpError } from './sync-ops.js';

/**
 * Operations on a whole batch of small files in one message to a worker (see
 * worker-pool.ts). Paths travel as one string, NUL-separated (NUL is the one
 * byte no path can hold; the worker checks the count all the same), and
 * per-file figures as typed arrays: cloning them costs a fraction of cloning an
 * object per file, on both sides.
 */
export type BatchOp =
  /** Copies each `src` to its new `temp`, then renames it to `dest`: names are src, temp, dest triples. */
  | { readonly op: 'copyMany'; readonly names: string; readonly count: number; readonly fsync: boolean }
  /**
   * Reads each file whole, back to back into one buffer. A file of `limit` bytes or more is
   * left unread (NOT_READ: the caller streams it); so is one that would take the buffer past
   * `cap` (DEFERRED: the caller asks again). The first file that fits is always read.
   */
  | {
      readonly op: 'readMany';
      readonly paths: string;
      readonly count: number;
      readonly limit: number;
      readonly cap: number;
    }
  /**
   * Writes the outputs of each file (`counts[i]` of them for file i) to their temps, then renames
   * them all: names are temp, dest pairs; output k is `data` from `ends[k - 1]` to `ends[k]`.
   */
  | {
      readonly op: 'writeMany';
      readonly names: string;
      readonly counts: Uint32Array;
      readonly ends: Float64Array;
      readonly data: ArrayBuffer;
      readonly fsync: boolean;
    };

/** Per-file outcome of a batch op; the batch itself never fails. */
export interface BatchResult {
  /** Bytes read (copyMany, readMany) or written (writeMany), or FAILED (see `errors`), NOT_READ, DEFERRED. */
  readonly sizes: Float64Array;
  /** Microseconds the worker spent on each file. */
  readonly micros: Float64Array;
  /** readMany: each file's mtime (ms) and where its bytes start in `data`. */
  readonly mtimes?: Float64Array;
  readonly offsets?: Float64Array;
  readonly data?: ArrayBuffer;
  /** By file index, for the files that failed. */
  readonly errors: Record<number, OpError>;
}

export const FAILED = -1;
export const NOT_READ = -2;
export const DEFERRED = -3;
