import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { describeType } from './file-type.js';

/**
 * File operations as whole units, run with synchronous system calls inside a
 * worker thread (see worker-pool.ts): one message carries a batch of them, so
 * a small file costs a few syscalls instead of a threadpool round trip each.
 */
export type SyncOp =
  /** Reads a regular file whole when smaller than `limit`; otherwise only reports its stats. */
  | { readonly op: 'read'; readonly path: string; readonly limit: number }
  /** Copies `src` to the new file `temp`, then renames it to `dest` (unless `dest` is null). */
  | {
      readonly op: 'copy';
      readonly src: string;
      readonly temp: string;
      readonly dest: string | null;
      readonly fsync: boolean;
    }
  /** Writes each file to its new `temp`; when all are complete, renames them to `dest` (if `commit`). */
  | {
      readonly op: 'write';
      readonly files: readonly { readonly temp: string; readonly dest: string; readonly data: Uint8Array }[];
      readonly mode: number | null;
      readonly fsync: boolean;
      readonly commit: boolean;
    }
  /** Renames complete temps into place, then fsyncs the directories given. */
  | {
      readonly op: 'rename';
      readonly pairs: readonly (readonly [string, string])[];
      readonly fsyncDirs: readonly string[];
    };

export interface OpError {
  readonly code: string | undefined;
  readonly message: string;
  readonly path: string | undefined;
  readonly dest: string | undefined;
  /** Which side failed: the input or the output. */
  readonly side: 'read' | 'write';
  /** For `notfile`: what the path is instead of a regular file. */
  readonly what?: string;
}

export type OpResult =
  | {
      readonly ok: true;
      readonly size: number;
      readonly mtimeMs: number;
      readonly mode: number;
      /** `read` only: the content, absent when the file is at least `limit` bytes. */
      readonly data?: Uint8Array;
    }
  | { readonly ok: false; readonly error: OpError };

const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);
const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Out of descriptors: other files in flight will close theirs. Waits (blocking this worker only) and retries. */
function retrying<T>(call: () => T): T {
  let delay = 1;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return call();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'EMFILE' && code !== 'ENFILE') || Date.now() > deadline) throw error;
      Atomics.wait(sleeper, 0, 0, delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 50);
    }
  }
}

export function failure(error: unknown, side: 'read' | 'write'): Extract<OpResult, { ok: false }> {
  const e = error as NodeJS.ErrnoException & { dest?: string; what?: string };
  return {
    ok: false,
    error: {
      code: e.code,
      message: e.message,
      path: e.path,
      dest: e.dest,
      side,
      ...(e.what === undefined ? {} : { what: e.what }),
    },
  };
}

/**
 * Opens a path for reading without ever blocking on a FIFO, and refuses anything
 * but a regular file (ENOTFILE, saying what it is instead). The caller closes `fd`.
 */
export function openRegularSync(path: string): { fd: number; stats: fs.Stats } {
  const fd = retrying(() => fs.openSync(path, READ_FLAGS));
  try {
    const stats = fs.fstatSync(fd);
    if (stats.isFile()) return { fd, stats };
    throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE', what: describeType(stats) });
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** Reads from the start of `fd` into `buffer` at `offset` until `want` bytes or the end; returns the bytes read. */
export function readUpTo(fd: number, buffer: Uint8Array, offset: number, want: number): number {
  let length = 0;
  while (length < want) {
    const n = fs.readSync(fd, buffer, offset + length, want - length, length);
    if (n === 0) break;
    length += n;
  }
  return length;
}

function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Never created, or already gone.
  }
}

