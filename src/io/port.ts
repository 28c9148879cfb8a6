import type { Stats } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { IoFailure } from '../errors.js';

/**
 * The one boundary between the pipeline and the file system. Every executor
 * (run/single.ts, run/batch.ts, run/stream.ts) and every check goes through it,
 * so a test that wraps it (test/faults.ts) injects its faults into the very path
 * real runs take. fs.ts implements it: whole-file steps in IO workers, streams
 * and metadata on the main thread.
 *
 * The whole-file steps take a list of files and answer each file on its own: a
 * failure of one never fails the others, and the list is in the same order.
 *
 * Every call that writes names its `root` (the output directory; the input tree in
 * place): what it writes is reached beneath it without following any symlink under
 * it (io/worker/beneath.ts), so nothing is ever written outside it.
 */
export interface IoPort {
  /**
   * Reads files whole, back to back. A file of `limit` bytes or more is not read (`large`:
   * stream it); one that would take the bytes read by this call past `cap` waits (`deferred`:
   * ask again). The first file that fits is always read. One under `min` bytes is not read
   * (`small`: it is skipped). Anything but a regular file fails
   * (ENOTFILE), never waits.
   */
  read(
    paths: readonly string[],
    bounds: {
      readonly limit: number;
      readonly cap: number;
      /** Files under this many bytes are not read (`small`); default 0. */
      readonly min?: number;
      /** Read with O_DIRECT, bypassing the page cache (through an aligned buffer). */
      readonly direct?: boolean;
    },
  ): Promise<ReadOutcome[]>;
  /** Copies each `src` to its new `temp` with the source's mode; with `commit`, renames it to `dest`. */
  copy(items: readonly CopyItem[], options: WriteFlags): Promise<Outcome<FileMeta>[]>;
  /** Writes each file's outputs to their new temps; with `commit`, renames them once all of a file's are complete. */
  write(items: readonly WriteItem[], options: WriteFlags): Promise<Outcome<{ readonly size: number }>[]>;
  /** Renames each file's complete temps into place. */
  rename(
    items: readonly (readonly TempPair[])[],
    options: { readonly fsync: boolean; readonly root: string },
  ): Promise<Outcome<object>[]>;

  /**
   * Opens a regular file for streaming (the same refusal of anything else as `read`). With
   * `recycle`, its chunks are views into a few buffers used in turn: only for a reader done with
   * each chunk before the next few are read.
   */
  openReadStream(path: string, options?: { readonly recycle?: boolean }): Promise<Readable>;
  /**
   * Creates the temp `path` (it must not exist), readable by its owner at most while it is
   * written, and streams into it; once complete (before its descriptor closes) it gets `mode`
   * exactly, and with `flush` is flushed to disk.
   */
  openWriteStream(
    path: string,
    options: { readonly mode: number; readonly flush: boolean; readonly root: string },
  ): Promise<Writable>;
  /**
   * Makes the directory `path` (and its parents) beneath `root`, no component of it a
   * symlink; resolves with the directories made now, parents first: `path` is last when it
   * was made now (it is empty), and the list is empty when it was there.
   */
  mkdir(path: string, root: string): Promise<readonly string[]>;
  /** Removes the directory `path` beneath `root` if it is empty (rmdir, never recursive); else rejects (ENOTEMPTY). */
  rmdir(path: string, root: string): Promise<void>;
  /** Removes the file `path` (a temp) beneath `root`. */
  unlink(path: string, root: string): Promise<void>;

  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<Stats>;
  readlink(path: string): Promise<string>;
  realpath(path: string): Promise<string>;

  /** A hint: `files` will soon be in flight at once (boot what serves them now). */
  warm(files: number): void;
  /** Lets go of descriptors kept between calls (at the end of a run); calls after it open them anew. */
  release?(): void;
}

export interface FileMeta {
  readonly size: number;
  readonly mtimeMs: number;
  /** Permission bits. */
  readonly mode: number;
}

/** Every outcome tells the milliseconds the file system took for that file. */
export type Outcome<T> =
  | ({ readonly ok: true; readonly ms: number } & T)
  | { readonly ok: false; readonly ms: number; readonly error: IoFailure };

export type ReadOutcome =
  | Outcome<FileMeta & { readonly state: 'read'; readonly data: Buffer }>
  | Outcome<FileMeta & { readonly state: 'large' }>
  | Outcome<FileMeta & { readonly state: 'small' }>
  | Outcome<{ readonly state: 'deferred' }>;

export type TempPair = readonly [temp: string, dest: string];

export interface CopyItem {
  readonly src: string;
  readonly temp: string;
  readonly dest: string;
}

export interface WriteItem {
  readonly outputs: readonly { readonly temp: string; readonly dest: string; readonly data: Uint8Array }[];
  /** Permission bits for every output, exactly (not through the umask); null: the default. */
  readonly mode: number | null;
}

export interface WriteFlags {
  /** What the outputs lie beneath. */
  readonly root: string;
  /** Flush each file, and each directory a rename changed. */
  readonly fsync: boolean;
  /** Rename each temp into place once complete; false leaves that to `rename` (in-place runs journal first). */
  readonly commit: boolean;
}
