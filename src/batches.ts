import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Entry } from './discover.js';
import {
  ensureDir,
  failedFile,
  fromSide,
  isIdentityCopy,
  type JobContext,
  processFile,
  transformWhole,
} from './file-job.js';
import { type BatchResult, DEFERRED, FAILED, NOT_READ } from './io/batch-protocol.js';
import { type OutputFile, opFailure } from './io/file-ops.js';
import { tempPathFor } from './io/temp-files.js';
import type { SyncIoPool } from './io/worker-pool.js';
import { type OutputTarget, planOutputs } from './plan.js';
import { notesOf } from './transforms/skip.js';
import type { FileResult } from './types.js';

/**
 * Small files in batches: on a warm cache a 4 KiB file costs the kernel a few
 * microseconds, so what a file job costs around its syscalls (a queue task,
 * promises, a message to a worker and back) decides the speed. A batch job
 * takes up to 64 files through each step together: one message to a worker to
 * read (or copy) them all, the transforms, one message to write them all. The
 * outcome of each file is its own, exactly as processFile would give it.
 */

/** Files per batch: enough to amortise a message and a queue task, few enough to keep every worker fed. */
const MAX_BATCH = 64;
/** Bytes one round of a batch reads at most (past it, a file waits for the next round). */
const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Files per batch and batches in flight, for `concurrency` files in flight: at
 * least four batches, so a worker finishing one finds the next already waiting.
 */
export function batchShape(concurrency: number): { size: number; slots: number } {
  const size = Math.max(1, Math.min(MAX_BATCH, Math.floor(concurrency / 4)));
  return { size, slots: Math.floor(concurrency / size) };
}

/**
 * Gathers entries into batches. A batch leaves when full, or at the end of the
 * turn of the event loop in which it began: one the glob is slow to fill does
 * not wait for it.
 */
export class Batcher {
  readonly #size: number;
  readonly #send: (entries: Entry[]) => void;
  #batch: Entry[] = [];
  #timer: NodeJS.Immediate | undefined;

  constructor(size: number, send: (entries: Entry[]) => void) {
    this.#size = size;
    this.#send = send;
  }

  add(entry: Entry): void {
    this.#batch.push(entry);
    if (this.#batch.length >= this.#size) this.flush();
    else this.#timer ??= setImmediate(() => this.flush());
  }

  /** Sends what is gathered now; also called when the glob ends (or fails), so nothing is left behind. */
  flush(): void {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    this.#timer = undefined;
    const entries = this.#batch;
    this.#batch = [];
    if (entries.length > 0) this.#send(entries);
  }
}

interface Job {
  readonly entry: Entry;
  readonly targets: readonly OutputTarget[];
}

interface Transformed {
  readonly job: Job;
  readonly outputs: OutputFile[];
  readonly bytesIn: number;
  readonly notes: object;
  readonly ms: number;
}

type Fields = Omit<FileResult, 'input' | 'ms'>;

function result(entry: Entry, fields: Fields, ms: number): FileResult {
  return { input: entry.path, ms: Math.round(ms * 1000) / 1000, ...fields };
}

function written(
  job: Job,
  bytesIn: number,
  bytesOut: number,
  details?: Readonly<Record<string, number>>,
): Fields {
  return {
    outputs: job.targets.map((t) => t.relative),
    status: 'written',
    bytesIn,
    bytesOut,
    ...(details === undefined ? {} : { details }),
  };
}

export interface BatchHooks {
  /** Gets every file's result, in no particular order. */
  readonly report: (result: FileResult) => void;
  /** True once the run starts nothing new (interrupted, or the error policy reached). */
  readonly stopping: () => boolean;
}

/** Processes a batch of entries: every file started is reported once. */
export async function processBatch(
  entries: readonly Entry[],
  ctx: JobContext,
  pool: SyncIoPool,
  hooks: BatchHooks,
): Promise<void> {
  await new Batch(ctx, pool, hooks).run(entries);
}

class Batch {
  readonly #ctx: JobContext;
  readonly #pool: SyncIoPool;
  readonly #hooks: BatchHooks;
  readonly #started = performance.now();
  /** Files that take the per-file path (links, special files, files to stream), running beside the batch. */
  readonly #alone: Promise<void>[] = [];

