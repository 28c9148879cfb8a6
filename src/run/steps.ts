import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Entry } from '../discover.js';
import { fileError } from '../errors.js';
import { tempPathFor } from '../io/atomic.js';
import type { FileMeta, TempPair, WriteItem } from '../io/port.js';
import type { PlannedFile } from '../plan/outputs.js';
import { runBufferStages } from '../transforms/execute.js';
import { notesOf } from '../transforms/skip.js';
import type { FileInfo } from '../types.js';
import { type Fields, failed, type JobContext, written } from './job.js';
import { BATCH_BYTES, STREAM_THRESHOLD } from './strategy.js';

/**
 * The steps of a file, each taking a list of files (one for single.ts, up to a
 * batch for batch.ts) and making one call to the io port for all of them. A
 * file that fails or finishes in a step is reported there, once; the others go
 * on to the next step.
 */
export type Report = (job: PlannedFile, fields: Fields, ms: number) => void;

/** Makes every output directory the files need; the files of a directory that cannot be made fail. */
export async function makeDirs(
  jobs: readonly PlannedFile[],
  ctx: JobContext,
  report: Report,
): Promise<PlannedFile[]> {
  const failures = new Map<string, unknown>();
  const made = new Set<string>();
  const ready: PlannedFile[] = [];
  for (const job of jobs) {
    let error: unknown;
    for (const target of job.targets) {
      const dir = dirname(target.absolute);
      if (!made.has(dir) && !failures.has(dir)) {
        await ctx.dirs.ensure(dir).then(
          () => made.add(dir),
          (reason: unknown) =>
            failures.set(dir, fileError(reason, { input: job.entry.path, output: dir, side: 'write' })),
        );
      }
      error ??= failures.get(dir);
    }
    if (error === undefined) ready.push(job);
    else report(job, failed(job, error, ctx), 0);
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
    const [renamed] = await ctx.port.rename([pairs], { fsync: ctx.settings.fsync });
    if (renamed?.ok === false) throw renamed.error;
    for (const [temp] of pairs) temps.delete(temp);
  } catch (error) {
    // The journal said "complete, about to be renamed": take it back, or a resume would skip this file.
    await journal?.undo(job.entry.path);
    for (const [temp] of pairs) {
      await ctx.port.unlink(temp).catch(() => {});
      temps.delete(temp);
    }
    throw fileError(error, {
      input: job.entry.path,
      output: pairs[0]?.[1] ?? ctx.settings.out,
      side: 'write',
    });
  }
}

/** Renames each file's temps now, or after the journal when there is one; then reports the file written. */
async function settleWritten(
  job: PlannedFile,
  pairs: readonly TempPair[],
  fields: Fields,
  ms: number,
  ctx: JobContext,
  report: Report,
): Promise<void> {
  if (ctx.journal === undefined) {
    for (const [temp] of pairs) ctx.temps.delete(temp);
    report(job, fields, ms);
    return;
  }
  const started = performance.now();
  try {
    await commitOutputs(job, pairs, ctx);
    report(job, fields, ms + performance.now() - started);
  } catch (error) {
    report(job, failed(job, error, ctx), ms + performance.now() - started);
  }
}

