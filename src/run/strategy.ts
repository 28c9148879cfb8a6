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
  /** Large files streamed at once (at most `concurrency`): see defaultStreams. */
  readonly streams: number;
  /** Bytes one read step of a batch takes at most: see defaultBudget. */
  readonly batchBytes: number;
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
  // Files in flight the caller chose are theirs to stream; the default bounds memory.
  const defaulted = settings.concurrency === undefined;
  const streams = defaulted ? defaultStreams(settings.stages, concurrency) : concurrency;
  const batchBytes = defaulted ? defaultBudget(settings.stages) : BATCH_BYTES;
  if (executor === 'single')
    return { executor, concurrency, slots: concurrency, batchSize: 1, streams, batchBytes };
  if (concurrency === 1 && isIdentityCopy(settings) && settings.maxErrors === Number.POSITIVE_INFINITY) {
    // One copy at a time all the same: a batch is copied file after file, on this thread
    // (io/inline-carrier.ts), so the disk never sees two at once; what a batch saves is the
    // pipeline's cost per file, which would otherwise be most of what --sequential measures.
    // Not with an error limit: the file after the one that reaches it must not start.
    return { executor, concurrency, slots: 1, batchSize: MAX_BATCH, streams, batchBytes };
  }
  return { executor, concurrency, ...batchShape(concurrency), streams, batchBytes };
}

/**
 * Files in flight for CPU-bound work in batches: 8 files in each of 4 batches. What a small
 * file costs around its compression (a queue task, promises, worker messages) is paid once
 * a batch, while the threadpool always has the next files waiting. The knee of
 * bench/concurrency.md (20,000 x 4 KiB through gzip: 5.1 s at -j 4, 3.4 s at -j 32 on 2
 * cores); beyond it, more encoders at once only cost memory. Memory stays bounded whatever
 * the sizes: a batch reads at most defaultBudget's bytes a round, and a large file streams
 * through defaultStreams' gate.
 */
const CPU_BATCHED = 32;

/**
 * Files in flight when the user does not say. Decided by the transforms, since a file's size
 * is known only once it is opened:
 * - a child process per file (`spawnsChild`, --exec): two per core, so one runs while
 *   another's IO waits, and no more children than that;
 * - other CPU-bound work (`cpuBound`: gzip, brotli): CPU_BATCHED in batches, where small
 *   files are the cost to amortise, and never fewer than two per core; one file at a time
 *   per request (the `single` executor) two per core;
 * - IO-bound work: many, and more still where small files go in batches (each of four
 *   batches in flight then carries 64 files). Both IO figures are the knees of
 *   `npm run bench -- --only sweep`, on warm tmpfs and on a cold ext4 disk alike.
 */
export function defaultConcurrency(
  stages: readonly (readonly ResolvedTransform[])[],
  batched: boolean,
  cores: number = availableParallelism(),
): number {
  const transforms = stages.flat();
  if (transforms.some((t) => t.spawnsChild === true)) return Math.max(2, cores * 2);
  if (transforms.some((t) => t.cpuBound))
    return batched ? Math.max(CPU_BATCHED, cores * 2) : Math.max(2, cores * 2);
  return batched ? 256 : 64;
}

/**
 * Large files (STREAM_THRESHOLD and up) streamed at once when the user does not say. Through
 * CPU-bound work in this process, one per core (at least two): a stream keeps its encoder
 * for the whole file (brotli 11: about 30 MiB each, bench/concurrency.md), and more streams
 * than cores only share the same CPUs. Children (`spawnsChild`) and IO-bound work stream as
 * many as are in flight: a child's memory is its own, and IO is what overlap is for.
 */
export function defaultStreams(
  stages: readonly (readonly ResolvedTransform[])[],
  concurrency: number,
  cores: number = availableParallelism(),
): number {
  return inProcessCpu(stages) ? Math.min(concurrency, Math.max(2, cores)) : concurrency;
}

/**
 * Bytes a batch reads a round when the user does not say -j. Through CPU-bound work in this
 * process, a MiB per four cores (at least one): small files still go 8 to a batch, while
 * files of a MiB or more go about one per batch, so some max(4, cores) of them are in flight
 * instead of 32. An encoder's memory follows its input up to the window: brotli 11 holds
 * about 25 MiB for a 1 MiB file (bench/concurrency.md: 266 MiB peak at -j 4, 525 MiB at 32).
 */
export function defaultBudget(
  stages: readonly (readonly ResolvedTransform[])[],
  cores: number = availableParallelism(),
): number {
  if (!inProcessCpu(stages)) return BATCH_BYTES;
  return Math.min(BATCH_BYTES, Math.max(1, Math.ceil(cores / 4)) * 1024 * 1024);
}

function inProcessCpu(stages: readonly (readonly ResolvedTransform[])[]): boolean {
  const transforms = stages.flat();
  return transforms.some((t) => t.cpuBound) && !transforms.some((t) => t.spawnsChild === true);
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
