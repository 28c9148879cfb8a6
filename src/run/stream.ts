import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { onAbort } from '../abort.js';
import { fileError, transformError } from '../errors.js';
import { tempPathFor } from '../io/atomic.js';
import type { FileMeta } from '../io/port.js';
import type { OutputTarget, PlannedFile } from '../plan/outputs.js';
import { tee, tooLarge, toStream, WHOLE_FILE_LIMIT } from '../transforms/execute.js';
import type { ResolvedTransform } from '../transforms/resolved.js';
import { notesOf } from '../transforms/skip.js';
import type { DroppedOutput, FileInfo } from '../types.js';
import { discarded, type Fields, failed, type JobContext, skipped, written } from './job.js';
import { allDropped, dropByRatio, finish, needsFinish, removeStale, tooSmall } from './keep.js';
import { commitOutputs, fileInfo } from './steps.js';

/**
 * The stream executor, for files too large to read whole (run/strategy.ts):
 * one read stream, teed to every chain, each piped into its own temp file;
 * once all are complete they are renamed into place together (commitOutputs).
 */
export function streamFile(job: PlannedFile, meta: FileMeta, ctx: JobContext): Promise<Fields> {
  if (ctx.streams === undefined) return streamNow(job, meta, ctx);
  // Its turn may come after an interrupt: then it fails as interrupted, without opening anything.
  return ctx.streams.run(() =>
    ctx.signal.aborted ? Promise.resolve(failed(job, ctx.signal.reason, ctx)) : streamNow(job, meta, ctx),
  );
}

async function streamNow(job: PlannedFile, meta: FileMeta, ctx: JobContext): Promise<Fields> {
  const notes = {};
  const prepared: Prepared[] = [];
  const reads: Readable[] = [];
  // A whole-file transform would hold the whole file: past the limit it fails before the read.
  const whole = job.targets.flatMap((target) => target.chain).find((t) => t.stream === undefined);
  if (whole !== undefined && meta.size > WHOLE_FILE_LIMIT)
    return failed(job, tooLarge(whole, meta.size), ctx);
  const small = tooSmall(meta.size, ctx.settings);
  if (small !== undefined) return skipped(small);
  const ticker = reportProgress(job, meta.size, reads, ctx);
  try {
    const file = fileInfo(job.entry, meta, notes);
    const bytesIn = await streamBranches(job, file, job.targets, meta, ctx, prepared, reads);
    await ctx.incremental?.readLarge(job.entry, meta);
    if (ctx.settings.discard) {
      const bytesOut = prepared.reduce((sum, output) => sum + output.bytes, 0);
      return discarded(bytesIn, bytesOut, notesOf(notes));
    }
    // Each temp is complete: those that did not pay are compared, then dropped.
    const dropped = await dropTemps(job, bytesIn, prepared, ctx);
    if (prepared.length === 0) {
      await removeStale(job, dropped, ctx);
      return allDropped(dropped, ctx.settings);
    }
    await commitOutputs(
      job,
      prepared.map(({ temp, dest }) => [temp, dest] as const),
      ctx,
    );
    const bytesOut = prepared.reduce((sum, output) => sum + output.bytes, 0);
    const fields = written(job, bytesIn, bytesOut, notesOf(notes), dropped);
    return needsFinish(dropped, ctx.settings) ? await finish(job, fields, dropped, ctx) : fields;
  } catch (error) {
    for (const { temp } of prepared) {
      if (temp === '') continue; // discarded: there is no temp
      await ctx.port.unlink(temp, ctx.settings.out).catch(() => {});
      ctx.temps.delete(temp);
    }
    return failed(job, error, ctx);
  } finally {
    clearInterval(ticker);
  }
}

/** Removes from `prepared` (and from disk) the temps whose output did not pay; returns them as dropped. */
async function dropTemps(
  job: PlannedFile,
  bytesIn: number,
  prepared: Prepared[],
  ctx: JobContext,
): Promise<DroppedOutput[]> {
  const dropped: DroppedOutput[] = [];
  for (let i = prepared.length - 1; i >= 0; i -= 1) {
    const output = prepared[i] as Prepared;
    const target = job.targets.find((t) => t.absolute === output.dest);
    const drop = target && dropByRatio(target, bytesIn, output.bytes, ctx.settings);
    if (drop === undefined) continue;
    prepared.splice(i, 1);
    await ctx.port.unlink(output.temp, ctx.settings.out).catch(() => {});
    ctx.temps.delete(output.temp);
    dropped.unshift(drop);
  }
  return dropped;
}

