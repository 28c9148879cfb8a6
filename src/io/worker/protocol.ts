import type { IoFailure } from '../../errors.js';

/**
 * The messages between the io port (fs.ts) and its IO workers. Each request
 * carries a list of files and each file gets its own outcome: a request never
 * fails as a whole. Paths travel as one string, NUL-separated (NUL is the one
 * byte no path can hold; the worker checks the count all the same), and
 * per-file figures as typed arrays: cloning them costs a fraction of cloning an
 * object per file, on both sides.
 */
/**
 * Every request that writes names the root its outputs lie beneath (the output directory,
 * or the input tree in place): they are reached without following a symlink under it.
 */
export type Request =
  /**
   * Copies each `src` to its new `temp`, then (with `commit`) renames it to `dest`:
   * names are src, temp, dest triples.
   */
  | {
      readonly op: 'copy';
      readonly root: string;
      readonly names: string;
      readonly count: number;
      readonly fsync: boolean;
      readonly commit: boolean;
    }
  /**
   * Reads each file whole, back to back into one buffer. A file of `limit` bytes or more is
   * left unread (LARGE: the caller streams it); so is one that would take the buffer past
   * `cap` (DEFERRED: the caller asks again). The first file that fits is always read. One
   * under `min` bytes is left unread too (SMALL: the caller skips it).
   */
  | {
      readonly op: 'read';
      readonly paths: string;
      readonly count: number;
      readonly limit: number;
      readonly cap: number;
      readonly min: number;
      /** O_DIRECT reads, through an aligned buffer (ops.ts). */
      readonly direct: boolean;
    }
  /**
   * Writes the outputs of each file (`counts[i]` of them for file i) to their temps, with mode
   * `modes[i]` (NO_MODE: the default), then (with `commit`) renames them all: names are temp,
   * dest pairs; output k is `data` from `ends[k - 1]` to `ends[k]`.
   */
  | {
      readonly op: 'write';
      readonly root: string;
      readonly names: string;
      readonly counts: Uint32Array;
      readonly modes: Float64Array;
      readonly ends: Float64Array;
      readonly data: ArrayBuffer;
      readonly fsync: boolean;
      readonly commit: boolean;
    }
  /** Renames each file's complete temps into place (`counts[i]` temp, dest pairs for file i). */
  | {
      readonly op: 'rename';
      readonly root: string;
      readonly names: string;
      readonly counts: Uint32Array;
      readonly fsync: boolean;
    }
  /** Removes each file (temps of ours). */
  | { readonly op: 'unlink'; readonly root: string; readonly paths: string; readonly count: number };

/** Per-file outcome of a request. */
export interface Reply {
  /** Bytes read (copy, read) or written (write), or FAILED (see `errors`), LARGE, DEFERRED. */
  readonly sizes: Float64Array;
  /** Microseconds the worker spent on each file. */
  readonly micros: Float64Array;
  /** copy, read: each input's size, mtime (ms) and permission bits; read: where its bytes start in `data`. */
  readonly lengths?: Float64Array;
  readonly mtimes?: Float64Array;
  readonly modes?: Float64Array;
  readonly offsets?: Float64Array;
  readonly data?: ArrayBuffer;
  /** By file index, for the files that failed. */
  readonly errors: Record<number, IoFailure>;
}

export const FAILED = -1;
export const LARGE = -2;
export const DEFERRED = -3;
export const SMALL = -4;
export const NO_MODE = -1;

export function joinNames(names: readonly string[]): string {
  return names.join('\0');
}

/** The names of a request, or undefined when they do not split into `expected`: one held a NUL byte. */
export function splitNames(names: string, expected: number): string[] | undefined {
  const split = names.split('\0');
  return split.length === expected ? split : undefined;
}
