import { join } from 'node:path';
import type { Io } from './io.js';
import { isStaleTempName } from './temp-files.js';

/**
 * Creates output directories once each, however many files land in them at
 * the same time: concurrent callers for one directory share one promise. Each
 * directory is also swept once of temp files that dead runs left behind
 * (`kill -9` leaves them; no partial file is ever at a final path).
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
      pending = this.#io.mkdir(dir).then(() => this.#sweep(dir));
      this.#made.set(dir, pending);
      // A failure is not cached: the next file retries (and reports its own error).
      pending.catch(() => this.#made.delete(dir));
    }
    return pending;
  }

  async #sweep(dir: string): Promise<void> {
    const names = await this.#io.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (isStaleTempName(name)) await this.#io.unlink(join(dir, name)).catch(() => {});
    }
  }
}