/** How often a streaming file reports how far it is: a few times a second, whatever its chunks. */
const PROGRESS_INTERVAL_MS = 250;

/** Branches that run child processes go one after another, each reading the file again. */
function oneByOne(targets: readonly OutputTarget[]): boolean {
  return targets.length > 1 && targets.some((target) => target.chain.some((t) => t.spawnsChild === true));
}

/**
 * Sends the file's `progress` events, on a timer: nothing is done per chunk. Its bytes are
 * those its read streams have given (over every pass, when each branch reads it again, scaled
 * to one pass), sent only when they moved.
 */
function reportProgress(job: PlannedFile, size: number, reads: Readable[], ctx: JobContext): NodeJS.Timeout {
  const passes = oneByOne(job.targets) ? job.targets.length : 1;
  let sent = 0;
  const ticker = setInterval(() => {
    let read = 0;
    for (const source of reads) read += (source as Readable & { bytesRead?: number }).bytesRead ?? 0;
    const bytes = Math.min(size, Math.floor(read / passes));
    if (bytes === sent) return;
    sent = bytes;
    ctx.settings.onEvent({ type: 'progress', path: job.entry.path, bytes, size });
  }, PROGRESS_INTERVAL_MS);
  ticker.unref();
  return ticker;
}

function closed(stream: Readable | Writable): Promise<void> {
  if (stream.closed || !stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

type Origin = 'read' | 'write' | ResolvedTransform;

/** A complete result in a temp file beside its destination, not yet visible there. */
interface Prepared {
  /** '' when discarded: nothing was written. */
  readonly temp: string;
  readonly dest: string;
  readonly bytes: number;
}

async function streamBranches(
  job: PlannedFile,
  file: FileInfo,
  targets: readonly OutputTarget[],
  meta: FileMeta,
  ctx: JobContext,
  prepared: Prepared[],
  reads: Readable[],
): Promise<number> {
  if (oneByOne(targets)) {
    // So that a file never has more than one child: children stay <= --concurrency.
    let bytesIn = 0;
    for (const target of targets)
      bytesIn = await streamBranches(job, file, [target], meta, ctx, prepared, reads);
    return bytesIn;
  }
  // The first stream to fail names the culprit; the pipeline then destroys the rest with the same error.
  const origin = new WeakMap<object, Origin>();
  const tag = <S extends Readable | Writable>(stream: S, label: Origin): S => {
    stream.on('error', (error: unknown) => {
      if (typeof error === 'object' && error !== null && !origin.has(error)) origin.set(error, label);
    });
    return stream;
  };
  // Read and dropped, untransformed (--discard of a copy): nothing holds a chunk once counted,
  // so the read stream may reuse its buffers (io/read-stream.ts).
  const recycle =
    ctx.settings.discard &&
    targets.length === 1 &&
    (targets[0] as OutputTarget).chain.every((t) => t.identity);
  const chains = targets.map((target) =>
    (recycle ? [] : target.chain).map((t) => {
      try {
        return tag(toStream(t, file), t);
      } catch (error) {
        throw transformError(error, t.name);
      }
    }),
  );
  const input = job.entry.path;
  let source: Readable;
  try {
    source = tag(await ctx.port.openReadStream(job.entry.absolutePath, { recycle }), 'read');
    reads.push(source);
  } catch (error) {
    for (const stage of chains.flat()) stage.destroy();
    throw fileError(error, { input, output: input, side: 'read' });
  }
  const branches: Readable[] = targets.length === 1 ? [source] : tee(source, targets.length);
  const outcomes = await Promise.allSettled(
    targets.map((target, i) =>
      toTemp(target.absolute, branches[i] as Readable, chains[i] ?? [], meta, ctx, (sink) =>
        tag(sink, 'write'),
      ),
    ),
  );
  // A failed pipeline destroys its streams, but their descriptors close a moment later: wait, so
  // that when the file's result is out, it holds nothing open.
  // Only our own file stream: a user's Duplex may never emit 'close' (emitClose: false).
  await closed(source);
  for (const outcome of outcomes) if (outcome.status === 'fulfilled') prepared.push(outcome.value);
  if (outcomes.every((outcome) => outcome.status === 'fulfilled'))
    await checkUnchanged(job, meta, source, ctx);
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue;
    const error: unknown = outcome.reason;
    const culprit = typeof error === 'object' && error !== null ? origin.get(error) : undefined;
    const output = (targets[i] as OutputTarget).absolute;
    if (culprit === 'read') throw fileError(error, { input, output, side: 'read' });
    if (culprit !== undefined && culprit !== 'write') throw transformError(error, culprit.name);
    throw fileError(error, { input, output, side: 'write' });
  }
  return (source as Readable & { bytesRead?: number }).bytesRead ?? file.size;
}

/**
 * The input must be what it was when the read step looked at it (size, mtime), and have
 * given exactly that many bytes: else its outputs would mix two versions (a log appended
 * to, a file rewritten in place), so they are not written.
 */
async function checkUnchanged(
  job: PlannedFile,
  meta: FileMeta,
  source: Readable,
  ctx: JobContext,
): Promise<void> {
  const read = (source as Readable & { bytesRead?: number }).bytesRead ?? meta.size;
  const now = await ctx.port.stat(job.entry.absolutePath).catch(() => undefined);
  if (now !== undefined && now.size === meta.size && now.mtimeMs === meta.mtimeMs && read === meta.size)
    return;
  const sizes =
    now === undefined
      ? 'removed meanwhile'
      : now.size === meta.size
        ? `${read} of ${meta.size} bytes read`
        : `size ${meta.size} -> ${now.size} bytes`;
  const mtime = now !== undefined && now.mtimeMs !== meta.mtimeMs ? ', modified meanwhile' : '';
  const failure = {
    code: 'ECHANGED',
    message: `changed while it was read (${sizes}${mtime})`,
    side: 'read' as const,
  };
  throw fileError(failure, { input: job.entry.path, output: job.entry.path, side: 'read' });
}

/**
 * `discard`: pipes `source` through `stages` into a sink that only counts, and names no temp:
 * the file is read and transformed as it would be, and nothing is written.
 */
async function toNowhere(
  dest: string,
  source: Readable,
  stages: readonly NodeJS.ReadWriteStream[],
  ctx: JobContext,
): Promise<Prepared> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  const abort = new AbortController();
  const stop = onAbort(ctx.signal, () => abort.abort(ctx.signal.reason));
  try {
    await pipeline([source, ...stages, sink], { signal: abort.signal });
  } finally {
    stop();
  }
  ctx.signal.throwIfAborted();
  return { temp: '', dest, bytes };
}

