import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import type { Entry } from './discover.js';
import { describeCause, GlobpipeError } from './errors.js';
import { commit, discard, type PreparedOutput, prepareStream, type WriteOptions } from './io/atomic-write.js';
import type { DirMaker } from './io/dir-maker.js';
import { type FileOps, type OutputFile, SideError } from './io/file-ops.js';
import { type TempRegistry, tempPathFor } from './io/temp-files.js';
import type { Journal } from './journal.js';
import { type OutputTarget, planOutputs } from './plan.js';
import type { Settings } from './settings.js';
import { asTransformError, runBufferStages, tee, toStream } from './transforms/execute.js';
import type { ResolvedTransform } from './transforms/resolved.js';
import { notesOf, SkipFile } from './transforms/skip.js';
import type { FileInfo, FileResult } from './types.js';

/** What every file job shares within one run. */
export interface JobContext {
  readonly settings: Settings;
  readonly dirs: DirMaker;
  readonly temps: TempRegistry;
  readonly signal: AbortSignal;
  /** Whole-file operations: worker threads, or the Io layer. */
  readonly ops: FileOps;
  /** In-place runs only: what is done, so an interrupted run can be resumed. */
  readonly journal?: Journal | undefined;
}

type Phase = 'read' | 'write';

/** Turns an IO error into the file's error: `cannot read a.txt: ENOENT: no such file or directory`. */
function inPhase(phase: Phase, path: string, error: unknown): GlobpipeError {
  if (error instanceof GlobpipeError) return error;
  if ((error as Error | undefined)?.name === 'AbortError') {
    return new GlobpipeError('EABORT', 'interrupted', { cause: error });
  }
  const code = phase === 'read' ? 'EREAD' : 'EWRITE';
  const verb = phase === 'read' ? 'cannot read' : 'cannot write';
  return new GlobpipeError(code, `${verb} ${path}: ${describeCause(error)}`, { cause: error });
}

/** A SideError knows which side failed; the write side names the output it was writing. */
export function fromSide(error: unknown, input: string, output: string): GlobpipeError {
  if (error instanceof SideError) {
    return error.side === 'read'
      ? inPhase('read', input, error)
      : inPhase('write', error.dest ?? output, error);
  }
  return inPhase('write', output, error);
}

export function isIdentityCopy(settings: Settings): boolean {
  return settings.chains.length === 1 && (settings.chains[0] ?? []).every((t) => t.identity === true);
}

/** Reads, transforms and writes one input; never throws: every outcome is a result. */
export async function processFile(entry: Entry, ctx: JobContext): Promise<FileResult> {
  const started = performance.now();
  const finish = (fields: Omit<FileResult, 'input' | 'ms'>): FileResult => ({
    input: entry.path,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
    ...fields,
  });
  const skipped = (reason: string, outputs: string[] = []) =>
    finish({ outputs, status: 'skipped', bytesIn: 0, bytesOut: 0, reason });
  let targets: OutputTarget[] = [];
  try {
    if (entry.kind === 'symlink') {
      if (!ctx.settings.followSymlinks)
        return skipped('symbolic link (not followed without --follow-symlinks)');
      // The glob followed it and could only lstat it: its target is missing, or it loops.
      throw await brokenLink(entry, ctx);
    }
    if (entry.kind === 'other') {
      throw new GlobpipeError(
        'ENOTFILE',
        `not a regular file: it ${entry.special ?? 'is not a regular file'}`,
      );
    }
    if (ctx.journal?.isDone(entry.path)) return skipped('finished by the interrupted run (--resume)');
    targets = planOutputs(entry, ctx.settings);
    const outputs = targets.map((t) => t.relative);
    const skipReason = await whySkip(entry, targets, ctx.settings);
    if (skipReason !== undefined) return skipped(skipReason, outputs);
    if (ctx.settings.dryRun) return finish({ outputs, status: 'planned', bytesIn: 0, bytesOut: 0 });
    const notes: object = {};
    const { bytesIn, bytesOut } = await writeOutputs(entry, targets, ctx, notes);
    const details = notesOf(notes);
    return finish({
      outputs,
      status: 'written',
      bytesIn,
      bytesOut,
      ...(details === undefined ? {} : { details }),
    });
  } catch (error) {
    return finish(failedFile(error, targets, entry, ctx));
  }
}

