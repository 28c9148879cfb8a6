import type { Entry } from '../discover.js';
import { abortedError, fileError, GlobpipeError } from '../errors.js';
import type { TempRegistry } from '../io/atomic.js';
import type { DirMaker } from '../io/dirs.js';
import type { IoPort } from '../io/port.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { hasRawBytes, pathBase64 } from '../paths.js';
import { type OutputTarget, type PlannedFile, planOutputs } from '../plan/outputs.js';
import { SkipFile } from '../transforms/skip.js';
import type { DroppedOutput, FileResult } from '../types.js';
import type { Gate } from './gate.js';
import type { Incremental } from './incremental.js';
import type { Journal } from './journal.js';
import { tooSmall } from './keep.js';
import { isIdentityCopy } from './strategy.js';

/**
 * The per-file core: what every executor shares. A file is admitted (or
 * settled at once: a link not followed, a special file, a skip, a dry run),
 * goes through the steps of steps.ts, and ends as exactly one FileResult built
 * here.
 */

/** What every file shares within one run. */
export interface JobContext {
  readonly settings: Settings;
  readonly site: Site;
  readonly port: IoPort;
  readonly dirs: DirMaker;
  readonly temps: TempRegistry;
  readonly signal: AbortSignal;
  /** In-place runs only: what is done, so an interrupted run can be resumed. */
  readonly journal: Journal | undefined;
  /** Incremental runs only: learns what each file's transforms read. */
  readonly incremental?: Incremental | undefined;
  /** Large files streamed at once, when fewer than the files in flight (strategy.ts `streams`). */
  readonly streams?: Gate | undefined;
  /** Bytes one read step of a batch takes at most, when less than BATCH_BYTES (strategy.ts `batchBytes`). */
  readonly batchBytes?: number | undefined;
}

/** A file's result but for its path and time. */
export type Fields = Omit<FileResult, 'input' | 'ms'>;

export function result(entry: Entry, fields: Fields, ms: number): FileResult {
  const done: FileResult = { input: entry.path, ms: Math.round(ms * 1000) / 1000, ...fields };
  // A name that is not UTF-8 is carried exactly too, as its bytes (paths.ts).
  if (!hasRawBytes(entry.path) && !fields.outputs.some(hasRawBytes)) return done;
  return { ...done, inputBase64: pathBase64(entry.path), outputsBase64: fields.outputs.map(pathBase64) };
}

/** Its outputs but those `dropped` (run/keep.ts), which are listed apart. */
export function written(
  job: PlannedFile,
  bytesIn: number,
  bytesOut: number,
  details?: Readonly<Record<string, number>>,
  dropped: readonly DroppedOutput[] = [],
): Fields {
  const outputs = job.targets.map((t) => t.relative);
  return {
    outputs: dropped.length === 0 ? outputs : outputs.filter((o) => !dropped.some((d) => d.output === o)),
    status: 'written',
    bytesIn,
    bytesOut,
    ...(details === undefined ? {} : { details }),
    ...(dropped.length === 0 ? {} : { dropped }),
  };
}

export function skipped(reason: string, outputs: string[] = []): Fields {
  return { outputs, status: 'skipped', bytesIn: 0, bytesOut: 0, reason };
}

/**
 * What an error thrown while processing a file makes of it: skipped (a
 * transform's SkipFile, with no outputs) or failed (naming the outputs it did
 * not write). Errors that carry no side are the input's.
 */
/** Read and transformed, nothing written (`discard`): `bytesOut` is what would have been written. */
export function discarded(
  bytesIn: number,
  bytesOut: number,
  details?: Readonly<Record<string, number>>,
): Fields {
  return {
    outputs: [],
    status: 'discarded',
    bytesIn,
    bytesOut,
    ...(details === undefined ? {} : { details }),
  };
}

export function failed(job: PlannedFile, error: unknown, ctx: JobContext): Fields {
  if (error instanceof SkipFile) return skipped(error.message);
  const failure = ctx.signal.aborted
    ? abortedError(error)
    : fileError(error, { input: job.entry.path, output: job.entry.path, side: 'read' });
  return {
    outputs: job.targets.map((t) => t.relative),
    status: 'failed',
    bytesIn: 0,
    bytesOut: 0,
    error: { code: failure.code, message: failure.message },
  };
}