  constructor(ctx: JobContext, pool: SyncIoPool, hooks: BatchHooks) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#hooks = hooks;
  }

  async run(entries: readonly Entry[]): Promise<void> {
    let jobs: Job[] = [];
    for (const entry of entries) {
      // Links and special files take the path that explains them.
      if (entry.kind !== 'file') this.#aloneFile(entry);
      else {
        try {
          jobs.push({ entry, targets: planOutputs(entry, this.#ctx.settings) });
        } catch (error) {
          this.#fail({ entry, targets: [] }, error);
        }
      }
    }
    jobs = await this.#withDirectories(jobs);
    if (jobs.length > 0) {
      if (isIdentityCopy(this.#ctx.settings) && jobs.every((job) => job.targets.length === 1)) {
        await this.#copy(jobs);
      } else {
        await this.#transform(jobs);
      }
    }
    await Promise.all(this.#alone);
  }

  #aloneFile(entry: Entry): void {
    this.#alone.push(processFile(entry, this.#ctx).then(this.#hooks.report));
  }

  #fail(job: Job, error: unknown): void {
    const fields = failedFile(error, job.targets, job.entry, this.#ctx);
    this.#hooks.report(result(job.entry, fields, performance.now() - this.#started));
  }

  /** A file's failure in a batch op, as processFile would have thrown it. */
  #opFailure(answer: BatchResult, i: number, job: Job, output: string): Error {
    const error = answer.errors[i] ?? {
      code: undefined,
      message: 'the IO worker gave no reason',
      path: undefined,
      dest: undefined,
      side: 'write',
    };
    return fromSide(opFailure(error), job.entry.path, output);
  }

  /**
   * The worker removes the temps of a file that fails; one that died (EWORKER)
   * could not, so they are removed here. Either way they leave the registry.
   */
  #settleTemps(temps: readonly string[], answer: BatchResult, i: number): void {
    for (const temp of temps) this.#ctx.temps.delete(temp);
    if (answer.errors[i]?.code !== 'EWORKER') return;
    for (const temp of temps) void this.#ctx.settings.io.unlink(temp).catch(() => {});
  }

  /** Makes every output directory the batch needs; the files of a directory that cannot be made fail. */
  async #withDirectories(jobs: readonly Job[]): Promise<Job[]> {
    const failed = new Map<string, unknown>();
    const made = new Set<string>();
    const ready: Job[] = [];
    for (const job of jobs) {
      let error: unknown;
      for (const target of job.targets) {
        const dir = dirname(target.absolute);
        if (!made.has(dir) && !failed.has(dir)) {
          await ensureDir(dir, this.#ctx).then(
            () => made.add(dir),
            (reason: unknown) => failed.set(dir, reason),
          );
        }
        error ??= failed.get(dir);
      }
      if (error === undefined) ready.push(job);
      else this.#fail(job, error);
    }
    return ready;
  }

  async #copy(jobs: readonly Job[]): Promise<void> {
    const names: string[] = [];
    for (const { entry, targets } of jobs) {
      const dest = (targets[0] as OutputTarget).absolute;
      const temp = tempPathFor(dest);
      this.#ctx.temps.add(temp);
      names.push(entry.absolutePath, temp, dest);
    }
    const answer = await this.#pool.runBatch(
      { op: 'copyMany', names: names.join('\0'), count: jobs.length, fsync: this.#ctx.settings.fsync },
      jobs.length,
    );
    for (const [i, job] of jobs.entries()) {
      // Renamed into place, or removed: no longer a temp either way.
      this.#settleTemps([names[3 * i + 1] as string], answer, i);
      const size = answer.sizes[i] as number;
      if (size === FAILED) this.#fail(job, this.#opFailure(answer, i, job, names[3 * i + 2] as string));
      else
        this.#hooks.report(result(job.entry, written(job, size, size), (answer.micros[i] as number) / 1000));
    }
  }

