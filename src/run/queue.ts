import { join } from 'node:path';
import PQueue from 'p-queue';
import type { Entry } from '../discover.js';
import { liveTemps } from '../io/atomic.js';
import { DirMaker } from '../io/dirs.js';
import type { IoPort } from '../io/port.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { refuseInputDirectory } from '../plan/checks.js';
import { planOutputs } from '../plan/outputs.js';
import type { SummaryBuilder } from '../report/summary.js';
import type { FileResult } from '../types.js';
import { Batcher, processBatch } from './batch.js';
import { Gate } from './gate.js';
import type { Incremental } from './incremental.js';
import type { JobContext } from './job.js';
import { Journal } from './journal.js';
import { processFile } from './single.js';
import type { Strategy } from './strategy.js';

/**
 * The bounded queue between the glob and the executors: at most `slots` tasks
 * in flight and as many waiting (backpressure on the glob), the error policy,
 * and the run's abort. Every file's result passes through `settle`.
 */
export class FileQueue {
  readonly #settings: Settings;
  readonly #strategy: Strategy;
  readonly #stats: SummaryBuilder;
  readonly #queue: PQueue;
  readonly #controller = new AbortController();
  readonly #onAbort = () => this.#controller.abort(this.#settings.signal?.reason);
  readonly #batcher: Batcher | undefined;
  #ctx: JobContext;
  /** The error policy is reached: start nothing new. */
  #stopped = false;

  constructor(
    settings: Settings,
    site: Site,
    port: IoPort,
    strategy: Strategy,
    stats: SummaryBuilder,
    incremental?: Incremental,
  ) {
    this.#settings = settings;
    this.#strategy = strategy;
    this.#stats = stats;
    this.#queue = new PQueue({ concurrency: strategy.slots });
    if (settings.signal?.aborted) this.#onAbort();
    settings.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#ctx = {
      settings,
      site,
      port,
      dirs: new DirMaker(port, settings.out, (dir, real) => refuseInputDirectory(settings, site, dir, real)),
      temps: liveTemps,
      signal: this.#controller.signal,
      journal: undefined,
      incremental,
      streams: strategy.streams < strategy.concurrency ? new Gate(strategy.streams) : undefined,
      batchBytes: strategy.batchBytes,
    };
    const hooks = { report: (result: FileResult) => this.#settle(result), stopping: () => this.stopping };
    this.#batcher =
      strategy.executor === 'batch'
        ? new Batcher(strategy.batchSize, (entries) => {
            const ctx = this.#ctx;
            if (!this.stopping) this.#enqueue(() => processBatch(entries, ctx, hooks));
          })
        : undefined;
  }

  /** Interrupted, or the error policy reached: nothing new starts. */
  get stopping(): boolean {
    return this.#stopped || this.#controller.signal.aborted;
  }

  get interrupted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Takes every match, as fast as the queue has room. */
  async feed(chunks: AsyncIterable<readonly Entry[]>): Promise<void> {
    const { slots } = this.#strategy;
    try {
      for await (const chunk of chunks) {
        for (const entry of chunk) {
          // Backpressure: never more than `slots` tasks waiting behind those in flight.
          if (this.#queue.size >= slots) await this.#queue.onSizeLessThan(slots);
          if (this.stopping) return;
          if (this.#batcher !== undefined) this.#batcher.add(entry);
          else await this.#addFile(entry);
        }
      }
    } finally {
      // The matches already taken start, as they would have one by one; on abort, what waits does not.
      this.#batcher?.flush();
      if (this.interrupted) this.#queue.clear();
    }
  }

  /** What is queued does not start (a glob that failed midway). */
  clear(): void {
    this.#queue.clear();
  }

  /** Waits for every task in flight; an abort meanwhile drops what still waits. */
  async drain(): Promise<void> {
    const clear = () => this.#queue.clear();
    this.#controller.signal.addEventListener('abort', clear, { once: true });
    await this.#queue.onIdle();
    this.#controller.signal.removeEventListener('abort', clear);
  }

  /**
   * Detaches from the caller's signal, removes the output directories the run made and left
   * empty, and the journal only when every file is done.
   */
  async close(): Promise<void> {
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    const stats = this.#stats;
    // A run whose every file was written left no directory empty: no rmdir for it.
    if (stats.failed > 0 || stats.skipped > 0 || stats.failedDirectories > 0 || this.stopping)
      await this.#ctx.dirs.removeEmpty();
    // Kept unless every file is done: a rerun must resume, or it would transform the finished files again.
    await this.#ctx.journal?.close(!this.stopping && stats.failed === 0 && stats.failedDirectories === 0);
  }

  async #addFile(entry: Entry): Promise<void> {
    const settings = this.#settings;
    if (settings.inPlace && this.#ctx.journal === undefined) {
      // Opened (after the tree's lock is taken) once the plan is checked, just before the first
      // file: a bad plan leaves no journal behind, and a live run elsewhere stops this one here.
      const journal = await Journal.open({
        cwd: settings.cwd,
        realCwd: this.#ctx.site.realCwd,
        transforms: settings.stages.map((stage) => stage.map((t) => t.name).join(',')).join(' | '),
        resume: settings.resume,
        dryRun: settings.dryRun,
        fsync: settings.fsync,
        shard: settings.shard,
        outputsOf: (path) =>
          planOutputs({ path, absolutePath: join(settings.cwd, path), kind: 'file' }, settings).map(
            (target) => target.absolute,
          ),
      });
      this.#ctx = { ...this.#ctx, journal };
    }
    const ctx = this.#ctx;
    this.#enqueue(async () => this.#settle(await processFile(entry, ctx)));
  }

  #enqueue(task: () => Promise<void>): void {
    this.#settings.probe?.onEnqueue(this.#queue.size + 1, this.#queue.pending);
    void this.#queue.add(async () => {
      if (!this.stopping) await task();
    });
  }

  #settle(result: FileResult): void {
    // Cut short by the interrupt: not the file's fault, and not written.
    if (result.status === 'failed' && result.error?.code === 'EABORT' && this.interrupted) return;
    this.#ctx.incremental?.settle(result);
    this.#stats.add(result);
    this.#settings.onEvent({ type: 'file', result });
    if (this.#stats.failed >= this.#settings.maxErrors && !this.#stopped) {
      this.#stopped = true;
      this.#queue.clear();
    }
  }
}
