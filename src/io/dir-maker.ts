import type { Io } from './io.js';

/**
 * Creates output directories once each, however many files land in them at
 * the same time: concurrent callers for one directory share one promise.
 */
export class DirMaker {
  readonly #io: Io;
  readonly #made = new Map<string, Promise<void>>();

  constructor(io: Io) {
    this.#io = io;
  }

  ensure(dir: string): Promise<void> {
    let pending = this.#made.get(dir);
    if (pending === undefined) {
      pending = this.#io.mkdir(dir);
      this.#made.set(dir, pending);
      // A failure is not cached: the next file retries (and reports its own error).
      pending.catch(() => this.#made.delete(dir));
    }
    return pending;
  }
}