/** What an error thrown while processing a file makes of it: skipped (SkipFile) or failed. */
export function failedFile(
  error: unknown,
  targets: readonly OutputTarget[],
  entry: Entry,
  ctx: JobContext,
): Omit<FileResult, 'input' | 'ms'> {
  // A file a transform declines has no outputs; a failed one names those it did not write.
  if (error instanceof SkipFile)
    return { outputs: [], status: 'skipped', bytesIn: 0, bytesOut: 0, reason: error.message };
  const outputs = targets.map((t) => t.relative);
  const failure = ctx.signal.aborted
    ? new GlobpipeError('EABORT', 'interrupted before its output was complete', { cause: error })
    : error instanceof GlobpipeError
      ? error
      : inPhase('read', entry.path, error);
  return {
    outputs,
    status: 'failed',
    bytesIn: 0,
    bytesOut: 0,
    error: { code: failure.code, message: failure.message },
  };
}

async function brokenLink(entry: Entry, ctx: JobContext): Promise<GlobpipeError> {
  const { io } = ctx.settings;
  const target = await io.readlink(entry.absolutePath).catch(() => '?');
  const code = await io.stat(entry.absolutePath).then(
    () => 'OK',
    (error: NodeJS.ErrnoException) => error.code,
  );
  if (code === 'ELOOP')
    return new GlobpipeError('ESYMLINK', `symbolic link loop: \`${target}\` leads back to itself`);
  if (code === 'OK') return new GlobpipeError('EREAD', 'symbolic link changed while the run went on');
  return new GlobpipeError('ESYMLINK', `dangling symbolic link: its target \`${target}\` does not exist`);
}

async function whySkip(
  entry: Entry,
  targets: readonly OutputTarget[],
  settings: Settings,
): Promise<string | undefined> {
  if (!settings.skipExisting && !settings.ifNewer) return undefined;
  const inputTime = settings.ifNewer ? (await settings.io.stat(entry.absolutePath)).mtimeMs : 0;
  for (const target of targets) {
    const existing = await settings.io.stat(target.absolute).catch(() => undefined);
    if (existing === undefined) return undefined;
    if (settings.ifNewer && !settings.skipExisting && existing.mtimeMs <= inputTime) return undefined;
  }
  return settings.skipExisting
    ? 'output exists (--skip-existing)'
    : 'output is newer than input (--if-newer)';
}

/** Makes an output directory (once per run); its failure is a write error naming it. */
export function ensureDir(dir: string, ctx: JobContext): Promise<void> {
  return ctx.dirs.ensure(dir).catch((error: unknown) => {
    throw error instanceof GlobpipeError ? error : inPhase('write', dir, error);
  });
}

/**
 * Writes every output of one file, all or nothing: each goes to a temp file
 * beside its target, and only when all are complete are they renamed into
 * place. In place, the journal records the complete temps before the renames.
 */
