import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';

// Loaded with the first worker: runs that never need one do not compile worker_threads.
const load = createRequire(import.meta.url);

/**
 * The worker's script: entry.ts and what it imports, bundled into one CommonJS file,
 * `dist/io/worker.cjs` (one file boots ~10 ms sooner than the ES modules it is made of).
 * Found from this module's own place, whether that is `dist/io/worker/pool.js`, the CLI
 * bundle in `dist/cli/`, or the TypeScript source under `src/` (the test runner).
 */
function locateWorker(): URL {
  const here = import.meta.url;
  const root = here.slice(0, here.lastIndexOf(here.endsWith('.ts') ? '/src/' : '/dist/'));
  return new URL(`${root}/dist/io/worker.cjs`);
}

/**
 * A worker died with this call in it. `started`: the worker was running it (the oldest call
 * it had not answered), so it may be what killed the worker; the others were only queued
 * behind it and never ran.
 */
export class WorkerExit extends Error {
  override readonly name = 'WorkerExit';
  readonly started: boolean;
  constructor(message: string, started: boolean) {
    super(message);
    this.started = started;
  }
}

interface Slot {
  readonly worker: Worker;
  /** Weight sent and not yet answered. */
  busy: number;
}

/** A message sent and not yet answered. */
interface Waiting {
  readonly slot: Slot;
  readonly weight: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A few worker threads that carry messages: a call posts its body to the least
 * busy worker and resolves with that worker's answer. The pool knows nothing of
 * what the messages mean (see protocol.ts). A worker that dies rejects the calls
 * it held with a WorkerExit; a new one takes its place on the next call. Workers start on demand
 * (one for a lone call) and are unref'ed: they never keep the process alive.
 */
export class WorkerPool {
  readonly size: number;
  readonly #script: URL | string;
  readonly #slots: Slot[] = [];
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;

  constructor(options: { size: number; script?: URL | string }) {
    this.size = options.size;
    this.#script = options.script ?? locateWorker();
  }

  /** Posts `body` (moving `transfer`) to the least busy worker; `weight` is how much work it is. */
  call<T>(body: unknown, options: { transfer?: ArrayBuffer[]; weight?: number } = {}): Promise<T> {
    const weight = options.weight ?? 1;
    return new Promise<T>((resolve, reject) => {
      const slot = this.#pick();
      const id = this.#nextId++;
      slot.busy += weight;
      this.#waiting.set(id, { slot, weight, resolve: resolve as (body: unknown) => void, reject });
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id, body }, options.transfer ?? []);
      } catch (error) {
        // A message that cannot be sent must fail its call, not leave it waiting forever.
        this.#settle(id);
        reject(new WorkerExit(`cannot send to the IO worker: ${(error as Error).message}`, true));
      }
    });
  }

  /**
   * Starts workers now, up to `count` in all (a worker takes tens of milliseconds to boot): a
   * run that will keep many workers busy calls this before its glob, so the boot overlaps it.
   */
  warm(count: number): void {
    for (let n = Math.min(count, this.size) - this.#slots.length; n > 0; n -= 1) this.#spawn();
  }

  /** An idle worker if there is one, a new one while the pool is not full, else the least busy. */
  #pick(): Slot {
    const idle = this.#slots.find((slot) => slot.busy === 0);
    if (idle !== undefined) return idle;
    if (this.#slots.length < this.size) return this.#spawn();
    return this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  #spawn(): Slot {
    const { Worker: WorkerThread } = load('node:worker_threads') as typeof import('node:worker_threads');
    const worker: Worker = new WorkerThread(this.#script);
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (message: { id: number; body: unknown }) => {
      this.#settle(message.id)?.resolve(message.body);
    });
    worker.on('error', (error) => this.#fail(slot, error));
    worker.on('messageerror', (error) => this.#fail(slot, error));
    worker.on('exit', (code) => this.#fail(slot, new Error(`IO worker exited (code ${code})`)));
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }

  #settle(id: number): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return undefined;
    this.#waiting.delete(id);
    waiting.slot.busy -= waiting.weight;
    if (waiting.slot.busy === 0) waiting.slot.worker.unref();
    return waiting;
  }

  #fail(slot: Slot, error: Error): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    // A worker given up on (a message it could not read) must not go on with what it holds.
    void slot.worker.terminate();
    // A worker answers in order: the first call it still holds is the one it was running.
    let started = true;
    for (const [id, waiting] of this.#waiting) {
      if (waiting.slot !== slot) continue;
      this.#settle(id)?.reject(new WorkerExit(error.message, started));
      started = false;
    }
  }
}

let shared: WorkerPool | undefined;

/** The process's pool, made on first use. */
export function sharedPool(): WorkerPool {
  shared ??= new WorkerPool({ size: Math.min(4, Math.max(2, availableParallelism())) });
  return shared;
}
