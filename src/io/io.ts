import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { GlobpipeError } from '../errors.js';
import type { ReadResult } from './file-ops.js';
import { describeType } from './file-type.js';

/**
 * The file-system calls the pipeline makes, and nothing else. Passed in through
 * the settings so tests can inject faults (ENOSPC, EMFILE, a file vanishing).
 */
export interface Io {
  /**
   * Reads a regular file whole when smaller than `limit` (else only its stats);
   * anything but a regular file (a directory, a FIFO) is an error, never a wait.
   */
  readFile(path: string, limit: number): Promise<ReadResult>;
  /** Opens a regular file for streaming, with the same check. */
  openReadStream(path: string): Promise<Readable>;
  /** Creates `path`, which must not exist (flag `wx`). */
  writeFile(
    path: string,
    data: Uint8Array,
    options: { mode?: number | undefined; flush: boolean },
  ): Promise<void>;
  /** Creates `path`, which must not exist (flag `wx`), and streams into it. */
  openWriteStream(path: string, options: { mode?: number | undefined; flush: boolean }): Promise<Writable>;
  /** Copies to `dest`, which must not exist. */
  copyFile(src: string, dest: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<fs.Stats>;
  lstat(path: string): Promise<fs.Stats>;
  readlink(path: string): Promise<string>;
  realpath(path: string): Promise<string>;
  /** Whether `path` is a regular file this process may read. */
  isReadableFile(path: string): Promise<boolean>;
  chmod(path: string, mode: number): Promise<void>;
  /** Flushes a file or directory to stable storage. */
  fsync(path: string): Promise<void>;
}

/** Out of descriptors: other files in flight will close theirs, so wait and try again. */
const retryCodes = new Set(['EMFILE', 'ENFILE']);
const RETRY_FOR_MS = 60_000;

/**
 * Runs `operation`, retrying while the process or system is out of file
 * descriptors (`ulimit -n 64` with `-j 500` completes instead of failing).
 */
export async function retryOnFdExhaustion<T>(operation: () => Promise<T>): Promise<T> {
  let delay = 1;
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!retryCodes.has((error as NodeJS.ErrnoException).code ?? '') || Date.now() > deadline) throw error;
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 50);
    }
  }
}

/** O_NONBLOCK: opening a FIFO that replaced a file must not wait for a writer. */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

async function openRegular(path: string): Promise<{ handle: fsp.FileHandle; stats: fs.Stats }> {
  const handle = await retryOnFdExhaustion(() => fsp.open(path, READ_FLAGS));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new GlobpipeError('ENOTFILE', `not a regular file: it ${describeType(stats)}`);
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readWhole(path: string, limit: number): Promise<ReadResult> {
  const { handle, stats } = await openRegular(path);
  try {
    const meta = { size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
    const { size } = stats;
    if (size >= limit) return meta;
    // As fs.readFile does for regular files: read the size fstat gave, in as few reads as the kernel allows.
    const buffer = Buffer.allocUnsafe(size);
    let length = 0;
    while (length < size) {
      const { bytesRead } = await handle.read(buffer, length, size - length, length);
      if (bytesRead === 0) break; // shrank since fstat
      length += bytesRead;
    }
    return { ...meta, size: length, data: length === size ? buffer : buffer.subarray(0, length) };
  } finally {
    await handle.close();
  }
}

const openFd = promisify(fs.open);

export const nodeIo: Io = {
  readFile: readWhole,
  openReadStream: async (path) => {
    const { handle } = await openRegular(path);
    return handle.createReadStream({ highWaterMark: 256 * 1024, autoClose: true });
  },
  writeFile: (path, data, { mode, flush }) =>
    retryOnFdExhaustion(() => fsp.writeFile(path, data, { flag: 'wx', mode, flush })),
  openWriteStream: async (path, { mode, flush }) => {
    // A plain descriptor, owned and closed by the stream (a FileHandle would also try to close it on GC).
    const fd = await retryOnFdExhaustion(() => openFd(path, 'wx', mode));
    return fs.createWriteStream(path, { fd, flush, highWaterMark: 256 * 1024, autoClose: true });
  },
  copyFile: (src, dest) => retryOnFdExhaustion(() => fsp.copyFile(src, dest, fs.constants.COPYFILE_EXCL)),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true });
  },
  readdir: (path) => retryOnFdExhaustion(() => fsp.readdir(path)),
  stat: (path) => fsp.stat(path),
  lstat: (path) => fsp.lstat(path),
  readlink: (path) => fsp.readlink(path),
  realpath: (path) => fsp.realpath(path),
  isReadableFile: async (path) => {
    try {
      await fsp.access(path, fs.constants.R_OK);
      return (await fsp.stat(path)).isFile();
    } catch {
      return false;
    }
  },
  chmod: (path, mode) => fsp.chmod(path, mode),
  fsync: (path) =>
    retryOnFdExhaustion(async () => {
      const handle = await fsp.open(path, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }),
};
