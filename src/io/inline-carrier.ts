import * as fs from 'node:fs';
import { decodeName, fsPath } from '../paths.js';
import { KeptTrees } from './beneath.js';
import { handle } from './worker/handle.js';
import { sharedPool, type WorkerPool } from './worker/pool.js';
import { DEFERRED, joinNames, type Reply, type Request } from './worker/protocol.js';

/** What carries the port's requests: the IO workers' pool, or the calling thread itself. */
export type Carrier = Pick<WorkerPool, 'call' | 'warm'> & {
  /** Lets go of the descriptors it keeps between requests (the next request opens them anew). */
  readonly release?: () => void;
  /**
   * The calling thread's carrier makes output directories (and lists them, for the sweep of
   * stale temps) synchronously, through the trees it keeps: a round trip to libuv's pool for
   * each component would be most of a sequential run's wait.
   */
  readonly sync?: {
    readonly mkdir: (dir: string, root: string) => string[];
    readonly readdir: (dir: string) => string[];
  };
};

/**
 * The requests run right here, synchronously, on the calling thread: for a run with one file in
 * flight (`--sequential`, `-j 1`) a worker's round trip per file is all cost and no overlap.
 * The same code as in a worker (worker/handle.ts), so the same outcomes; only the copy of a file
 * over a MiB, which would hold this thread for as long as the kernel copies, goes to a worker.
 */
export function inlineCarrier(workers: Carrier = sharedPool()): Carrier {
  // Output directories stay open from one request to the next, until the run removes one.
  const kept = new KeptTrees();
  const call = async <T>(body: unknown): Promise<T> => {
    const request = body as Request;
    const reply = handle(request, kept);
    if (request.op !== 'copy' || !reply.sizes.includes(DEFERRED)) return reply as T;
    return (await copyDeferred(request, reply, workers)) as T;
  };
  return {
    call: <T>(body: unknown) => new Promise<T>((resolve) => resolve(call<T>(body))),
    warm: () => {},
    release: () => kept.release(),
    sync: {
      mkdir: (dir, root) => kept.get(root).makeDir(dir),
      readdir: (dir) => fs.readdirSync(fsPath(dir), { encoding: 'buffer' }).map(decodeName),
    },
  };
}

/** The files of a copy left DEFERRED, copied by a worker, their outcomes put in `reply`. */
async function copyDeferred(
  request: Extract<Request, { op: 'copy' }>,
  reply: Reply,
  workers: Carrier,
): Promise<Reply> {
  const names = request.names.split('\0');
  const left: number[] = [];
  for (let i = 0; i < request.count; i += 1) if (reply.sizes[i] === DEFERRED) left.push(i);
  const some = left.flatMap((i) => names.slice(3 * i, 3 * i + 3));
  const sub = await workers.call<Reply>(
    { ...request, names: joinNames(some), count: left.length },
    { weight: left.length },
  );
  const errors = { ...reply.errors };
  for (const [k, i] of left.entries()) {
    reply.sizes[i] = sub.sizes[k] as number;
    reply.micros[i] = sub.micros[k] as number;
    (reply.mtimes as Float64Array)[i] = sub.mtimes?.[k] ?? 0;
    (reply.modes as Float64Array)[i] = sub.modes?.[k] ?? 0;
    const error = sub.errors[k];
    if (error !== undefined) errors[i] = error;
  }
  return { ...reply, errors };
}
