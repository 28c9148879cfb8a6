import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { Tree } from '../beneath.js';
import { openRegularSync, readUpToSync } from '../open.js';
import { retryOnFdExhaustionSync } from '../retry.js';

/**
 * One file's steps, with synchronous system calls, as an IO worker runs them
 * (handle.ts loops over a request's files). Each throws the fs error with a
 * `side` of its own choosing left to the caller, except where noted.
 */

export const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
// Reading the umask is all a worker may do with it (DEP0139 is documentation-only).
const umask = process.umask();

/**
 * A temp is created readable by its owner at most (0600, or the final mode if stricter),
 * so that while it is written it is never more readable than its input; it gets its final
 * mode, exactly (not through the umask), once complete.
 */
export function tempMode(mode: number | null): number {
  return (mode ?? 0o666 & ~umask) & 0o600;
}

export function finalMode(mode: number | null): number {
  return mode ?? 0o666 & ~umask;
}

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

export function unlinkQuietly(path: fs.PathLike): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Never created, or already gone.
  }
}

export function fsyncPath(path: fs.PathLike): void {
  const fd = retryOnFdExhaustionSync(() => fs.openSync(path, 'r'));
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeFully(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

export interface FileMeta {
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
}

/**
 * Refuses a read that may mix two versions of a file: its size or mtime changed between
 * the fstat before the read and the one after, or it held fewer or more bytes than it said.
 * (A file that claims 0 bytes, as /proc's do, is read to its end and may hold any number.)
 */
export function checkUnchanged(before: fs.Stats, after: fs.Stats, bytes: number): void {
  const claimsNothing = before.size === 0 && after.size === 0;
  if (
    after.size === before.size &&
    after.mtimeMs === before.mtimeMs &&
    (bytes === before.size || claimsNothing)
  )
    return;
  const sizes =
    after.size === before.size
      ? `${bytes} of ${before.size} bytes read`
      : `size ${before.size} -> ${after.size} bytes`;
  const mtime = after.mtimeMs === before.mtimeMs ? '' : ', modified meanwhile';
  throw Object.assign(new Error(`changed while it was read (${sizes}${mtime})`), { code: 'ECHANGED' });
}

export interface OutputData {
  readonly temp: string;
  readonly dest: string;
  readonly data: Uint8Array;
}

/**
 * Writes each output to its new temp (see tempMode; then mode `mode`, exactly, when given, or
 * the default), then, with `commit`, renames them all once all are complete: every name
 * resolved beneath the tree's root (beneath.ts). On failure every temp written is removed and
 * the error names the output (`dest`) being written.
 */
export function writeTemps(
  tree: Tree,
  outputs: readonly OutputData[],
  mode: number | null,
  fsync: boolean,
  commit: boolean,
): number {
  // Plain loops, no iterators: a small file's whole copy runs through here.
  let size = 0;
  let current = 0; // the output being written
  const created: fs.PathLike[] = []; // temps that exist, by their safe path
  try {
    for (; current < outputs.length; current += 1) {
      const output = outputs[current] as OutputData;
      const temp = tree.resolve(output.temp);
      const fd = retryOnFdExhaustionSync(() => fs.openSync(temp, WRITE_FLAGS, tempMode(mode)));
      created.push(temp);
      try {
        writeFully(fd, output.data);
        fs.fchmodSync(fd, finalMode(mode));
        if (fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      size += output.data.length;
    }
    if (commit)
      renameAll(
        tree,
        outputs.map((output) => [output.temp, output.dest] as const),
        fsync,
      );
    return size;
  } catch (error) {
    for (const temp of created) unlinkQuietly(temp);
    // Name the output being written (not its temp); a rename's error already names its own.
    const e = error as NodeJS.ErrnoException & { dest?: string };
    e.dest ??= outputs[Math.min(current, outputs.length - 1)]?.dest;
    throw new SidedError('write', error);
  }
}

/**
 * Renames complete temps into place, each within its own directory's descriptor (a symlink at
 * the destination is replaced, never followed), then (with `fsync`) flushes those directories.
 */
export function renameAll(tree: Tree, pairs: readonly (readonly [string, string])[], fsync: boolean): void {
  for (const [temp, dest] of pairs) {
    try {
      fs.renameSync(tree.resolve(temp), tree.resolve(dest));
    } catch (error) {
      // Named by the caller's path, not the descriptor path the rename went through.
      throw Object.assign(error as Error, { dest });
    }
  }
  if (fsync) for (const dir of new Set(pairs.map(([, dest]) => dirname(dest)))) fs.fsyncSync(tree.dirFd(dir));
}

/** Removes `path` (a temp of ours) through its directory's descriptor. */
export function unlinkBeneath(tree: Tree, path: string): void {
  fs.unlinkSync(tree.resolve(path));
}

/** Where reads gather a request's bytes; grows as needed, and is reused request after request. */
let arena = Buffer.allocUnsafeSlow(256 * 1024);

export function arenaBytes(length: number): Uint8Array {
  return arena.subarray(0, length);
}

export interface ReadInto extends FileMeta {
  /** Bytes read, or 'large' (at least `limit`: to be streamed) or 'deferred' (past `cap`: ask again). */
  readonly read: number | 'large' | 'deferred' | 'small';
}

/**
 * O_DIRECT wants the buffer's address, the offset and the length aligned to the device's
 * block. JavaScript cannot see a buffer's address, but a WebAssembly memory is mapped
 * page-aligned (64 KiB pages): reads land there, then are copied into the arena.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: { Memory: new (size: { initial: number }) => WasmMemory };
};
let aligned: WasmMemory | undefined;
const DIRECT_BLOCK = 4096;
const WASM_PAGE = 65536;

function readDirect(fd: number, size: number, into: Buffer, at: number): number {
  // One block more than the size: a file that grew is read as it was, never past the arena.
  const want = Math.ceil((size + 1) / DIRECT_BLOCK) * DIRECT_BLOCK;
  aligned ??= new wasm.Memory({ initial: 1 });
  const pages = Math.ceil(want / WASM_PAGE);
  if (aligned.buffer.byteLength < want) aligned.grow(pages - aligned.buffer.byteLength / WASM_PAGE);
  const view = Buffer.from(aligned.buffer, 0, want);
  let length = 0;
  while (length < want) {
    const asked = want - length;
    const n = fs.readSync(fd, view, length, asked, length);
    length += n;
    // Short: the end of the file (and the next offset would not be aligned).
    if (n < asked) break;
  }
  const read = Math.min(length, size);
  view.copy(into, at, 0, read);
  return read;
}

/** Reads one file into the arena at `at`, unless it is to be streamed or waits for another round. */
export function readInto(
  path: string,
  at: number,
  bounds: { readonly limit: number; readonly cap: number; readonly min: number },
  direct = false,
): ReadInto {
  const { limit, cap, min } = bounds;
  let fd: number | undefined;
  try {
    const opened = openRegularSync(path, direct ? fs.constants.O_DIRECT : 0);
    fd = opened.fd;
    const { stats } = opened;
    const meta = { size: stats.size, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
    if (stats.size < min) return { read: 'small', ...meta };
    if (stats.size >= limit) return { read: 'large', ...meta };
    if (at > 0 && at + stats.size > cap) return { read: 'deferred', ...meta };
    if (at + stats.size > arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(arena.length * 2, at + stats.size));
      arena.copy(grown, 0, 0, at);
      arena = grown;
    }
    const read = direct ? readDirect(fd, stats.size, arena, at) : readUpToSync(fd, arena, at, stats.size);
    checkUnchanged(stats, fs.fstatSync(fd), read);
    return { read, ...meta };
  } catch (error) {
    throw new SidedError('read', error);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
