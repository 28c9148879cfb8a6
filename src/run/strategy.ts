import { availableParallelism } from 'node:os';
import type { Settings } from '../options/settings.js';
import type { ResolvedTransform } from '../transforms/resolved.js';

/**
 * How a run's files are carried out: the one place that decides.
 *
 * - **stream** (stream.ts): a file of STREAM_THRESHOLD bytes or more is piped
 *   through its transforms at constant memory. Its size is known only once it
 *   is opened, so the read step of either executor below hands it over.
 * - **batch** (batch.ts): on a warm cache a 4 KiB file costs the kernel a few
 *   microseconds, so what a file costs around its syscalls (a queue task,
 *   promises, a message to a worker and back) decides the speed. Up to
 *   MAX_BATCH files go through each step together: one message to read (or
 *   copy) them all, the transforms, one message to write them all. This is the
 *   default.
 * - **single** (single.ts): one file through each step, when files cannot go
 *   together: in place (each file is journaled between its write and its
 *   rename), and where each file is decided on its own before any IO (a dry
 *   run, --skip-existing, --if-newer).
 *
 * Both executors run the same steps (steps.ts) and give every file the same
 * outcome; test/parity.test.ts runs the same cases and faults through both.
 */
export type Executor = 'batch' | 'single';

/** Files at least this large are streamed at constant memory; smaller ones are read whole. */
export const STREAM_THRESHOLD = 8 * 1024 * 1024;
/** Bytes one read step of a batch takes at most (past it, a file waits for the next round). */
export const BATCH_BYTES = 8 * 1024 * 1024;
/** Files per batch: enough to amortise a message and a queue task, few enough to keep every worker fed. */
const MAX_BATCH = 64;

export interface Strategy {
  readonly executor: Executor;
  /** Files in flight. */
  readonly concurrency: number;
  /** Queue tasks in flight: batches for `batch`, files for `single`. */
  readonly slots: number;
  /** Files per batch (1 for `single`). */
  readonly batchSize: number;
}

export function chooseStrategy(settings: Settings): Strategy {
  // `read: 'batch'` where files can go together; `read: 'single'` asks for one file per request.
  const executor: Executor =
    settings.executor ??
    (settings.inPlace ||
    settings.dryRun ||
    settings.skipExisting ||
    settings.ifNewer ||
    settings.read === 'single'
      ? 'single'
      : 'batch');
  const concurrency = settings.concurrency ?? defaultConcurrency(settings.stages, executor === 'batch');
  if (executor === 'single') return { executor, concurrency, slots: concurrency, batchSize: 1 };
  if (concurrency === 1 && isIdentityCopy(settings) && settings.maxErrors === Number.POSITIVE_INFINITY) {
    // One copy at a time all the same: a batch is copied file after file, on this thread
    // (io/fs.ts inlineCarrier), so the disk never sees two at once; what a batch saves is the
    // pipeline's cost per file, which would otherwise be most of what --sequential measures.
    // Not with an error limit: the file after the one that reaches it must not start.
    return { executor, concurrency, slots: 1, batchSize: MAX_BATCH };
  }
  return { executor, concurrency, ...batchShape(concurrency) };
}

/**
 * Files in flight when the user does not say: fewer for CPU-bound work, many for
 * IO-bound work, and more still where small files go in batches: each of four
 * batches in flight then carries 64 files. Both IO figures are the knees of
 * `npm run bench -- --only sweep`, on warm tmpfs and on a cold ext4 disk alike.
 */
export function defaultConcurrency(
  stages: readonly (readonly ResolvedTransform[])[],
  batched: boolean,
  cores: number = availableParallelism(),
): number {
  const cpuBound = stages.some((stage) => stage.some((t) => t.cpuBound));
  if (cpuBound) return Math.max(2, cores * 2);
  return batched ? 256 : 64;
}

/**
 * Files per batch and batches in flight, for `concurrency` files in flight: at
 * least four batches, so a worker finishing one finds the next already waiting.
 * `batchSize * slots <= concurrency` always.
 */
export function batchShape(concurrency: number): { batchSize: number; slots: number } {
  const batchSize = Math.max(1, Math.min(MAX_BATCH, Math.floor(concurrency / 4)));
  return { batchSize, slots: Math.floor(concurrency / batchSize) };
}

/**
 * The whole run is one copy per file: the kernel copies, nothing is read into memory. Not when
 * the run asks to read files a given way (streamed, O_DIRECT), to read them only (discard), or
 * to hash them (incremental).
 */
export function isIdentityCopy(settings: Settings): boolean {
  return (
    settings.chains.length === 1 &&
    (settings.chains[0] ?? []).every((t) => t.identity === true) &&
    !settings.discard &&
    // An incremental run hashes what it copies: the bytes go through memory.
    settings.incremental === undefined &&
    settings.read !== 'stream' &&
    settings.read !== 'direct'
  );
}
