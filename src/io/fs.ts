import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { ioFailure, workerFailure } from '../errors.js';
import { decodeName, fsPath } from '../paths.js';
import { createBeneath, makeDirBeneath, removeDirBeneath } from './beneath-main.js';
import type { Carrier } from './inline-carrier.js';
import { openRegular } from './open.js';
import type { CopyItem, IoPort, Outcome, TempPair } from './port.js';
import { RecyclingReadStream } from './read-stream.js';
import { retryOnFdExhaustion } from './retry.js';
import { tempMode } from './worker/ops.js';
import { sharedPool, WorkerExit } from './worker/pool.js';
import { joinNames, type Reply, type Request } from './worker/protocol.js';
import { died, metaOutcome, outcome, readOutcome, writeRequest } from './worker-replies.js';

/**
 * A streamed file is read this much at a time: each chunk is a round trip through libuv's
 * pool and the stream machinery, so 256 KiB chunks held a warm sequential read to ~1.3 GiB/s
 * where 1 MiB ones reach ~2.5-4 GiB/s (a 256 MiB file, this machine). A stream holds one or two.
 */
export const READ_CHUNK = 1024 * 1024;

/**
 * The io port on the real file system: whole-file steps go to the IO workers as
 * one message per call (synchronous syscalls there cost a fraction of a libuv
 * threadpool round trip each), and so does the removal of temps; a stream's temp
 * (created and closed on this thread: a descriptor belongs to the thread that opened
 * it), reads of streams, metadata and output directories (io/beneath.ts) are here.
 */
export function nodePort(pool: Carrier = sharedPool()): IoPort {
  const send = (body: Request, count: number, transfer: ArrayBuffer[] = []) =>
    pool.call<Reply>(body, { transfer, weight: count });
  /** One path's call: throws its failure, as fs/promises would (a NUL byte in it is refused as such). */
  const single = async (body: Request) => {
    const reply = await send(body, 1).catch((error: Error) => died(error, 1));
    const result = outcome(reply, 0, {});
    if (!result.ok) throw Object.assign(new Error(result.error.message), result.error);
  };

  const port: IoPort = {
    read: (paths, { limit, cap, min = 0, direct = false }) =>
      isolating(
        paths,
        async (some) => {
          const reply = await send(
            { op: 'read', paths: joinNames(some), count: some.length, limit, cap, min, direct },
            some.length,
          );
          return some.map((_, i) => readOutcome(reply, i));
        },
        () => [],
        'read',
      ),
    copy: (items, { fsync, commit, root }) =>
      isolating(
        items,
        async (some) => {
          const names: string[] = [];
          for (const item of some) names.push(item.src, item.temp, item.dest);
          const reply = await send(
            { op: 'copy', root, names: joinNames(names), count: some.length, fsync, commit },
            some.length,
          );
          return some.map((_, i) => metaOutcome(reply, i));
        },
        (item) => [item.temp],
        'write',
      ),
    write: (items, flags) =>
      isolating(
        items,
        async (some) => {
          const { request, transfer } = writeRequest(some, flags);
          const reply = await send(request, some.length, transfer);
          return some.map((_, i) => outcome(reply, i, { size: reply.sizes[i] as number }));
        },
        (item) => item.outputs.map((output) => output.temp),
        'write',
      ),
    rename: (items, { fsync, root }) =>
      renaming(items, async (some) => {
        const names = joinNames(some.flatMap((pairs) => pairs.flatMap((pair) => [...pair])));
        const counts = Uint32Array.from(some, (pairs) => pairs.length);
        const reply = await send({ op: 'rename', root, names, counts, fsync }, some.length);
        return some.map((_, i) => outcome(reply, i, {}));
      }),

    openReadStream: async (path, options) => {
      const { handle } = await openRegular(path);
      if (options?.recycle === true) return new RecyclingReadStream(handle, READ_CHUNK);
      return handle.createReadStream({ highWaterMark: READ_CHUNK, autoClose: true });
    },
    openWriteStream: async (path, { mode, flush, root }) => {
      // Private (0600, or the final mode if stricter) until complete, as every temp (worker/ops.ts).
      const fd = await createBeneath(root, path, tempMode(mode)).catch((error: NodeJS.ErrnoException) => {
        const failure = ioFailure(Object.assign(error, { dest: path }), 'write');
        throw Object.assign(new Error(failure.message), failure);
      });
      // The descriptor is the stream's: before closing it, the temp gets its final mode (and is flushed).
      const close = (fd: number, callback: (error?: NodeJS.ErrnoException | null) => void) =>
        fs.fchmod(fd, mode, (chmodError) => {
          const closeIt = (error?: NodeJS.ErrnoException | null) =>
            fs.close(fd, (closeError) => callback(error ?? chmodError ?? closeError));
          if (flush && chmodError === null) fs.fsync(fd, closeIt);
          else closeIt();
        });
      return fs.createWriteStream(path, {
        fd,
        highWaterMark: 256 * 1024,
        autoClose: true,
        fs: { write: fs.write, writev: fs.writev, open: fs.open, close },
      });
    },
    mkdir: (path, root) => {
      const { sync } = pool;
      return sync === undefined
        ? makeDirBeneath(root, path)
        : new Promise((done) => done(sync.mkdir(path, root)));
    },
    rmdir: async (path, root) => {
      // A kept descriptor of this directory (or beneath it) would name nothing now.
      pool.release?.();
      await removeDirBeneath(root, path);
    },
    unlink: (path, root) => single({ op: 'unlink', root, paths: path, count: 1 }),
    // Names come back as bytes, decoded so that those that are not UTF-8 stay exact (paths.ts).
    readdir: async (path) =>
      pool.sync === undefined
        ? (await retryOnFdExhaustion(() => fsp.readdir(fsPath(path), { encoding: 'buffer' }))).map(decodeName)
        : pool.sync.readdir(path),
    stat: (path) => fsp.stat(fsPath(path)),
    readlink: async (path) => decodeName(await fsp.readlink(fsPath(path), { encoding: 'buffer' })),
    realpath: async (path) => decodeName(await fsp.realpath(fsPath(path), { encoding: 'buffer' })),
    warm: (files) => pool.warm(files),
    release: () => pool.release?.(),
  };
  return port;
}

