import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Entry } from './discover.js';
import { describeCause, GlobpipeError } from './errors.js';
import {
  commit,
  discard,
  type PreparedOutput,
  prepareCopy,
  prepareFile,
  prepareStream,
  type WriteOptions,
} from './io/atomic-write.js';
import type { DirMaker } from './io/dir-maker.js';
import type { TempRegistry } from './io/temp-files.js';
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
  /** In-place runs only: what is done, so an interrupted run can be resumed. */
  readonly journal?: Journal | undefined;
}

type Phase = 'read' | 'write';

/** Tags an error with the phase it came from, unless it is already a transform error. */
function inPhase(phase: Phase, path: string, error: unknown): GlobpipeError {
  if (error instanceof GlobpipeError) return error;
  if ((error as Error | undefined)?.name === 'AbortError') {
    return new GlobpipeError('EABORT', 'interrupted', { cause: error });
  }
  const code = phase === 'read' ? 'EREAD' : 'EWRITE';
  const verb = phase === 'read' ? 'cannot read' : 'cannot write';
  return new GlobpipeError(code, `${verb} ${path}: ${describeCause(error)}`, { cause: error });
}

function isIdentityCopy(settings: Settings): boolean {
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
  let targets: OutputTarget[] = [];
  try {
    if (entry.kind === 'symlink') {
      if (!ctx.settings.followSymlinks) {
        return finish({
          outputs: [],
          status: 'skipped',
          bytesIn: 0,
          bytesOut: 0,
          reason: 'symbolic link (not followed without --follow-symlinks)',
        });
      }
      // The glob followed it and could only lstat it: its target is missing, or it loops.
      throw await brokenLink(entry, ctx);
    }
    if (entry.kind === 'other') {
      throw new GlobpipeError(
        'ENOTFILE',
        `not a regular file: it ${entry.special ?? 'is not a regular file'}`,
      );
    }
    if (ctx.journal?.isDone(entry.path)) {
      return finish({
        outputs: [],
        status: 'skipped',
        bytesIn: 0,
        bytesOut: 0,
        reason: 'finished by the interrupted run (--resume)',
      });
    }
    targets = planOutputs(entry, ctx.settings);
    const outputs = targets.map((t) => t.relative);
    const skipReason = await whySkip(entry, targets, ctx.settings);
    if (skipReason !== undefined) {
      return finish({ outputs, status: 'skipped', bytesIn: 0, bytesOut: 0, reason: skipReason });
    }
    if (ctx.settings.dryRun) {
      return finish({ outputs, status: 'planned', bytesIn: entry.size, bytesOut: 0 });
    }
    const file: FileInfo = {
      path: entry.path,
      absolutePath: entry.absolutePath,
      size: entry.size,
      mtime: entry.mtime,
    };
    const { bytesIn, bytesOut } = await writeOutputs(entry, file, targets, ctx);
    const details = notesOf(file);
    return finish({
      outputs,
      status: 'written',
      bytesIn,
      bytesOut,
      ...(details === undefined ? {} : { details }),
    });
  } catch (error) {
    if (error instanceof SkipFile) {
      return finish({ outputs: [], status: 'skipped', bytesIn: 0, bytesOut: 0, reason: error.message });
    }
    const failure = ctx.signal.aborted
      ? new GlobpipeError('EABORT', 'interrupted before its output was complete', { cause: error })
      : error instanceof GlobpipeError
        ? error
        : inPhase('read', entry.path, error);
    return finish({
      outputs: targets.map((t) => t.relative),
      status: 'failed',
      bytesIn: 0,
      bytesOut: 0,
      error: { code: failure.code, message: failure.message },
    });
  }
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
  for (const target of targets) {
    const existing = await settings.io.stat(target.absolute).catch(() => undefined);
    if (existing === undefined) return undefined;
    if (settings.ifNewer && !settings.skipExisting && existing.mtimeMs <= entry.mtime.getTime())
      return undefined;
  }
  return settings.skipExisting
    ? 'output exists (--skip-existing)'
    : 'output is newer than input (--if-newer)';
}