/** The identity run: each file copied by the kernel (or one read and write when small), never transformed. */
export async function copyFiles(
  jobs: readonly PlannedFile[],
  ctx: JobContext,
  report: Report,
): Promise<void> {
  const items = jobs.map(({ entry, targets }) => {
    const dest = (targets[0] as (typeof targets)[0]).absolute;
    return { src: entry.absolutePath, temp: tempPathFor(dest), dest };
  });
  for (const item of items) ctx.temps.add(item.temp);
  const copied = await ctx.port.copy(items, { fsync: ctx.settings.fsync, commit: ctx.journal === undefined });
  await Promise.all(
    jobs.map(async (job, i) => {
      const item = items[i] as (typeof items)[0];
      const outcome = copied[i];
      if (outcome?.ok !== true) {
        ctx.temps.delete(item.temp);
        const error = outcome?.error ?? { code: undefined, message: 'no answer', side: 'write' as const };
        report(
          job,
          failed(job, fileError(error, { input: job.entry.path, output: item.dest, side: 'write' }), ctx),
          outcome?.ms ?? 0,
        );
        return;
      }
      await settleWritten(
        job,
        [[item.temp, item.dest]],
        written(job, outcome.size, outcome.size),
        outcome.ms,
        ctx,
        report,
      );
    }),
  );
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

/** Reads the files whole, up to BATCH_BYTES: those past it are `deferred` (ask again), large ones are for streaming. */
export async function readFiles(
  jobs: readonly PlannedFile[],
  ctx: JobContext,
  report: Report,
): Promise<{ loaded: Loaded[]; large: Large[]; deferred: PlannedFile[] }> {
  const outcomes = await ctx.port.read(
    jobs.map((job) => job.entry.absolutePath),
    { limit: STREAM_THRESHOLD, cap: BATCH_BYTES },
  );
  const loaded: Loaded[] = [];
  const large: Large[] = [];
  const deferred: PlannedFile[] = [];
  for (const [i, job] of jobs.entries()) {
    const outcome = outcomes[i];
    if (outcome === undefined || !outcome.ok) {
      const error = outcome?.error ?? { code: undefined, message: 'no answer', side: 'read' as const };
      const where = { input: job.entry.path, output: job.entry.path, side: 'read' as const };
      report(job, failed(job, fileError(error, where), ctx), outcome?.ms ?? 0);
    } else if (outcome.state === 'deferred') deferred.push(job);
    else if (outcome.state === 'large') large.push({ job, meta: outcome });
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
  readonly bytesIn: number;
  readonly notes: object;
  readonly ms: number;
}

/** Runs every chain over a file's whole content; each output gets a temp beside its target. */
export async function transformFile(
  file: Loaded,
  ctx: JobContext,
  report: Report,
): Promise<Transformed | undefined> {
  const { job, data, meta } = file;
  const started = performance.now();
  const notes = {};
  const outputs: WriteItem['outputs'][number][] = [];
  try {
    await runBufferStages(
      ctx.settings.stages,
      data,
      fileInfo(job.entry, meta, notes),
      async (index, output) => {
        const dest = (job.targets[index] as (typeof job.targets)[0]).absolute;
        outputs.push({ temp: tempPathFor(dest), dest, data: output });
      },
      ctx.signal,
    );
    ctx.signal.throwIfAborted();
  } catch (error) {
    report(job, failed(job, error, ctx), file.ms + performance.now() - started);
    return undefined;
  }
  for (const output of outputs) ctx.temps.add(output.temp);
  // In place, a result keeps its input's exact mode.
  const item = { outputs, mode: ctx.settings.inPlace ? meta.mode : null };
  return { job, item, bytesIn: data.length, notes, ms: file.ms + performance.now() - started };
}

/** Writes every output of the files to its temp, and renames them into place (after the journal, in place). */
export async function writeFiles(
  files: readonly Transformed[],
  ctx: JobContext,
  report: Report,
): Promise<void> {
  const outcomes = await ctx.port.write(
    files.map((file) => file.item),
    { fsync: ctx.settings.fsync, commit: ctx.journal === undefined },
  );
  await Promise.all(
    files.map(async (file, i) => {
      const { job, item } = file;
      const outcome = outcomes[i];
      const pairs = item.outputs.map((output) => [output.temp, output.dest] as const);
      const ms = file.ms + (outcome?.ms ?? 0);
      if (outcome?.ok !== true) {
        for (const [temp] of pairs) ctx.temps.delete(temp);
        const error = outcome?.error ?? { code: undefined, message: 'no answer', side: 'write' as const };
        const where = {
          input: job.entry.path,
          output: pairs[0]?.[1] ?? ctx.settings.out,
          side: 'write' as const,
        };
        report(job, failed(job, fileError(error, where), ctx), ms);
        return;
      }
      const fields = written(job, file.bytesIn, outcome.size, notesOf(file.notes));
      await settleWritten(job, pairs, fields, ms, ctx, report);
    }),
  );
}
