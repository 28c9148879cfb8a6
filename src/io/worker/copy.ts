import * as fs from 'node:fs';
import { fsPath } from '../../paths.js';
import type { Tree } from '../beneath.js';
import { openRegularSync, readUpToSync } from '../open.js';
import { retryOnFdExhaustionSync } from '../retry.js';
import {
  checkUnchanged,
  type FileMeta,
  fsyncPath,
  renameAll,
  SidedError,
  tempMode,
  unlinkQuietly,
  WRITE_FLAGS,
  writeTemps,
} from './ops.js';
import { DEFERRED } from './protocol.js';

/**
 * The identity copy of one file, in an IO worker. Three ways, one outcome:
 * - up to SMALL_COPY bytes: one read and one write (a small file's copy is a few syscalls);
 * - a sparse file (fewer blocks than its size needs): chunk by chunk, leaving the holes as
 *   holes, as `cp --sparse=auto` does (the kernel's copy would fill them with zeros);
 * - anything else: the kernel's copy (copyfile), which creates the temp with the source's mode.
 * Every way checks that the source did not change while it was read (checkUnchanged).
 */

/** Files up to this size are copied through one read and one write. */
const SMALL_COPY = 1024 * 1024;
/** The sparse copy reads this much at a time, and leaves each aligned block of zeros as a hole. */
const CHUNK = 1024 * 1024;
const BLOCK = 4096;

let scratch: Buffer | undefined;
let zeros: Buffer | undefined;

function readable(path: string): boolean {
  try {
    fs.accessSync(fsPath(path), fs.constants.R_OK);
    return fs.statSync(fsPath(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Copies `src` to the new file `temp` with the source's exact mode, then (with `commit`) renames
 * it to `dest`. With `smallOnly` (on the calling thread, which must not block for long), a file
 * of more than SMALL_COPY bytes is left alone: its size comes back as DEFERRED.
 */
export function copyFile(
  tree: Tree,
  src: string,
  temp: string,
  dest: string,
  commit: boolean,
  fsync: boolean,
  smallOnly = false,
): FileMeta {
  // open + fstat tell the size and refuse anything but a regular file (never blocking on a FIFO).
  let fd: number | undefined;
  let stats: fs.Stats;
  let small: Buffer | undefined;
  let sparse = false;
  try {
    const opened = openRegularSync(src);
    fd = opened.fd;
    stats = opened.stats;
    if (smallOnly && stats.size > SMALL_COPY) return { size: DEFERRED, mtimeMs: 0, mode: 0 };
    if (stats.size <= SMALL_COPY) {
      scratch ??= Buffer.allocUnsafeSlow(SMALL_COPY + 1);
      // A file that claims 0 bytes is read to its end, in case it is not what it claims.
      const length = readUpToSync(fd, scratch, 0, stats.size > 0 ? stats.size : scratch.length);
      checkUnchanged(stats, fs.fstatSync(fd), length);
      if (length <= SMALL_COPY) small = scratch.subarray(0, length);
    }
    sparse = small === undefined && stats.blocks * 512 < stats.size;
    if (sparse) {
      copySparse(fd, stats, tree, temp, fsync);
      fs.closeSync(fd);
      fd = undefined;
    }
  } catch (error) {
    throw error instanceof SidedError ? error : new SidedError('read', error);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const meta = { size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
  if (small !== undefined) {
    writeTemps(tree, [{ temp, dest, data: small }], meta.mode, fsync, commit);
    return { ...meta, size: small.length };
  }
  const safeTemp = tree.resolve(temp);
  if (!sparse) kernelCopy(src, safeTemp, dest, stats);
  try {
    if (fsync && !sparse) fsyncPath(safeTemp);
    if (commit) renameAll(tree, [[temp, dest]], fsync);
    return meta;
  } catch (error) {
    unlinkQuietly(safeTemp);
    throw new SidedError('write', Object.assign(error as Error, { dest }));
  }
}

function kernelCopy(src: string, temp: fs.PathLike, dest: string, stats: fs.Stats): void {
  try {
    retryOnFdExhaustionSync(() => fs.copyFileSync(fsPath(src), temp, fs.constants.COPYFILE_EXCL));
  } catch (error) {
    // EEXIST: the temp name is taken by a file that is not ours; anything else may have created it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') unlinkQuietly(temp);
    // copyfile names the source in every error; whether the source is still readable tells the side.
    // An error on the output names the output, not its temp.
    throw new SidedError(readable(src) ? 'write' : 'read', Object.assign(error as Error, { dest }));
  }
  try {
    // copyfile read by path: what it copied must be what was opened, unchanged since.
    const after = fs.statSync(fsPath(src));
    checkUnchanged(stats, after, fs.statSync(temp).size);
  } catch (error) {
    unlinkQuietly(temp);
    throw new SidedError('read', error);
  }
}

/** Writes the runs of `data` (its first `n` bytes, at `offset` in the file) that are not whole blocks of zeros. */
function writeNonZeroBlocks(out: number, data: Buffer, n: number, offset: number): void {
  const zero = (zeros as Buffer).subarray(0, BLOCK);
  let start = -1;
  for (let at = 0; at <= n; at += BLOCK) {
    const end = Math.min(at + BLOCK, n);
    const empty = at === n || (end - at === BLOCK && data.subarray(at, end).equals(zero));
    if (!empty && start < 0) start = at;
    if ((empty || end === n) && start >= 0) {
      const stop = empty ? at : end;
      try {
        let written = 0;
        while (written < stop - start) {
          written += fs.writeSync(
            out,
            data,
            start + written,
            stop - start - written,
            offset + start + written,
          );
        }
      } catch (error) {
        throw new SidedError('write', error);
      }
      start = -1;
    }
  }
}

/** Chunk by chunk from `fd`: chunks of zeros are skipped (holes), the size set at the end. */
function copySparse(fd: number, stats: fs.Stats, tree: Tree, path: string, fsync: boolean): void {
  scratch ??= Buffer.allocUnsafeSlow(SMALL_COPY + 1);
  zeros ??= Buffer.alloc(CHUNK);
  const mode = stats.mode & 0o7777;
  let out: number;
  let temp: fs.PathLike;
  try {
    temp = tree.resolve(path);
    out = retryOnFdExhaustionSync(() => fs.openSync(temp, WRITE_FLAGS, tempMode(mode)));
  } catch (error) {
    throw new SidedError('write', error);
  }
  let done = false;
  try {
    let offset = 0;
    for (;;) {
      const n = fs.readSync(fd, scratch, 0, CHUNK, offset);
      if (n === 0) break;
      if (!scratch.subarray(0, n).equals(zeros.subarray(0, n))) writeNonZeroBlocks(out, scratch, n, offset);
      offset += n;
    }
    checkUnchanged(stats, fs.fstatSync(fd), offset);
    try {
      fs.ftruncateSync(out, offset);
      fs.fchmodSync(out, mode);
      if (fsync) fs.fsyncSync(out);
    } catch (error) {
      throw new SidedError('write', error);
    }
    done = true;
  } finally {
    fs.closeSync(out);
    if (!done) unlinkQuietly(temp);
  }
}
