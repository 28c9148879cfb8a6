import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { fsPath } from '../paths.js';
import { describeType } from './file-type.js';
import { retryOnFdExhaustion, retryOnFdExhaustionSync } from './retry.js';

/**
 * Opening an input: never blocking on a FIFO that replaced a file (O_NONBLOCK),
 * and refusing anything but a regular file with an ENOTFILE that says what it is
 * instead. Twins: sync for the IO workers, async for the main thread's streams.
 */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function notAFile(stats: fs.Stats): Error {
  return Object.assign(new Error('not a regular file'), { code: 'ENOTFILE', what: describeType(stats) });
}

/** The caller closes `fd`. `flags`: more to open with (O_DIRECT). */
export function openRegularSync(path: string, flags = 0): { fd: number; stats: fs.Stats } {
  const fd = retryOnFdExhaustionSync(() => fs.openSync(fsPath(path), READ_FLAGS | flags));
  try {
    const stats = fs.fstatSync(fd);
    if (stats.isFile()) return { fd, stats };
    throw notAFile(stats);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** The caller closes `handle`. */
export async function openRegular(path: string): Promise<{ handle: fsp.FileHandle; stats: fs.Stats }> {
  const handle = await retryOnFdExhaustion(() => fsp.open(fsPath(path), READ_FLAGS));
  try {
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, stats };
    throw notAFile(stats);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads from the start of `fd` into `buffer` at `offset` until `want` bytes or the end, and
 * returns the bytes read: as readFileSync does, up to the size fstat told, so a file that grew
 * since is read as it was.
 */
export function readUpToSync(fd: number, buffer: Uint8Array, offset: number, want: number): number {
  let length = 0;
  while (length < want) {
    const n = fs.readSync(fd, buffer, offset + length, want - length, length);
    if (n === 0) break;
    length += n;
  }
  return length;
}