  /**
   * Reads the batch in rounds of at most BATCH_BYTES (a file past it waits for the
   * next round), runs the transforms on each file, and writes each round's outputs.
   * Once the run is stopping, files not yet read are not started.
   */
  async #transform(jobs: readonly Job[]): Promise<void> {
    let round = jobs;
    while (round.length > 0) {
      const read = await this.#pool.runBatch(
        {
          op: 'readMany',
          paths: round.map((job) => job.entry.absolutePath).join('\0'),
          count: round.length,
          limit: this.#ctx.settings.streamThreshold,
          cap: BATCH_BYTES,
        },
        round.length,
      );
      const next: Job[] = [];
      const done: Transformed[] = [];
      await Promise.all(round.map((job, i) => this.#transformOne(job, read, i, next, done)));
      if (done.length > 0) await this.#write(done);
      round = this.#hooks.stopping() ? [] : next;
    }
  }

  async #transformOne(
    job: Job,
    read: BatchResult,
    i: number,
    next: Job[],
    done: Transformed[],
  ): Promise<void> {
    const size = read.sizes[i] as number;
    if (size === DEFERRED) next.push(job);
    else if (size === NOT_READ) {
      // To be streamed: on its own, unless the run is stopping.
      if (!this.#hooks.stopping()) this.#aloneFile(job.entry);
    } else if (size === FAILED) this.#fail(job, this.#opFailure(read, i, job, job.entry.path));
    else {
      const started = performance.now();
      const notes = {};
      try {
        const data = Buffer.from(read.data as ArrayBuffer, read.offsets?.[i] ?? 0, size);
        const outputs = await transformWhole(
          job.entry,
          data,
          read.mtimes?.[i] ?? 0,
          job.targets,
          this.#ctx,
          notes,
        );
        const ms = (read.micros[i] as number) / 1000 + (performance.now() - started);
        done.push({ job, outputs, bytesIn: size, notes, ms });
      } catch (error) {
        this.#fail(job, error);
      }
    }
  }

  /** Every output of the round, back to back in one buffer that moves to the worker (not copied). */
  async #write(done: readonly Transformed[]): Promise<void> {
    let total = 0;
    let count = 0;
    for (const file of done) {
      count += file.outputs.length;
      for (const output of file.outputs) total += output.data.length;
    }
    const data = new Uint8Array(total);
    const names: string[] = [];
    const counts = new Uint32Array(done.length);
    const ends = new Float64Array(count);
    let offset = 0;
    let k = 0;
    for (const [i, file] of done.entries()) {
      counts[i] = file.outputs.length;
      for (const output of file.outputs) {
        data.set(output.data, offset);
        offset += output.data.length;
        ends[k++] = offset;
        names.push(output.temp, output.dest);
      }
    }
    const answer = await this.#pool.runBatch(
      {
        op: 'writeMany',
        names: names.join('\0'),
        counts,
        ends,
        data: data.buffer,
        fsync: this.#ctx.settings.fsync,
      },
      done.length,
      [data.buffer],
    );
    for (const [i, file] of done.entries()) {
      this.#settleTemps(
        file.outputs.map((output) => output.temp),
        answer,
        i,
      );
      const size = answer.sizes[i] as number;
      const { job } = file;
      if (size === FAILED) {
        this.#fail(job, this.#opFailure(answer, i, job, file.outputs[0]?.dest ?? this.#ctx.settings.out));
        continue;
      }
      const ms = file.ms + (answer.micros[i] as number) / 1000;
      this.#hooks.report(result(job.entry, written(job, file.bytesIn, size, notesOf(file.notes)), ms));
    }
  }
}