/**
 * Pipes `source` through `stages` into a fresh temp file beside `dest`. On any
 * failure the temp is removed and the error rethrown; `dest` is never touched.
 */
async function toTemp(
  dest: string,
  source: Readable,
  stages: readonly NodeJS.ReadWriteStream[],
  meta: FileMeta,
  ctx: JobContext,
  onSink: (sink: Writable) => void,
): Promise<Prepared> {
  const { port, temps, settings } = ctx;
  if (settings.discard) return toNowhere(dest, source, stages, ctx);
  const temp = tempPathFor(dest);
  temps.add(temp);
  // Every output keeps its input's permission bits (the port creates it private meanwhile).
  const { mode } = meta;
  try {
    const sink = await port.openWriteStream(temp, { mode, flush: settings.fsync, root: settings.out });
    onSink(sink);
    // The run's signal through a signal of this output's own: one listener on the run's
    // signal for all the files in flight (abort.ts), not one per pipeline.
    const abort = new AbortController();
    const stop = onAbort(ctx.signal, () => abort.abort(ctx.signal.reason));
    try {
      await pipeline([source, ...stages, sink], { signal: abort.signal });
    } finally {
      stop();
      // Its descriptor closes after the pipeline settles: wait for it, so no descriptor outlives the file.
      if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    }
    ctx.signal.throwIfAborted();
    return { temp, dest, bytes: (sink as Writable & { bytesWritten: number }).bytesWritten };
  } catch (error) {
    await port.unlink(temp, settings.out).catch(() => {});
    temps.delete(temp);
    throw error;
  }
}
