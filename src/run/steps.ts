import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Entry } from '../discover.js';
import { fileError, type IoFailure } from '../errors.js';
import { tempPathFor } from '../io/atomic.js';
import type { CopyItem, FileMeta, TempPair, WriteItem } from '../io/port.js';
import type { PlannedFile } from '../plan/outputs.js';
import { runBufferStages } from '../transforms/execute.js';
import { notesOf, StreamInstead } from '../transforms/skip.js';
import type { DroppedOutput, FileInfo } from '../types.js';
import { discarded, type Fields, failed, type JobContext, skipped, written } from './job.js';
import { allDropped, dropByRatio, finish, needsFinish, removeStale, tooSmall } from './keep.js';
import { BATCH_BYTES, STREAM_THRESHOLD } from './strategy.js';

/**
 * The steps of a file, each taking a list of files (one for single.ts, up to a
 * batch for batch.ts) and making one call to the io port for all of them. A
 * file that fails or finishes in a step is reported there, once; the others go
 * on to the next step.
 */
export type Report = (job: PlannedFile, fields: Fields, ms: number) => void;

/** A file's failure in a port call: `cannot read <input>`, or `cannot write <output>` (or the `dest` it names). */
function ioFailed(job: PlannedFile, error: IoFailure, output: string, ctx: JobContext): Fields {
  return failed(job, fileError(error, { input: job.entry.path, output, side: error.side }), ctx);
}

/** Makes every output directory the files need; the files of a directory that cannot be made fail. */
export async function makeDirs(
  jobs: readonly PlannedFile[],
  ctx: JobContext,
  report: Report,
): Promise<PlannedFile[]> {
  if (ctx.settings.discard) return [...jobs];
  // Every directory the files need, made at once (each is one call to the io port).
  const dirs = new Map<string, Promise<unknown>>();
  for (const job of jobs) {
    for (const target of job.targets) {
      const dir = dirname(target.absolute);
      if (!dirs.has(dir))
        dirs.set(
          dir,
          ctx.dirs.ensure(dir).then(
            () => undefined,
            (reason: unknown) => reason ?? 'failed',
          ),
        );
    }
  }
  const failures = new Map<string, unknown>();
  for (const [dir, made] of dirs) {
    const reason = await made;
    if (reason !== undefined) failures.set(dir, reason);
  }
  const ready: PlannedFile[] = [];
  for (const job of jobs) {
    const dir = job.targets.map((target) => dirname(target.absolute)).find((d) => failures.has(d));
    if (dir === undefined) ready.push(job);
    else {
      const error = fileError(failures.get(dir), { input: job.entry.path, output: dir, side: 'write' });
      report(job, failed(job, error, ctx), 0);
    }
  }
  return ready;
}

/**
 * In place, the journal learns which temps are complete before any is renamed
 * over its input, so a resumed run finishes exactly these renames instead of
 * transforming the file again. Every output is renamed into place here, all of
 * a file's or, on failure, none (its temps are removed).
 */
export async function commitOutputs(
  job: PlannedFile,
  pairs: readonly TempPair[],
  ctx: JobContext,
): Promise<void> {
  const { journal, temps } = ctx;
  try {
    await journal?.record(job.entry.path, pairs);
    if (journal !== undefined) for (const [temp, dest] of pairs) temps.complete(temp, dest);
    const [renamed] = await ctx.port.rename([pairs], { fsync: ctx.settings.fsync, root: ctx.settings.out });
    if (renamed?.ok === false) throw renamed.error;
    for (const [temp] of pairs) temps.delete(temp);
  } catch (error) {
    // The journal said "complete, about to be renamed": take it back, or a resume would skip this file.
    await journal?.undo(job.entry.path);
    for (const [temp] of pairs) {
      await ctx.port.unlink(temp, ctx.settings.out).catch(() => {});
      temps.delete(temp);
    }
    throw fileError(error, {
      input: job.entry.path,
      output: pairs[0]?.[1] ?? ctx.settings.out,
      side: 'write',
    });
  }
}

/**
 * Reports a file written whose temps the port renamed into place; in place, the journal
 * comes first and the renames after it (a promise then).
 */
