/**
 * At most `limit` tasks at once; the others wait their turn, in order. The stream executor
 * goes through one so that large files through CPU-bound transforms (each holding an
 * encoder of tens of MiB: brotli at level 11) are bounded by cores, whatever the batch
 * they came in (run/strategy.ts).
 */
export class Gate {
  readonly #limit: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running += 1;
    try {
      return await task();
    } finally {
      // The turn passes straight to the next in line: `running` stays counted for it.
      const next = this.#waiting.shift();
      if (next === undefined) this.#running -= 1;
      else next();
    }
  }
}
