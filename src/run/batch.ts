import { performance } from 'node:perf_hooks';
import type { Entry } from '../discover.js';
import type { PlannedFile } from '../plan/outputs.js';
import type { FileResult } from '../types.js';
import { admit, type Fields, isPlanned, type JobContext, result } from './job.js';
import {
  copyFiles,
  type Large,
  makeDirs,
  readFiles,
  type Transformed,
  transformFile,
  writeFiles,
} from './steps.js';
import { isIdentityCopy } from './strategy.js';
import { streamFile } from './stream.js';

/**
 * The batch executor (see strategy.ts for when it runs): up to a batch of
 * files through each step together, one call to the io port per step.
 */

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

export interface BatchHooks {
  /** Gets every file's result, in no particular order. */
  readonly report: (result: FileResult) => void;
  /** True once the run starts nothing new (interrupted, or the error policy reached). */
  readonly stopping: () => boolean;
}

/**
 * Processes a batch: every file started is reported once. The read step takes
 * at most BATCH_BYTES a round (a file past it waits for the next); once the run
 * is stopping, files not yet read are not started. Files too large to read
 * whole stream beside the batch.
 */
export async function processBatch(
  entries: readonly Entry[],
  ctx: JobContext,
  hooks: BatchHooks,
): Promise<void> {
  const report = (job: PlannedFile, fields: Fields, ms: number) =>
    hooks.report(result(job.entry, fields, ms));
  const jobs: PlannedFile[] = [];
  for (const entry of entries) {
    const admitted = admit(entry, ctx);
    const file = admitted instanceof Promise ? await admitted : admitted;
    if (isPlanned(file)) jobs.push(file);
    else hooks.report(result(entry, file, 0));
  }
  let round = await makeDirs(jobs, ctx, report);
  if (round.length > 0 && isIdentityCopy(ctx.settings)) {
    await copyFiles(round, ctx, report);
    return;
  }
  const streams: Promise<void>[] = [];
  const stream = ({ job, meta }: Large) => {
    const started = performance.now();
    if (hooks.stopping()) return;
    streams.push(
      streamFile(job, meta, ctx).then((fields) => report(job, fields, performance.now() - started)),
    );
  };
  while (round.length > 0) {
    const { loaded, large, deferred } = await readFiles(round, ctx, report);
    for (const file of large) stream(file);
    const transformed = await Promise.all(loaded.map((file) => transformFile(file, ctx, report, stream)));
    const done = transformed.filter((file): file is Transformed => file !== undefined);
    if (done.length > 0) await writeFiles(done, ctx, report);
    round = hooks.stopping() ? [] : deferred;
  }
  await Promise.all(streams);
}