function settleWritten(
  job: PlannedFile,
  pairs: readonly TempPair[],
  fields: Fields,
  ms: number,
  ctx: JobContext,
  report: Report,
  dropped: readonly DroppedOutput[] = [],
): Promise<void> | undefined {
  const after = needsFinish(dropped, ctx.settings);
  if (ctx.journal === undefined) {
    for (const [temp] of pairs) ctx.temps.delete(temp);
    if (!after) {
      report(job, fields, ms);
      return undefined;
    }
  }
  const started = performance.now();
  const committed = ctx.journal === undefined ? Promise.resolve() : commitOutputs(job, pairs, ctx);
  return committed
    .then(() => (after ? finish(job, fields, dropped, ctx) : fields))
    .then(
      (done) => report(job, done, ms + performance.now() - started),
      (error: unknown) => report(job, failed(job, error, ctx), ms + performance.now() - started),
    );
}

/** The identity run: each file copied by the kernel (or one read and write when small), never transformed. */
export async function copyFiles(
  jobs: readonly PlannedFile[],
  ctx: JobContext,
  report: Report,
): Promise<void> {
  const items: CopyItem[] = [];
  for (const { entry, targets } of jobs) {
    const dest = (targets[0] as (typeof targets)[0]).absolute;
    const temp = tempPathFor(dest);
    ctx.temps.add(temp);
    items.push({ src: entry.absolutePath, temp, dest });
  }
  const copied = await ctx.port.copy(items, {
    fsync: ctx.settings.fsync,
    commit: ctx.journal === undefined,
    root: ctx.settings.out,
  });
  const journaled: Promise<void>[] = [];
  for (const [i, job] of jobs.entries()) {
    const { temp, dest } = items[i] as CopyItem;
    const outcome = copied[i] as (typeof copied)[0];
    if (!outcome.ok) {
      ctx.temps.delete(temp);
      report(job, ioFailed(job, outcome.error, dest, ctx), outcome.ms);
      continue;
    }
    const fields = written(job, outcome.size, outcome.size);
    const pending = settleWritten(job, [[temp, dest]], fields, outcome.ms, ctx, report);
    if (pending !== undefined) journaled.push(pending);
  }
  await Promise.all(journaled);
}

export interface Loaded {
  readonly job: PlannedFile;
  readonly data: Buffer;
  readonly meta: FileMeta;
  readonly ms: number;
}

export interface Large {
  readonly job: PlannedFile;
  readonly meta: FileMeta;
}

/** Reads the files whole, up to the batch's bytes (BATCH_BYTES unless the strategy says less): those past it are `deferred` (ask again), large ones are for streaming. */
export async function readFiles(
  jobs: readonly PlannedFile[],
  ctx: JobContext,
  report: Report,
): Promise<{ loaded: Loaded[]; large: Large[]; deferred: PlannedFile[] }> {
  const { read } = ctx.settings;
  const outcomes = await ctx.port.read(
    jobs.map((job) => job.entry.absolutePath),
    {
      limit: read === 'stream' ? 0 : STREAM_THRESHOLD,
      cap: ctx.batchBytes ?? BATCH_BYTES,
      // Decided from the size the worker sees as it opens the file: a small file is never read.
      min: ctx.settings.minSize,
      direct: read === 'direct',
    },
  );
  const loaded: Loaded[] = [];
  const large: Large[] = [];
  const deferred: PlannedFile[] = [];
  for (const [i, job] of jobs.entries()) {
    const outcome = outcomes[i] as (typeof outcomes)[0];
    if (!outcome.ok) report(job, ioFailed(job, outcome.error, job.entry.path, ctx), outcome.ms);
    else if (outcome.state === 'deferred') deferred.push(job);
    else if (outcome.state === 'large') large.push({ job, meta: outcome });
    else if (outcome.state === 'small')
      report(job, skipped(tooSmall(outcome.size, ctx.settings) ?? 'small', []), outcome.ms);
    else loaded.push({ job, data: outcome.data, meta: outcome, ms: outcome.ms });
  }
  return { loaded, large, deferred };
}

