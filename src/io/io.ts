import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

/**
 * The file-system calls the pipeline makes, and nothing else. Passed in through
 * the settings so tests can inject faults (ENOSPC, EMFILE, a file vanishing).
 */
export interface Io {
  readFile(path: string): Promise<Buffer>;
  createReadStream(path: string): Readable;
  /** Creates `path`, which must not exist (flag `wx`). */
  writeFile(path: string, data: Uint8Array, options: { mode?: number; flush: boolean }): Promise<void>;
  /** Creates `path`, which must not exist (flag `wx`). */
  createWriteStream(path: string, options: { mode?: number; flush: boolean }): Writable;
  /** Copies to `dest`, which must not exist. */
  copyFile(src: string, dest: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  stat(path: string): Promise<fs.Stats>;
  /** Flushes a file or directory to stable storage. */
  fsync(path: string): Promise<void>;
}

export const nodeIo: Io = {
  readFile: (path) => fsp.readFile(path),
  createReadStream: (path) => fs.createReadStream(path, { highWaterMark: 256 * 1024 }),
  writeFile: (path, data, { mode, flush }) => fsp.writeFile(path, data, { flag: 'wx', mode, flush }),
  createWriteStream: (path, { mode, flush }) =>
    fs.createWriteStream(path, { flags: 'wx', mode, flush, highWaterMark: 256 * 1024 }),
  copyFile: (src, dest) => fsp.copyFile(src, dest, fs.constants.COPYFILE_EXCL),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true });
  },
  stat: (path) => fsp.stat(path),
  fsync: async (path) => {
    const handle = await fsp.open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
