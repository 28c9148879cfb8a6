import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { promisify } from 'node:util';
import { workerFailure } from '../errors.js';
import { openRegular } from './open.js';
import type { CopyItem, FileMeta, IoPort, Outcome, ReadOutcome, WriteItem } from './port.js';
import { retryOnFdExhaustion } from './retry.js';
import { sharedPool, WorkerExit, type WorkerPool } from './worker/pool.js';
import { DEFERRED, FAILED, joinNames, LARGE, NO_MODE, type Reply, type Request } from './worker/protocol.js';

/**
 * The io port on the real file system: whole-file steps go to the IO workers as
 * one message per call (synchronous syscalls there cost a fraction of a libuv
 * threadpool round trip each); streams and metadata use fs/promises here.
 */
export function nodePort(pool: WorkerPool = sharedPool()): IoPort {
  const send = (body: Request, count: number, transfer: ArrayBuffer[] = []) =>
    pool.call<Reply>(body, { transfer, weight: count });
  const openFd = promisify(fs.open);

  const port: IoPort = {
    read: (paths, { limit, cap }) =>
      isolating(
        paths,
        async (some) => {
          const reply = await send(
            { op: 'read', paths: joinNames(some), count: some.length, limit, cap },
            some.length,
          );
          return some.map((_, i) => readOutcome(reply, i));
        },
        () => [],
        'read',
      ),
    copy: (items, { fsync, commit }) =>
      isolating(
        items,
        async (some) => {
          const names: string[] = [];
          for (const item of some) names.push(item.src, item.temp, item.dest);
          const reply = await send(
            { op: 'copy', names: joinNames(names), count: some.length, fsync, commit },
            some.length,
          );
          return some.map((_, i) => metaOutcome(reply, i));
        },
        (item) => [item.temp],
        'write',
      ),
    write: (items, { fsync, commit }) =>
      isolating(
        items,
        async (some) => {
          const { request, transfer } = writeRequest(some, fsync, commit);
          const reply = await send(request, some.length, transfer);
          return some.map((_, i) => outcome(reply, i, { size: reply.sizes[i] as number }));
        },
        (item) => item.outputs.map((output) => output.temp),
        'write',
      ),
    rename: async (items, { fsync }) => {
      const names = joinNames(items.flatMap((pairs) => pairs.flatMap((pair) => [...pair])));
      const counts = Uint32Array.from(items, (pairs) => pairs.length);
      // Never retried: a rename the dead worker made would fail the second time.
      const reply = await send({ op: 'rename', names, counts, fsync }, items.length).catch((error: Error) =>
        died(error, items.length),
      );
      return items.map((_, i) => outcome(reply, i, {}));
    },

    openReadStream: async (path) => {
      const { handle } = await openRegular(path);
      return handle.createReadStream({ highWaterMark: 256 * 1024, autoClose: true });
    },
    openWriteStream: async (path, { mode, flush }) => {
      // A plain descriptor, owned and closed by the stream (a FileHandle would also try to close it on GC).
      const fd = await retryOnFdExhaustion(() => openFd(path, 'wx', mode));
      return fs.createWriteStream(path, { fd, flush, highWaterMark: 256 * 1024, autoClose: true });
    },
    mkdir: async (path) => {
      await fsp.mkdir(path, { recursive: true });
    },
    readdir: (path) => retryOnFdExhaustion(() => fsp.readdir(path)),
    stat: (path) => fsp.stat(path),
    readlink: (path) => fsp.readlink(path),
    realpath: (path) => fsp.realpath(path),
    unlink: (path) => fsp.unlink(path),
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
    warm: (files) => pool.warm(files),
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
    if (!(error instanceof WorkerExit)) throw error;
    await Promise.all(items.flatMap(temps).map((temp) => fsp.unlink(temp).catch(() => {})));
    if (!error.started && retries > 0) return isolating(items, call, temps, side, retries - 1);
    if (items.length === 1) return [{ ok: false, ms: 0, error: workerFailure(error, side) } as O];
    return (await Promise.all(items.map((item) => isolating([item], call, temps, side, retries)))).flat();
  }
}

function died(error: Error, count: number): Reply {
  const errors = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [i, workerFailure(error, 'write')]),
  );
  return { sizes: new Float64Array(count).fill(FAILED), micros: new Float64Array(count), errors };
}

function failure(reply: Reply, i: number): Outcome<never> {
  const error = reply.errors[i] ?? {
    code: undefined,
    message: 'the IO worker gave no reason',
    side: 'write',
  };
  return { ok: false, ms: (reply.micros[i] as number) / 1000, error };
}

// Outcomes are built field by field (no spread): a batch makes one per file.
function outcome<T extends object>(reply: Reply, i: number, value: T): Outcome<T> {
  if (reply.sizes[i] === FAILED) return failure(reply, i);
  return Object.assign(value, { ok: true as const, ms: (reply.micros[i] as number) / 1000 });
}

function meta(reply: Reply, i: number, size: number): FileMeta {
  return { size, mtimeMs: reply.mtimes?.[i] ?? 0, mode: reply.modes?.[i] ?? 0 };
}

function metaOutcome(reply: Reply, i: number): Outcome<FileMeta> {
  if (reply.sizes[i] === FAILED) return failure(reply, i);
  const ms = (reply.micros[i] as number) / 1000;
  return {
    ok: true,
    ms,
    size: reply.sizes[i] as number,
    mtimeMs: reply.mtimes?.[i] ?? 0,
    mode: reply.modes?.[i] ?? 0,
  };
}

function readOutcome(reply: Reply, i: number): ReadOutcome {
  const size = reply.sizes[i] as number;
  if (size === FAILED) return failure(reply, i);
  if (size === DEFERRED) return outcome(reply, i, { state: 'deferred' as const });
  const file = meta(reply, i, size === LARGE ? (reply.lengths?.[i] ?? 0) : size);
  if (size === LARGE) return outcome(reply, i, Object.assign(file, { state: 'large' as const }));
  const data = Buffer.from(reply.data as ArrayBuffer, reply.offsets?.[i] ?? 0, size);
  return outcome(reply, i, Object.assign(file, { state: 'read' as const, data }));
}

/** Every output of every file, back to back in one buffer that moves to the worker (not copied again). */
function writeRequest(items: readonly WriteItem[], fsync: boolean, commit: boolean) {
  let total = 0;
  let count = 0;
  for (const item of items) {
    count += item.outputs.length;
    for (const output of item.outputs) total += output.data.length;
  }
  // Copied here, never transferred: a transform may return a buffer it keeps (a constant, a
  // cache), and transferring would detach it under its feet.
  const data = new Uint8Array(total);
  const names: string[] = [];
  const counts = new Uint32Array(items.length);
  const modes = new Float64Array(items.length);
  const ends = new Float64Array(count);
  let offset = 0;
  let k = 0;
  for (const [i, item] of items.entries()) {
    counts[i] = item.outputs.length;
    modes[i] = item.mode ?? NO_MODE;
    for (const output of item.outputs) {
      data.set(output.data, offset);
      offset += output.data.length;
      ends[k++] = offset;
      names.push(output.temp, output.dest);
    }
  }
  const request: Request = {
    op: 'write',
    names: joinNames(names),
    counts,
    modes,
    ends,
    data: data.buffer,
    fsync,
    commit,
  };
  return { request, transfer: [data.buffer] };
}

export type { CopyItem };
