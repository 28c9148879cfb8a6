/**
 * Gathers changed paths into batches: a batch starts once no change has come for `quietMs`
 * (an editor's save, a `git checkout` or a build writing a directory is many events), or at
 * the latest `maxWaitMs` after its first change (a tree that never stops changing still gets
 * processed). One batch runs at a time: changes that come meanwhile wait for the next, so a
 * file is never in two runs at once. Paused until `resume()`: changes seen during the first
 * run are kept for the batch after it.
 */
export class Batcher {
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  readonly #run: (paths: string[]) => Promise<void>;
  #pending = new Set<string>();
  #quiet: ReturnType<typeof setTimeout> | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #paused = true;
  #closed = false;

  constructor(options: {
    readonly quietMs: number;
    readonly maxWaitMs: number;
    readonly run: (paths: string[]) => Promise<void>;
  }) {
    this.#quietMs = options.quietMs;
    this.#maxWaitMs = Math.max(options.maxWaitMs, options.quietMs);
    this.#run = options.run;
  }

  add(path: string): void {
    if (this.#closed) return;
    this.#pending.add(path);
    this.#schedule();
  }

  /** Lets batches start (after the first run). */
  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  /** The batch in flight, if any. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Starts nothing more; resolves once the batch in flight (if any) is over. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clear();
    this.#pending.clear();
    await this.#running;
  }

  #schedule(): void {
    if (this.#paused || this.#closed || this.#running !== undefined || this.#pending.size === 0) return;
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#flush(), this.#quietMs);
    this.#deadline ??= setTimeout(() => this.#flush(), this.#maxWaitMs);
  }

  #clear(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    this.#quiet = undefined;
    this.#deadline = undefined;
  }

  #flush(): void {
    this.#clear();
    if (this.#closed || this.#running !== undefined || this.#pending.size === 0) return;
    const paths = [...this.#pending];
    this.#pending = new Set();
    this.#running = this.#run(paths)
      .catch(() => {})
      .finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
  }
}