function read(path: string, limit: number): OpResult {
  let fd: number | undefined;
  try {
    const opened = openRegularSync(path);
    fd = opened.fd;
    const { stats } = opened;
    const meta = { size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
    if (stats.size >= limit) return { ok: true, ...meta };
    // Its own ArrayBuffer (never the shared pool), so it can be transferred to the main thread.
    // Up to the size fstat told, as readFileSync does: a file that grew since is read as it was.
    const data = Buffer.allocUnsafeSlow(stats.size);
    const length = readUpTo(fd, data, 0, stats.size);
    return { ok: true, ...meta, size: length, data: length === stats.size ? data : data.subarray(0, length) };
  } catch (error) {
    return failure(error, 'read');
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readable(path: string): boolean {
  try {
    fs.accessSync(path, fs.constants.R_OK);
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

function fsyncPath(path: string): void {
  const fd = retrying(() => fs.openSync(path, 'r'));
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Files up to this size are copied through one read and one write; larger ones by the kernel (copyfile). */
const SMALL_COPY = 1024 * 1024;
let scratch: Buffer | undefined;
// Reading the umask is all a worker may do with it (DEP0139 is documentation-only).
const umask = process.umask();

export function copy(src: string, temp: string, dest: string | null, fsync: boolean): OpResult {
  // open + fstat tell the size and refuse anything but a regular file (never blocking on a FIFO).
  let fd: number | undefined;
  let stats: fs.Stats;
  try {
    const opened = openRegularSync(src);
    fd = opened.fd;
    stats = opened.stats;
    if (stats.size <= SMALL_COPY) {
      scratch ??= Buffer.allocUnsafeSlow(SMALL_COPY + 1);
      // Up to the size fstat told, as readFileSync does (no extra read to meet the end); a file
      // that claims 0 bytes is read to its end, in case it is not what it claims.
      const length = readUpTo(fd, scratch, 0, stats.size > 0 ? stats.size : scratch.length);
      if (length <= SMALL_COPY) return writeCopy(scratch.subarray(0, length), stats, temp, dest, fsync);
    }
  } catch (error) {
    return failure(error, 'read');
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  try {
    retrying(() => fs.copyFileSync(src, temp, fs.constants.COPYFILE_EXCL));
  } catch (error) {
    // EEXIST: the temp name is taken by a file that is not ours; anything else may have created it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') unlinkQuietly(temp);
    // copyfile names the source in every error; whether the source is still readable tells the side.
    return failure(error, readable(src) ? 'write' : 'read');
  }
  try {
    if (fsync) fsyncPath(temp);
    if (dest !== null) fs.renameSync(temp, dest);
    if (dest !== null && fsync) fsyncPath(dirname(dest));
    // The size fstat gave when the copy began: no second stat of what copyfile just wrote.
    return { ok: true, size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
  } catch (error) {
    unlinkQuietly(temp);
    return failure(error, 'write');
  }
}

/** The small-file half of `copy`: the bytes already read, written with the source's mode, as copyfile does. */
function writeCopy(
  data: Buffer,
  stats: fs.Stats,
  temp: string,
  dest: string | null,
  fsync: boolean,
): OpResult {
  const mode = stats.mode & 0o7777;
  let created = false;
  try {
    const fd = retrying(() => fs.openSync(temp, WRITE_FLAGS, mode));
    created = true;
    try {
      let offset = 0;
      while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
      // open's mode passes through the umask; copyfile keeps the source's exact mode, and so do we.
      if ((mode & ~umask) !== mode) fs.fchmodSync(fd, mode);
      if (fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (dest !== null) fs.renameSync(temp, dest);
    if (dest !== null && fsync) fsyncPath(dirname(dest));
    return { ok: true, size: data.length, mtimeMs: stats.mtimeMs, mode };
  } catch (error) {
    if (created) unlinkQuietly(temp);
    const e = error as NodeJS.ErrnoException & { dest?: string };
    e.dest ??= dest ?? temp;
    return failure(error, 'write');
  }
}

export function writeAll(op: Extract<SyncOp, { op: 'write' }>): OpResult {
  const written: string[] = [];
  let size = 0;
  try {
    for (const file of op.files) {
      const fd = retrying(() => fs.openSync(file.temp, WRITE_FLAGS, op.mode ?? 0o666));
      written.push(file.temp);
      try {
        let offset = 0;
        while (offset < file.data.length)
          offset += fs.writeSync(fd, file.data, offset, file.data.length - offset);
        // Through open's mode the umask would apply: an in-place result keeps its input's exact mode.
        if (op.mode !== null) fs.fchmodSync(fd, op.mode);
        if (op.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      size += file.data.length;
    }
    if (op.commit) {
      for (const file of op.files) fs.renameSync(file.temp, file.dest);
      if (op.fsync) for (const dir of new Set(op.files.map((f) => dirname(f.dest)))) fsyncPath(dir);
    }
    return { ok: true, size, mtimeMs: 0, mode: op.mode ?? 0 };
  } catch (error) {
    for (const temp of written) unlinkQuietly(temp);
    // Name the output being written (not its temp): a rename error already carries its `dest`.
    const e = error as NodeJS.ErrnoException & { dest?: string };
    e.dest ??= op.files[Math.max(0, written.length - 1)]?.dest;
    return failure(error, 'write');
  }
}

function renameAll(op: Extract<SyncOp, { op: 'rename' }>): OpResult {
  try {
    for (const [temp, dest] of op.pairs) fs.renameSync(temp, dest);
    for (const dir of op.fsyncDirs) fsyncPath(dir);
    return { ok: true, size: 0, mtimeMs: 0, mode: 0 };
  } catch (error) {
    return failure(error, 'write');
  }
}

export function runOp(op: SyncOp): OpResult {
  switch (op.op) {
    case 'read':
      return read(op.path, op.limit);
    case 'copy':
      return copy(op.src, op.temp, op.dest, op.fsync);
    case 'write':
      return writeAll(op);
    case 'rename':
      return renameAll(op);
  }
}