/**
 * A match as a job, or its result when it needs nothing more: a symlink that is
 * not followed (or is broken), a special file, a file the resumed run finished,
 * an output that exists (--skip-existing, --if-newer), a dry run. A plain file,
 * nearly every match, is admitted without IO and without a promise; links,
 * special files and the skip options look at the file system first.
 */
export function admit(entry: Entry, ctx: JobContext): PlannedFile | Fields | Promise<PlannedFile | Fields> {
  const { settings } = ctx;
  if (entry.kind !== 'file' || settings.skipExisting || settings.ifNewer || statsFirst(settings))
    return admitWithIo(entry, ctx);
  const planned = plan(entry, ctx);
  return settings.dryRun && isPlanned(planned) ? dryRun(planned) : planned;
}

function plan(entry: Entry, ctx: JobContext): PlannedFile | Fields {
  if (ctx.journal?.isDone(entry.path)) return skipped('finished by the interrupted run (--resume)');
  try {
    return { entry, targets: planOutputs(entry, ctx.settings) };
  } catch (error) {
    return failed({ entry, targets: [] }, error, ctx);
  }
}

function dryRun(job: PlannedFile): Fields {
  return { outputs: job.targets.map((t) => t.relative), status: 'planned', bytesIn: 0, bytesOut: 0 };
}

async function admitWithIo(entry: Entry, ctx: JobContext): Promise<PlannedFile | Fields> {
  // A failure once the outputs are planned names them, as every later failure does.
  let job: PlannedFile = { entry, targets: [] };
  try {
    if (entry.kind === 'symlink') {
      if (!ctx.settings.followSymlinks)
        return skipped('symbolic link (not followed without --follow-symlinks)');
      // The glob followed it and could only lstat it: its target is missing, or it loops.
      throw await brokenLink(entry, ctx.port);
    }
    if (entry.kind === 'other') {
      throw new GlobpipeError(
        'ENOTFILE',
        `not a regular file: it ${entry.special ?? 'is not a regular file'}`,
      );
    }
    const planned = plan(entry, ctx);
    if (!isPlanned(planned)) return planned;
    job = planned;
    if (statsFirst(ctx.settings)) {
      const small = tooSmall((await ctx.port.stat(entry.absolutePath)).size, ctx.settings);
      if (small !== undefined) return skipped(small);
    }
    const skipReason = await whySkip(entry, planned.targets, ctx);
    if (skipReason !== undefined)
      return skipped(
        skipReason,
        planned.targets.map((t) => t.relative),
      );
    return ctx.settings.dryRun ? dryRun(planned) : planned;
  } catch (error) {
    return failed(job, error, ctx);
  }
}

/**
 * `minSize` is decided from the size the read step sees (run/keep.ts), but a plain copy is
 * never read here: the kernel copies it. Such a run looks at each file's size first.
 */
function statsFirst(settings: Settings): boolean {
  return settings.minSize > 0 && isIdentityCopy(settings);
}

export function isPlanned(admitted: PlannedFile | Fields): admitted is PlannedFile {
  return 'entry' in admitted;
}

async function brokenLink(entry: Entry, port: IoPort): Promise<GlobpipeError> {
  const target = await port.readlink(entry.absolutePath).catch(() => '?');
  const code = await port.stat(entry.absolutePath).then(
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
  ctx: JobContext,
): Promise<string | undefined> {
  const { settings, port } = ctx;
  if (!settings.skipExisting && !settings.ifNewer) return undefined;
  const inputTime = settings.ifNewer ? (await port.stat(entry.absolutePath)).mtimeMs : 0;
  const exist: string[] = [];
  let stale = false;
  for (const target of targets) {
    const existing = await port.stat(target.absolute).catch(() => undefined);
    if (existing !== undefined) exist.push(target.relative);
    if (existing === undefined || existing.mtimeMs <= inputTime) stale = true;
  }
  if (settings.skipExisting) {
    if (exist.length === targets.length) return 'output exists (--skip-existing)';
    // A fan-out writes all its outputs or none: with some there, writing would rewrite those.
    if (exist.length > 0)
      return `some outputs exist (${exist.join(', ')}) and --skip-existing never rewrites one: remove them to write the others`;
    return undefined;
  }
  return stale ? undefined : 'output is newer than input (--if-newer)';
}
