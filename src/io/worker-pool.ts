import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';

// Loaded with the first worker: runs that never need one do not compile worker_threads.
const load = createRequire(import.meta.url);

import type { OpResult, SyncOp } from './sync-ops.js';

/**
 * The worker's script, beside this module once built (`dist/io/`, and the CLI bundle in
 * `dist/cli/` finds it at the same relative place). Run from the TypeScript sources (the
 * test runner), the built copy is used: workers cannot load .ts files.
 */
const workerScript = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/io/sync-worker.js', import.meta.url)
  : new URL('../io/sync-worker.js', import.meta.url);

/** Ops per message: big enough to amortise a message, small enough to keep every worker fed. */
const BATCH = 16;

interface Pending {
  readonly op: SyncOp;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (result: OpResult) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Ops sent and not yet answered. */
  busy: number;
}

/**
 * A few worker threads that run file operations with synchronous system calls,
 * in batches. Ops requested in one turn of the event loop leave together in one
 * message per worker, spread over the least busy workers; the answers come back
 * the same way. For small files on a warm cache this costs a fraction of one
 * libuv threadpool round trip per syscall; on a cold disk the workers wait in
 * parallel. The workers are unref'ed: they never keep the process alive.
 */
export class SyncIoPool {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #waiting = new Map<number, { slot: Slot; resolves: ((result: OpResult) => void)[] }>();
  #queue: Pending[] = [];
  #scheduled = false;
  #nextId = 0;

  constructor(size: number) {
    this.size = size;
  }

  run(op: SyncOp, transfer: ArrayBuffer[] = []): Promise<OpResult> {
    return new Promise((resolve) => {
      this.#queue.push({ op, transfer, resolve });
      // A full batch leaves at once, so workers start while the main thread is still handing out
      // the rest (no ping-pong where one side waits for the other); stragglers leave at the end of the turn.
      if (this.#queue.length >= BATCH) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Workers start on demand: one for a lone op (a single large file never pays for the rest). */
  #slot(wanted: number): Slot[] {
    const idle = this.#slots.filter((slot) => slot.busy === 0).length;
    let missing = Math.min(this.size - this.#slots.length, Math.max(0, Math.ceil(wanted / BATCH) - idle));
    if (this.#slots.length === 0) missing = Math.max(missing, 1);
    for (; missing > 0; missing -= 1) {
      const { Worker: WorkerThread } = load('node:worker_threads') as typeof import('node:worker_threads');
      const worker: Worker = new WorkerThread(workerScript);
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', ({ id, results }: { id: number; results: OpResult[] }) =>
        this.#answer(id, results),
      );
      worker.on('error', (error) => this.#fail(slot, error));
      worker.on('messageerror', (error) => this.#fail(slot, error));
      worker.on('exit', (code) => this.#fail(slot, new Error(`IO worker exited (code ${code})`)));
      worker.unref();
      this.#slots.push(slot);
    }
    return this.#slots;
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    if (queue.length === 0) return;
    const slots = [...this.#slot(queue.length)].sort((a, b) => a.busy - b.busy);
    // Even shares, but never more workers than ops: a lone op goes to the idlest worker.
    const used = Math.min(slots.length, queue.length);
    const share = Math.ceil(queue.length / used);
    for (let i = 0; i < used; i += 1) {
      const batch = queue.slice(i * share, (i + 1) * share);
      if (batch.length === 0) break;
      const slot = slots[i] as Slot;
      const id = this.#nextId++;
      slot.busy += batch.length;
      this.#waiting.set(id, { slot, resolves: batch.map((p) => p.resolve) });
      slot.worker.ref();
      try {
        slot.worker.postMessage(
          { id, ops: batch.map((p) => p.op) },
          batch.flatMap((p) => p.transfer),
        );
      } catch (error) {
        // A message that cannot be sent must fail its ops, not leave them waiting forever.
        this.#waiting.delete(id);
        slot.busy -= batch.length;
        for (const pending of batch) {
          pending.resolve({
            ok: false,
            error: {
              code: 'EWORKER',
              message: (error as Error).message,
              path: undefined,
              dest: undefined,
              side: 'write',
            },
          });
        }
      }
    }
  }

  #answer(id: number, results: readonly OpResult[]): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return;
    this.#waiting.delete(id);
    waiting.slot.busy -= results.length;
    if (waiting.slot.busy === 0) waiting.slot.worker.unref();
    for (const [i, result] of results.entries()) waiting.resolves[i]?.(result);
  }

  /** A worker that dies answers its ops with the error; a new one takes its place on the next flush. */
  #fail(slot: Slot, error: Error): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    for (const [id, waiting] of this.#waiting) {
      if (waiting.slot !== slot) continue;
      this.#waiting.delete(id);
      for (const resolve of waiting.resolves) {
        resolve({
          ok: false,
          error: { code: 'EWORKER', message: error.message, path: undefined, dest: undefined, side: 'write' },
        });
      }
    }
  }
}

let shared: SyncIoPool | undefined;

/** The process's pool, made on first use. */
export function syncIoPool(): SyncIoPool {
  shared ??= new SyncIoPool(Math.min(4, Math.max(2, availableParallelism())));
  return shared;
}
