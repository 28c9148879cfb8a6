import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { openRegularSync, readUpToSync } from '../open.js';
import { retryOnFdExhaustionSync } from '../retry.js';

/**
 * One file's steps, with synchronous system calls, as an IO worker runs them
 * (handle.ts loops over a request's files). Each throws the fs error with a
 * `side` of its own choosing left to the caller, except where noted.
 */

const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
/** Files up to this size are copied through one read and one write; larger ones by the kernel (copyfile). */
const SMALL_COPY = 1024 * 1024;
// Reading the umask is all a worker may do with it (DEP0139 is documentation-only).
const umask = process.umask();

/** Which side a failure is on: the input or the output. Thrown errors carry it to the reply. */
export class SidedError extends Error {
  readonly side: 'read' | 'write';
  override readonly cause: unknown;
  constructor(side: 'read' | 'write', cause: unknown) {
    super((cause as Error | undefined)?.message ?? String(cause));
    this.side = side;
    this.cause = cause;
  }
}

function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Never created, or already gone.
  }
}

function fsyncPath(path: string): void {
  const fd = retryOnFdExhaustionSync(() => fs.openSync(path, 'r'));
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeFully(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

function readable(path: string): boolean {
  try {
    fs.accessSync(path, fs.constants.R_OK);
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface Copied {
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
}

let scratch: Buffer | undefined;

/** Copies `src` to the new file `temp` with the source's exact mode, then renames it to `dest` (unless null). */
export function copyFile(src: string, temp: string, dest: string | null, fsync: boolean): Copied {
  // open + fstat tell the size and refuse anything but a regular file (never blocking on a FIFO).
  let fd: number | undefined;
  let stats: fs.Stats;
  let small: Buffer | undefined;
  try {
    const opened = openRegularSync(src);
    fd = opened.fd;
    stats = opened.stats;
    if (stats.size <= SMALL_COPY) {
      scratch ??= Buffer.allocUnsafeSlow(SMALL_COPY + 1);
      // A file that claims 0 bytes is read to its end, in case it is not what it claims.
      const length = readUpToSync(fd, scratch, 0, stats.size > 0 ? stats.size : scratch.length);
      if (length <= SMALL_COPY) small = scratch.subarray(0, length);
    }
  } catch (error) {
    throw new SidedError('read', error);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const mode = stats.mode & 0o7777;
  if (small !== undefined) {
    writeTemps([{ temp, dest: dest ?? temp, data: small }], mode, fsync, dest !== null);
    return { size: small.length, mtimeMs: stats.mtimeMs, mode };
  }
  try {
    retryOnFdExhaustionSync(() => fs.copyFileSync(src, temp, fs.constants.COPYFILE_EXCL));
  } catch (error) {
    // EEXIST: the temp name is taken by a file that is not ours; anything else may have created it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') unlinkQuietly(temp);
    // copyfile names the source in every error; whether the source is still readable tells the side.
    throw new SidedError(readable(src) ? 'write' : 'read', error);
  }
  try {
    if (fsync) fsyncPath(temp);
    if (dest !== null) rename(temp, dest, fsync);
    // The size fstat gave when the copy began: no second stat of what copyfile just wrote.
    return { size: stats.size, mtimeMs: stats.mtimeMs, mode };
  } catch (error) {
    unlinkQuietly(temp);
    throw new SidedError('write', error);
  }
}

export interface OutputData {
  readonly temp: string;
  readonly dest: string;
  readonly data: Uint8Array;
}

/**
 * Writes each output to its new temp (mode `mode`, exactly, when given), then, with `commit`,
 * renames them all once all are complete. On failure every temp written is removed and the
 * error names the output (`dest`) being written.
 */
export function writeTemps(
  outputs: readonly OutputData[],
  mode: number | null,
  fsync: boolean,
  commit: boolean,
): number {
  // Plain loops, no iterators: a small file's whole copy runs through here.
  let size = 0;
  let current = 0; // the output being written
  let created = 0; // temps that exist
  try {
    for (; current < outputs.length; current += 1) {
      const output = outputs[current] as OutputData;
      const fd = retryOnFdExhaustionSync(() => fs.openSync(output.temp, WRITE_FLAGS, mode ?? 0o666));
      created += 1;
      try {
        writeFully(fd, output.data);
        // open's mode passes through the umask; a mode asked for is kept exactly.
        if (mode !== null && (mode & ~umask) !== mode) fs.fchmodSync(fd, mode);
        if (fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      size += output.data.length;
    }
    if (commit) for (const output of outputs) rename(output.temp, output.dest, false);
    if (commit && fsync)
      for (const dir of new Set(outputs.map((output) => dirname(output.dest)))) fsyncPath(dir);
    return size;
  } catch (error) {
    for (let i = 0; i < created; i += 1) unlinkQuietly((outputs[i] as OutputData).temp);
    // Name the output being written (not its temp); a rename's error already names its own.
    const e = error as NodeJS.ErrnoException & { dest?: string };
    e.dest ??= outputs[Math.min(current, outputs.length - 1)]?.dest;
    throw new SidedError('write', error);
  }
}

function rename(temp: string, dest: string, fsync: boolean): void {
  fs.renameSync(temp, dest);
  if (fsync) fsyncPath(dirname(dest));
}

/** Renames complete temps into place, then (with `fsync`) flushes their directories. */
export function renameAll(pairs: readonly (readonly [string, string])[], fsync: boolean): void {
  for (const [temp, dest] of pairs) fs.renameSync(temp, dest);
  if (fsync) for (const dir of new Set(pairs.map(([, dest]) => dirname(dest)))) fsyncPath(dir);
}

/** Where reads gather a request's bytes; grows as needed, and is reused request after request. */
let arena = Buffer.allocUnsafeSlow(256 * 1024);

export function arenaBytes(length: number): Uint8Array {
  return arena.subarray(0, length);
}

export interface ReadInto extends Copied {
  /** Bytes read, or 'large' (at least `limit`: to be streamed) or 'deferred' (past `cap`: ask again). */
  readonly read: number | 'large' | 'deferred';
}

/** Reads one file into the arena at `at`, unless it is to be streamed or waits for another round. */
export function readInto(path: string, at: number, limit: number, cap: number): ReadInto {
  let fd: number | undefined;
  try {
    const opened = openRegularSync(path);
    fd = opened.fd;
    const { stats } = opened;
    const meta = { size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
    if (stats.size >= limit) return { read: 'large', ...meta };
    if (at > 0 && at + stats.size > cap) return { read: 'deferred', ...meta };
    if (at + stats.size > arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(arena.length * 2, at + stats.size));
      arena.copy(grown, 0, 0, at);
      arena = grown;
    }
    return { read: readUpToSync(fd, arena, at, stats.size), ...meta };
  } catch (error) {
    throw new SidedError('read', error);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
