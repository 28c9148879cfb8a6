import { dirname } from 'node:path';
import { GlobpipeError } from '../errors.js';
import type { Io } from './io.js';
import type { OpError, OpResult } from './sync-ops.js';
import type { SyncIoPool } from './worker-pool.js';

export interface ReadResult {
  /** Absent when the file is at least the limit asked for: the caller streams it. */
  readonly data?: Buffer;
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
}

export interface OutputFile {
  readonly temp: string;
  readonly dest: string;
  readonly data: Uint8Array;
}

/** An IO failure with the side it happened on, so the file's error can say "cannot read" or "cannot write". */
export class SideError extends Error {
  override readonly name = 'SideError';
  readonly code: string | undefined;
  readonly side: 'read' | 'write';
  readonly path: string | undefined;
  readonly dest: string | undefined;

  constructor(error: OpError) {
    super(error.message);
    this.code = error.code;
    this.side = error.side;
    this.path = error.path;
    this.dest = error.dest;
  }
}

/**
 * The whole-file operations of a file job: one call per step of a small file.
 * Two implementations: batched synchronous calls in worker threads (the fast
 * path), and the async Io layer (where tests inject faults).
 */
export interface FileOps {
  read(path: string, limit: number): Promise<ReadResult>;
  /** Copies `src` to `temp`; renames it to `dest` when given. Resolves with the size. */
  copy(src: string, temp: string, dest: string | null, fsync: boolean): Promise<number>;
  /** Writes every temp; when `commit`, renames them all once all are complete. */
  write(files: readonly OutputFile[], mode: number | null, fsync: boolean, commit: boolean): Promise<void>;
  rename(pairs: readonly (readonly [string, string])[], fsync: boolean): Promise<void>;
}

/** A worker's failure as the error a file job throws: a SideError, or ENOTFILE for what is not a file. */
export function opFailure(error: OpError): Error {
  if (error.code === 'ENOTFILE') {
    return new GlobpipeError('ENOTFILE', `not a regular file: it ${error.what ?? 'is not a regular file'}`);
  }
  return new SideError(error);
}

function unwrap(result: OpResult): Extract<OpResult, { ok: true }> {
  if (result.ok) return result;
  throw opFailure(result.error);
}

export function poolFileOps(pool: SyncIoPool): FileOps {
  return {
    async read(path, limit) {
      const result = unwrap(await pool.run({ op: 'read', path, limit }));
      const data =
        result.data === undefined
          ? undefined
          : Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength);
      return {
        size: result.size,
        mtimeMs: result.mtimeMs,
        mode: result.mode,
        ...(data === undefined ? {} : { data }),
      };
    },
    async copy(src, temp, dest, fsync) {
      return unwrap(await pool.run({ op: 'copy', src, temp, dest, fsync })).size;
    },
    async write(files, mode, fsync, commit) {
      // Copied into the message, never transferred: a transform may return a buffer it keeps
      // (a constant, a cache), and transferring would detach it under its feet.
      unwrap(await pool.run({ op: 'write', files, mode, fsync, commit }));
    },
    async rename(pairs, fsync) {
      const fsyncDirs = fsync ? [...new Set(pairs.map(([, dest]) => dirname(dest)))] : [];
      unwrap(await pool.run({ op: 'rename', pairs, fsyncDirs }));
    },
  };
}

/** The same operations through the async Io layer: slower, but every call can be faulted by a test. */
export function ioFileOps(io: Io): FileOps {
  const side = async <T>(which: 'read' | 'write', call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof GlobpipeError) throw error;
      const e = error as NodeJS.ErrnoException & { dest?: string };
      throw new SideError({ code: e.code, message: e.message, path: e.path, dest: e.dest, side: which });
    }
  };
  return {
    read: (path, limit) => side('read', () => io.readFile(path, limit)),
    async copy(src, temp, dest, fsync) {
      try {
        await io.copyFile(src, temp);
      } catch (error) {
        await io.unlink(temp).catch(() => {});
        const readable = await io.isReadableFile(src);
        const e = error as NodeJS.ErrnoException;
        throw new SideError({
          code: e.code,
          message: e.message,
          path: e.path,
          dest: undefined,
          side: readable ? 'write' : 'read',
        });
      }
      return side('write', async () => {
        try {
          if (fsync) await io.fsync(temp);
          const { size } = await io.stat(temp);
          if (dest !== null) await io.rename(temp, dest);
          if (dest !== null && fsync) await io.fsync(dirname(dest));
          return size;
        } catch (error) {
          await io.unlink(temp).catch(() => {});
          throw error;
        }
      });
    },
    async write(files, mode, fsync, commit) {
      const written: string[] = [];
      await side('write', async () => {
        try {
          for (const file of files) {
            written.push(file.temp);
            await io.writeFile(file.temp, file.data, { mode: mode ?? undefined, flush: fsync });
            if (mode !== null) await io.chmod(file.temp, mode);
          }
          if (commit) {
            for (const file of files) await io.rename(file.temp, file.dest);
            if (fsync) for (const dir of new Set(files.map((f) => dirname(f.dest)))) await io.fsync(dir);
          }
        } catch (error) {
          for (const temp of written) await io.unlink(temp).catch(() => {});
          const e = error as NodeJS.ErrnoException & { dest?: string };
          e.dest ??= files[Math.max(0, written.length - 1)]?.dest;
          throw error;
        }
      });
    },
    async rename(pairs, fsync) {
      await side('write', async () => {
        for (const [temp, dest] of pairs) await io.rename(temp, dest);
        if (fsync) for (const dir of new Set(pairs.map(([, dest]) => dirname(dest)))) await io.fsync(dir);
      });
    },
  };
}