async function writeOutputs(entry: Entry, file: FileInfo, targets: readonly OutputTarget[], ctx: JobContext) {
  const { settings, signal } = ctx;
  const writeOptions: WriteOptions = {
    io: settings.io,
    temps: ctx.temps,
    fsync: settings.fsync,
    signal,
    mode: settings.inPlace ? entry.mode : undefined,
  };
  for (const dir of new Set(targets.map((t) => dirname(t.absolute)))) {
    await ctx.dirs.ensure(dir).catch((error: unknown) => {
      throw error instanceof GlobpipeError ? error : inPhase('write', dir, error);
    });
  }

  const prepared: PreparedOutput[] = [];
  try {
    const bytesIn = await prepareOutputs(entry, file, targets, writeOptions, ctx, prepared);
    // In place, the journal learns which temps are complete before any is renamed over its input:
    // a resumed run finishes exactly these renames instead of transforming the file again.
    await ctx.journal?.record(entry.path, prepared);
    for (const output of prepared) ctx.temps.complete(output.temp, output.dest);
    await commit(prepared, writeOptions).catch((error: unknown) => {
      throw inPhase('write', (error as { dest?: string }).dest ?? settings.out, error);
    });
    return { bytesIn, bytesOut: prepared.reduce((sum, output) => sum + output.bytes, 0) };
  } catch (error) {
    await discard(prepared, writeOptions);
    throw error;
  }
}

/** Writes every output of one file to its temp file; returns the bytes read. */
async function prepareOutputs(
  entry: Entry,
  file: FileInfo,
  targets: readonly OutputTarget[],
  writeOptions: WriteOptions,
  ctx: JobContext,
  prepared: PreparedOutput[],
): Promise<number> {
  const { settings, signal } = ctx;
  if (isIdentityCopy(settings) && targets.length === 1) {
    const target = targets[0] as OutputTarget;
    try {
      prepared.push(await prepareCopy(entry.absolutePath, target.absolute, entry.size, writeOptions));
    } catch (error) {
      // copyfile names the source in every error; whether the source is still readable tells the side.
      const sourceOk = await settings.io.isReadableFile(entry.absolutePath);
      throw sourceOk ? inPhase('write', target.absolute, error) : inPhase('read', entry.path, error);
    }
    return entry.size;
  }

  if (entry.size < settings.streamThreshold) {
    let content: Buffer;
    try {
      content = await settings.io.readFile(entry.absolutePath);
    } catch (error) {
      throw inPhase('read', entry.path, error);
    }
    await runBufferStages(
      settings.stages,
      content,
      file,
      async (index, data) => {
        const target = targets[index] as OutputTarget;
        prepared.push(
          await prepareFile(target.absolute, data, writeOptions).catch((error: unknown) => {
            throw inPhase('write', target.absolute, error);
          }),
        );
      },
      signal,
    );
    return content.length;
  }

  return streamOutputs(entry, file, targets, writeOptions, ctx, prepared);
}

/** Large files: one read stream, teed to every chain, each piped into its own temp file. */
async function streamOutputs(
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
      bytesIn = await streamOutputs(entry, file, [target], options, ctx, prepared);
    return bytesIn;
  }
  // The first stream to fail names the culprit; the pipeline then destroys the rest with the same error.
  const origin = new WeakMap<object, 'read' | ResolvedTransform>();
  const tag = <S extends Readable>(stream: S, label: 'read' | ResolvedTransform): S =>
    stream.on('error', (error: unknown) => {
      if (typeof error === 'object' && error !== null && !origin.has(error)) origin.set(error, label);
    });
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
      prepareStream(target.absolute, branches[i] as Readable, chains[i] ?? [], options),
    ),
  );
  for (const outcome of outcomes) if (outcome.status === 'fulfilled') prepared.push(outcome.value);
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue;
    const error: unknown = outcome.reason;
    const culprit = typeof error === 'object' && error !== null ? origin.get(error) : undefined;
    if (culprit === 'read') throw inPhase('read', entry.path, error);
    if (culprit !== undefined) throw asTransformError(error, culprit);
    throw inPhase('write', (targets[i] as OutputTarget).absolute, error);
  }
  return (source as Readable & { bytesRead?: number }).bytesRead ?? entry.size;
}