/**
 * Runs `call` on every item at once. If the worker dies under it, its temps are removed and
 * the call is made again: as it was when it had only waited behind the call that killed the
 * worker; else each item alone, so the file that kills a worker fails by itself instead of
 * taking the rest of its batch along.
 */
async function isolating<I, O>(
  items: readonly I[],
  call: (items: readonly I[]) => Promise<O[]>,
  temps: (item: I) => string[],
  side: 'read' | 'write',
  retries = 3,
): Promise<O[]> {
  try {
    return await call(items);
  } catch (error) {
    const failAll = () =>
      items.map(() => ({ ok: false, ms: 0, error: workerFailure(error as Error, side) }) as O);
    // No worker could take it (one that cannot start, say): each file fails with that, none is lost.
    if (!(error instanceof WorkerExit)) return failAll();
    await Promise.all(items.flatMap(temps).map((temp) => fsp.unlink(fsPath(temp)).catch(() => {})));
    if (!error.started && retries > 0) return isolating(items, call, temps, side, retries - 1);
    if (items.length === 1) return failAll();
    return (await Promise.all(items.map((item) => isolating([item], call, temps, side, retries)))).flat();
  }
}

/**
 * Renames, sent again like the other calls when they only waited behind a worker's death.
 * One the dead worker may have run is not repeated (a rename done twice would fail): a
 * file whose temps are all gone and whose destinations all exist was renamed.
 */
async function renaming(
  items: readonly (readonly TempPair[])[],
  call: (items: readonly (readonly TempPair[])[]) => Promise<Outcome<object>[]>,
  retries = 3,
): Promise<Outcome<object>[]> {
  try {
    return await call(items);
  } catch (error) {
    if (error instanceof WorkerExit && !error.started && retries > 0)
      return renaming(items, call, retries - 1);
    const exists = (path: string) =>
      fsp.lstat(fsPath(path)).then(
        () => true,
        () => false,
      );
    return Promise.all(
      items.map(async (pairs): Promise<Outcome<object>> => {
        const done = await Promise.all(
          pairs.map(async ([temp, dest]) => !(await exists(temp)) && (await exists(dest))),
        );
        return done.every(Boolean)
          ? { ok: true, ms: 0 }
          : { ok: false, ms: 0, error: workerFailure(error as Error, 'write') };
      }),
    );
  }
}

export type { CopyItem };
