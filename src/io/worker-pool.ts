import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';

// Loaded with the first worker: runs that never need one do not compile worker_threads.
const load = createRequire(import.meta.url);

import { type BatchOp, type BatchResult, FAILED } from './batch-protocol.js';
import type { OpError, OpResult, SyncOp } from './sync-ops.js';

/**
 * The worker's script: sync-worker.ts and what it imports, bundled into one CommonJS file
 * beside this module once built (`dist/io/`; the CLI bundle in `dist/cli/` finds it at the
 * same relative place). One file boots ~10 ms sooner than the ES modules it is made of.
 * Run from the TypeScript sources (the test runner), the built copy is used.
 */
const workerScript = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/io/sync-worker.cjs', import.meta.url)
  : new URL('../io/sync-worker.cjs', import.meta.url);

/** Ops per message: big enough to amortise a message, small enough to keep every worker fed. */
const BATCH = 16;

interface Pending {
  readonly op: SyncOp;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (result: OpResult) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Files sent and not yet answered. */
  busy: number;
}

/** A message sent and not yet answered: what to do with the answer, or with the worker's death. */
interface Waiting {
  readonly slot: Slot;
  readonly weight: number;
  readonly answer: (message: { results?: OpResult[]; batch?: BatchResult }) => void;
  readonly fail: (error: OpError) => void;
}

function workerError(error: Error): OpError {
  return { code: 'EWORKER', message: error.message, path: undefined, dest: undefined, side: 'write' };
}

/**
 * A few worker threads that run file operations with synchronous system calls,
 * in batches. Ops requested in one turn of the event loop leave together in one
 * message per worker, spread over the least busy workers; the answers come back
 * the same way. A batch op (batch-ops.ts) is a message of its own. For small
 * files on a warm cache this costs a fraction of one libuv threadpool round trip
 * per syscall; on a cold disk the workers wait in parallel. The workers are
 * unref'ed: they never keep the process alive.
 */
export class SyncIoPool {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #waiting = new Map<number, Waiting>();
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
          this.#flush();
        });
      }
    });
  }

  /** One batch op, at once, to the least busy worker; `files` weighs it against the others. */
  runBatch(op: BatchOp, files: number, transfer: ArrayBuffer[] = []): Promise<BatchResult> {
    return new Promise((resolve) => {
      const slot = this.#slot(files).reduce((a, b) => (b.busy < a.busy ? b : a));
      const failAll = (error: OpError) => {
        const errors: Record<number, OpError> = {};
        for (let i = 0; i < files; i += 1) errors[i] = error;
        resolve({ sizes: new Float64Array(files).fill(FAILED), micros: new Float64Array(files), errors });
      };
      this.#send(
        slot,
        { weight: files, answer: ({ batch }) => resolve(batch as BatchResult), fail: failAll },
        { batch: op },
        transfer,
      );
    });
  }

  /**
   * Starts workers now, up to `count` in all (a worker takes tens of milliseconds to
   * boot): a run that will batch many files calls this before its glob, so the boot
   * overlaps it.
   */
  warm(count: number): void {
    this.#spawn(Math.min(count, this.size) - this.#slots.length);
  }

  /** Workers start on demand: one for a lone op (a single large file never pays for the rest). */
  #slot(wanted: number): Slot[] {
    const idle = this.#slots.filter((slot) => slot.busy === 0).length;
    const missing = Math.min(this.size - this.#slots.length, Math.ceil(wanted / BATCH) - idle);
    this.#spawn(this.#slots.length === 0 ? Math.max(missing, 1) : missing);
    return this.#slots;
  }

  #spawn(count: number): void {
    for (let n = 0; n < count; n += 1) {
      const { Worker: WorkerThread } = load('node:worker_threads') as typeof import('node:worker_threads');
      const worker: Worker = new WorkerThread(workerScript);
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (message: { id: number; results?: OpResult[]; batch?: BatchResult }) =>
        this.#answer(message),
      );
      worker.on('error', (error) => this.#fail(slot, error));
      worker.on('messageerror', (error) => this.#fail(slot, error));
      worker.on('exit', (code) => this.#fail(slot, new Error(`IO worker exited (code ${code})`)));
      worker.unref();
      this.#slots.push(slot);
    }
  }

  #send(
    slot: Slot,
    waiting: Omit<Waiting, 'slot'>,
    message: { ops: SyncOp[] } | { batch: BatchOp },
    transfer: ArrayBuffer[],
  ): void {
    const id = this.#nextId++;
    slot.busy += waiting.weight;
    this.#waiting.set(id, { slot, ...waiting });
    slot.worker.ref();
    try {
      slot.worker.postMessage({ id, ...message }, transfer);
    } catch (error) {
      // A message that cannot be sent must fail its ops, not leave them waiting forever.
      this.#waiting.delete(id);
      slot.busy -= waiting.weight;
      if (slot.busy === 0) slot.worker.unref();
      waiting.fail(workerError(error as Error));
    }
  }

  #flush(): void {
    this.#scheduled = false;
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
      const resolves = batch.map((p) => p.resolve);
      this.#send(
        slots[i] as Slot,
        {
          weight: batch.length,
          answer: ({ results = [] }) => {
            for (const [n, result] of results.entries()) resolves[n]?.(result);
          },
          fail: (error) => {
            for (const resolve of resolves) resolve({ ok: false, error });
          },
        },
        { ops: batch.map((p) => p.op) },
        batch.flatMap((p) => p.transfer),
      );
    }
  }

  #answer(message: { id: number; results?: OpResult[]; batch?: BatchResult }): void {
    const waiting = this.#waiting.get(message.id);
    if (waiting === undefined) return;
    this.#waiting.delete(message.id);
    waiting.slot.busy -= waiting.weight;
    if (waiting.slot.busy === 0) waiting.slot.worker.unref();
    waiting.answer(message);
  }

  /** A worker that dies answers its ops with the error; a new one takes its place on the next flush. */
  #fail(slot: Slot, error: Error): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    for (const [id, waiting] of this.#waiting) {
      if (waiting.slot !== slot) continue;
      this.#waiting.delete(id);
      waiting.fail(workerError(error));
    }
  }
}

let shared: SyncIoPool | undefined;

/** The process's pool, made on first use. */
export function syncIoPool(): SyncIoPool {
  shared ??= new SyncIoPool(Math.min(4, Math.max(2, availableParallelism())));
  return shared;
}
