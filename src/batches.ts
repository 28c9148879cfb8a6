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
 * takes up to 16 files through each step together: one message to a worker to
 * read (or copy) them all, the transforms, one message to write them all. The
 * outcome of each file is its own, exactly as processFile would give it.
 */

/** Files per batch: enough to amortise a message and a queue task, few enough to keep every worker fed. */
const MAX_BATCH = 64;
/** Bytes one batch reads at most (past it, a file is read on its own). */
const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Files per batch and batches in flight, for `concurrency` files in flight: at
 * least four batches, so a worker finishing one finds the next already waiting.
 */
export function batchShape(concurrency: number): { size: number; slots: number } {
  const size = Math.max(1, Math.min(MAX_BATCH, Math.floor(concurrency / 4)));
  return { size, slots: Math.floor(concurrency / size) };
}

/** A file's failure in a batch op, as processFile would have thrown it. */
function failure(answer: BatchResult, i: number, input: string, output: string): Error {
  const error = answer.errors[i] ?? {
    code: undefined,
    message: 'the IO worker gave no reason',
    path: undefined,
    dest: undefined,
    side: 'write',
  };
  return fromSide(opFailure(error), input, output);
}

interface Job {
  readonly entry: Entry;
  readonly targets: readonly OutputTarget[];
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

/** Processes a batch of entries; `report` gets every file's result, in no particular order. */
export async function processBatch(
  entries: readonly Entry[],
  ctx: JobContext,
  pool: SyncIoPool,
  report: (result: FileResult) => void,
): Promise<void> {
  const started = performance.now();
  const fail = (job: Job, error: unknown) =>
    report(result(job.entry, failedFile(error, job.targets, job.entry, ctx), performance.now() - started));
  const alone: Promise<void>[] = [];
  let jobs: Job[] = [];
  for (const entry of entries) {
    // Links and special files take the path that explains them.
    if (entry.kind !== 'file') alone.push(processFile(entry, ctx).then(report));
    else {
      try {
        jobs.push({ entry, targets: planOutputs(entry, ctx.settings) });
      } catch (error) {
        fail({ entry, targets: [] }, error);
      }
    }
  }
  jobs = await withDirectories(jobs, ctx, fail);
  if (jobs.length > 0) {
    if (isIdentityCopy(ctx.settings) && jobs.every((job) => job.targets.length === 1)) {
      await copyBatch(jobs, ctx, pool, report, fail);
    } else {
      await transformBatch(jobs, ctx, pool, report, fail, alone);
    }
  }
  await Promise.all(alone);
}

/** Makes every output directory the batch needs; the files of a directory that cannot be made fail. */
async function withDirectories(
  jobs: readonly Job[],
  ctx: JobContext,
  fail: (job: Job, error: unknown) => void,
): Promise<Job[]> {
  const failed = new Map<string, unknown>();
  const made = new Set<string>();
  const ready: Job[] = [];
  for (const job of jobs) {
    let error: unknown;
    for (const target of job.targets) {
      const dir = dirname(target.absolute);
      if (!made.has(dir) && !failed.has(dir)) {
        await ensureDir(dir, ctx).then(
          () => made.add(dir),
          (reason: unknown) => failed.set(dir, reason),
        );
      }
      error ??= failed.get(dir);
    }
    if (error === undefined) ready.push(job);
    else fail(job, error);
  }
  return ready;
}

async function copyBatch(
  jobs: readonly Job[],
  ctx: JobContext,
  pool: SyncIoPool,
  report: (result: FileResult) => void,
  fail: (job: Job, error: unknown) => void,
): Promise<void> {
  const names: string[] = [];
  for (const { entry, targets } of jobs) {
    const dest = (targets[0] as OutputTarget).absolute;
    const temp = tempPathFor(dest);
    ctx.temps.add(temp);
    names.push(entry.absolutePath, temp, dest);
  }
  const answer = await pool.runBatch(
    { op: 'copyMany', names: names.join('\0'), fsync: ctx.settings.fsync },
    jobs.length,
  );
  for (const [i, job] of jobs.entries()) {
    // Renamed into place, or removed by the worker: no longer a temp either way.
    ctx.temps.delete(names[3 * i + 1] as string);
    const size = answer.sizes[i] as number;
    if (size === FAILED)
      fail(job, failure(answer, i, job.entry.path, (job.targets[0] as OutputTarget).absolute));
    else report(result(job.entry, written(job, size, size), (answer.micros[i] as number) / 1000));
  }
}

interface Transformed {
  readonly job: Job;
  readonly outputs: OutputFile[];
  readonly bytesIn: number;
  readonly notes: object;
  readonly ms: number;
}

/**
 * Reads the batch in rounds of at most BATCH_BYTES (a file past it waits for the
 * next round), runs the transforms on each file, and writes each round's outputs.
 */
async function transformBatch(
  jobs: readonly Job[],
  ctx: JobContext,
  pool: SyncIoPool,
  report: (result: FileResult) => void,
  fail: (job: Job, error: unknown) => void,
  alone: Promise<void>[],
): Promise<void> {
  let round = jobs;
  while (round.length > 0) {
    const read = await pool.runBatch(
      {
        op: 'readMany',
        paths: round.map((job) => job.entry.absolutePath).join('\0'),
        limit: ctx.settings.streamThreshold,
        cap: BATCH_BYTES,
      },
      round.length,
    );
    const next: Job[] = [];
    const done: Transformed[] = [];
    await Promise.all(
      round.map(async (job, i) => {
        const size = read.sizes[i] as number;
        if (size === DEFERRED) next.push(job);
        else if (size === NOT_READ)
          alone.push(processFile(job.entry, ctx).then(report)); // streamed
        else if (size === FAILED) fail(job, failure(read, i, job.entry.path, job.entry.path));
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
              ctx,
              notes,
            );
            const ms = (read.micros[i] as number) / 1000 + (performance.now() - started);
            done.push({ job, outputs, bytesIn: size, notes, ms });
          } catch (error) {
            fail(job, error);
          }
        }
      }),
    );
    if (done.length > 0) await writeBatch(done, ctx, pool, report, fail);
    round = next;
  }
}

/** Every output of the batch, back to back in one buffer that moves to the worker (not copied). */
async function writeBatch(
  done: readonly Transformed[],
  ctx: JobContext,
  pool: SyncIoPool,
  report: (result: FileResult) => void,
  fail: (job: Job, error: unknown) => void,
): Promise<void> {
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
  const answer = await pool.runBatch(
    { op: 'writeMany', names: names.join('\0'), counts, ends, data: data.buffer, fsync: ctx.settings.fsync },
    done.length,
    [data.buffer],
  );
  for (const [i, file] of done.entries()) {
    for (const output of file.outputs) ctx.temps.delete(output.temp);
    const size = answer.sizes[i] as number;
    const { job } = file;
    if (size === FAILED) {
      fail(job, failure(answer, i, job.entry.path, file.outputs[0]?.dest ?? ctx.settings.out));
      continue;
    }
    const ms = file.ms + (answer.micros[i] as number) / 1000;
    report(result(job.entry, written(job, file.bytesIn, size, notesOf(file.notes)), ms));
  }
}