/** What a transform learns of its file; the transforms' notes (`details`) are written on this same object. */
export function fileInfo(entry: Entry, meta: FileMeta, notes: object): FileInfo {
  return Object.assign(notes, {
    path: entry.path,
    absolutePath: entry.absolutePath,
    size: meta.size,
    mtime: new Date(meta.mtimeMs),
  });
}

export interface Transformed {
  readonly job: PlannedFile;
  readonly item: WriteItem;
  /** Outputs not worth writing (run/keep.ts): not in `item`. */
  readonly dropped: readonly DroppedOutput[];
  readonly bytesIn: number;
  readonly notes: object;
  readonly ms: number;
}

/**
 * Runs every chain over a file's whole content; each output gets a temp beside its target.
 * A transform that finds the file too big for memory (a decompressor's output) hands it to
 * `stream` instead.
 */
export async function transformFile(
  file: Loaded,
  ctx: JobContext,
  report: Report,
  stream: (large: Large) => void,
): Promise<Transformed | undefined> {
  const { job, data, meta } = file;
  const started = performance.now();
  ctx.incremental?.read(job.entry.path, meta, data);
  const notes = {};
  const outputs: WriteItem['outputs'][number][] = [];
  const dropped: DroppedOutput[] = [];
  try {
    await runBufferStages(
      ctx.settings.stages,
      data,
      fileInfo(job.entry, meta, notes),
      async (index, output) => {
        const target = job.targets[index] as (typeof job.targets)[0];
        const drop = ctx.settings.discard
          ? undefined
          : dropByRatio(target, data.length, output.length, ctx.settings);
        if (drop !== undefined) dropped.push(drop);
        else outputs.push({ temp: tempPathFor(target.absolute), dest: target.absolute, data: output });
      },
      ctx.signal,
    );
    ctx.signal.throwIfAborted();
  } catch (error) {
    if (error instanceof StreamInstead && !ctx.signal.aborted) stream({ job, meta });
    else report(job, failed(job, error, ctx), file.ms + performance.now() - started);
    return undefined;
  }
  if (outputs.length === 0) {
    // Nothing paid: the file is skipped, and what earlier runs wrote for it goes.
    const fields = await removeStale(job, dropped, ctx).then(
      () => allDropped(dropped, ctx.settings),
      (error: unknown) => failed(job, error, ctx),
    );
    report(job, fields, file.ms + performance.now() - started);
    return undefined;
  }
  for (const output of outputs) ctx.temps.add(output.temp);
  // Every output keeps its input's permission bits, whatever the transform.
  const item = { outputs, mode: meta.mode };
  return { job, item, dropped, bytesIn: data.length, notes, ms: file.ms + performance.now() - started };
}

/** Writes every output of the files to its temp, and renames them into place (after the journal, in place). */
export async function writeFiles(
  files: readonly Transformed[],
  ctx: JobContext,
  report: Report,
): Promise<void> {
  if (ctx.settings.discard) {
    for (const { job, item, bytesIn, notes, ms } of files) {
      for (const output of item.outputs) ctx.temps.delete(output.temp);
      const bytesOut = item.outputs.reduce((sum, output) => sum + output.data.length, 0);
      report(job, discarded(bytesIn, bytesOut, notesOf(notes)), ms);
    }
    return;
  }
  const outcomes = await ctx.port.write(
    files.map((file) => file.item),
    { fsync: ctx.settings.fsync, commit: ctx.journal === undefined, root: ctx.settings.out },
  );
  const journaled: Promise<void>[] = [];
  for (const [i, file] of files.entries()) {
    const { job, item } = file;
    const outcome = outcomes[i] as (typeof outcomes)[0];
    const pairs = item.outputs.map((output) => [output.temp, output.dest] as const);
    const ms = file.ms + outcome.ms;
    if (!outcome.ok) {
      for (const [temp] of pairs) ctx.temps.delete(temp);
      report(job, ioFailed(job, outcome.error, pairs[0]?.[1] ?? ctx.settings.out, ctx), ms);
      continue;
    }
    const fields = written(job, file.bytesIn, outcome.size, notesOf(file.notes), file.dropped);
    const pending = settleWritten(job, pairs, fields, ms, ctx, report, file.dropped);
    if (pending !== undefined) journaled.push(pending);
  }
  await Promise.all(journaled);
}