async function writeOutputs(entry: Entry, targets: readonly OutputTarget[], ctx: JobContext, notes: object) {
  const { settings, ops, temps } = ctx;
  for (const dir of new Set(targets.map((t) => dirname(t.absolute)))) await ensureDir(dir, ctx);
  // Without a journal, the worker renames as soon as the temps are complete: one trip per file.
  const commitNow = ctx.journal === undefined;

  if (isIdentityCopy(settings) && targets.length === 1) {
    const target = targets[0] as OutputTarget;
    const temp = tempPathFor(target.absolute);
    temps.add(temp);
    let size: number;
    try {
      size = await ops.copy(entry.absolutePath, temp, commitNow ? target.absolute : null, settings.fsync);
    } catch (error) {
      temps.delete(temp);
      throw fromSide(error, entry.path, target.absolute);
    }
    if (commitNow) temps.delete(temp);
    else await commitJournaled(entry, [{ temp, dest: target.absolute, bytes: size }], ctx);
    return { bytesIn: size, bytesOut: size };
  }

  let read: Awaited<ReturnType<FileOps['read']>>;
  try {
    read = await ops.read(entry.absolutePath, settings.streamThreshold);
  } catch (error) {
    throw fromSide(error, entry.path, entry.path);
  }
  const mode = settings.inPlace ? read.mode : null;
  if (read.data === undefined) {
    const file = fileInfo(entry, read.size, read.mtimeMs, notes);
    return streamOutputs(entry, file, targets, mode, ctx);
  }
  const outputs = await transformWhole(entry, read.data, read.mtimeMs, targets, ctx, notes);
  const bytesOut = outputs.reduce((sum, output) => sum + output.data.length, 0);
  try {
    await ops.write(outputs, mode, settings.fsync, commitNow);
  } catch (error) {
    for (const output of outputs) temps.delete(output.temp);
    throw fromSide(error, entry.path, outputs[0]?.dest ?? settings.out);
  }
  if (commitNow) for (const output of outputs) temps.delete(output.temp);
  else
    await commitJournaled(
      entry,
      outputs.map((o) => ({ temp: o.temp, dest: o.dest, bytes: o.data.length })),
      ctx,
    );
  return { bytesIn: read.size, bytesOut };
}

function fileInfo(entry: Entry, size: number, mtimeMs: number, notes: object): FileInfo & object {
  // The transforms' notes (`details`) are written on this object: it is `notes` itself.
  return Object.assign(notes, {
    path: entry.path,
    absolutePath: entry.absolutePath,
    size,
    mtime: new Date(mtimeMs),
  });
}

/**
 * Runs every chain over a file's whole content; the outputs, each with its temp
 * path, registered as live temps (the caller writes them, then forgets them).
 */
export async function transformWhole(
  entry: Entry,
  data: Buffer,
  mtimeMs: number,
  targets: readonly OutputTarget[],
  ctx: JobContext,
  notes: object,
): Promise<OutputFile[]> {
  const file = fileInfo(entry, data.length, mtimeMs, notes);
  const outputs: OutputFile[] = [];
  await runBufferStages(
    ctx.settings.stages,
    data,
    file,
    async (index, output) => {
      const target = targets[index] as OutputTarget;
      outputs.push({ temp: tempPathFor(target.absolute), dest: target.absolute, data: output });
    },
    ctx.signal,
  );
  ctx.signal.throwIfAborted();
  for (const output of outputs) ctx.temps.add(output.temp);
  return outputs;
}

/**
 * In place: the journal learns which temps are complete before any is renamed over
 * its input, so a resumed run finishes exactly these renames instead of
 * transforming the file again.
 */
async function commitJournaled(
  entry: Entry,
  prepared: readonly PreparedOutput[],
  ctx: JobContext,
): Promise<void> {
  try {
    await ctx.journal?.record(entry.path, prepared);
    for (const output of prepared) ctx.temps.complete(output.temp, output.dest);
    await ctx.ops.rename(
      prepared.map((output) => [output.temp, output.dest] as const),
      ctx.settings.fsync,
    );
    for (const output of prepared) ctx.temps.delete(output.temp);
  } catch (error) {
    // The journal said "complete, about to be renamed": take it back, or a resume would skip this file.
    await ctx.journal?.undo(entry.path);
    for (const output of prepared) {
      await ctx.settings.io.unlink(output.temp).catch(() => {});
      ctx.temps.delete(output.temp);
    }
    throw fromSide(error, entry.path, prepared[0]?.dest ?? ctx.settings.out);
  }
}

function closed(stream: Readable): Promise<void> {
  if (stream.closed || !stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Large files: one read stream, teed to every chain, each piped into its own temp file. */
async function streamOutputs(
  entry: Entry,
  file: FileInfo,
  targets: readonly OutputTarget[],
  mode: number | null,
  ctx: JobContext,
): Promise<{ bytesIn: number; bytesOut: number }> {
  const { settings } = ctx;
  const options: WriteOptions = {
    io: settings.io,
    temps: ctx.temps,
    fsync: settings.fsync,
    signal: ctx.signal,
    mode: mode ?? undefined,
  };
  const prepared: PreparedOutput[] = [];
  try {
    const bytesIn = await streamBranches(entry, file, targets, options, ctx, prepared);
    if (ctx.journal !== undefined) {
      await ctx.journal.record(entry.path, prepared);
      for (const output of prepared) ctx.temps.complete(output.temp, output.dest);
    }
    await commit(prepared, options).catch(async (error: unknown) => {
      await ctx.journal?.undo(entry.path);
      throw inPhase('write', (error as { dest?: string }).dest ?? settings.out, error);
    });
    return { bytesIn, bytesOut: prepared.reduce((sum, output) => sum + output.bytes, 0) };
  } catch (error) {
    await discard(prepared, options);
    throw error;
  }
}

async function streamBranches(
  entry: Entry,
  file: FileInfo,
  targets: readonly OutputTarget[],
  options: WriteOptions,
  ctx: JobContext,
  prepared: PreparedOutput[],
): Promise<number> {
  if (targets.length > 1 && targets.some((target) => target.chain.some((t) => t.spawnsChild === true))) {
    // Branches that run child processes go one after another (each reading the file again),
    // so a file never has more than one child: children stay <= --concurrency.
    let bytesIn = 0;
    for (const target of targets)
      bytesIn = await streamBranches(entry, file, [target], options, ctx, prepared);
    return bytesIn;
  }
  // The first stream to fail names the culprit; the pipeline then destroys the rest with the same error.
  const origin = new WeakMap<object, 'read' | 'write' | ResolvedTransform>();
  const tag = <S extends Readable | Writable>(stream: S, label: 'read' | 'write' | ResolvedTransform): S => {
    stream.on('error', (error: unknown) => {
      if (typeof error === 'object' && error !== null && !origin.has(error)) origin.set(error, label);
    });
    return stream;
  };
  const chains = targets.map((target) =>
    target.chain.map((t) => {
      try {
        return tag(toStream(t, file), t);
      } catch (error) {
        throw asTransformError(error, t);
      }
    }),
  );
  let source: Readable;
  try {
    source = await ctx.settings.io.openReadStream(entry.absolutePath);
  } catch (error) {
    for (const stage of chains.flat()) stage.destroy();
    throw inPhase('read', entry.path, error);
  }
  tag(source, 'read');
  const branches: Readable[] = targets.length === 1 ? [source] : tee(source, targets.length);
  const outcomes = await Promise.allSettled(
    targets.map((target, i) =>
      prepareStream(target.absolute, branches[i] as Readable, chains[i] ?? [], options, (sink) =>
        tag(sink, 'write'),
      ),
    ),
  );
  // A failed pipeline destroys its streams, but their descriptors close a moment later: wait, so
  // that when the file's result is out, it holds nothing open.
  // Only our own file stream: a user's Duplex may never emit 'close' (emitClose: false).
  await closed(source);
  for (const outcome of outcomes) if (outcome.status === 'fulfilled') prepared.push(outcome.value);
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue;
    const error: unknown = outcome.reason;
    const culprit = typeof error === 'object' && error !== null ? origin.get(error) : undefined;
    if (culprit === 'read') throw inPhase('read', entry.path, error);
    if (culprit === 'write') throw inPhase('write', (targets[i] as OutputTarget).absolute, error);
    if (culprit !== undefined) throw asTransformError(error, culprit);
    throw inPhase('write', (targets[i] as OutputTarget).absolute, error);
  }
  return (source as Readable & { bytesRead?: number }).bytesRead ?? file.size;
}
