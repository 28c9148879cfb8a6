import { describeCause } from '../errors.js';
import { namesFor } from '../options/names.js';
import type { Settings } from '../options/settings.js';
import type { OutputTarget, PlannedFile } from '../plan/outputs.js';
import { isCompressor } from '../transforms/web-types.js';
import type { DroppedOutput } from '../types.js';
import type { Fields, JobContext } from './job.js';

/**
 * What a compressing run keeps of a file: nothing below `minSize`, and of its outputs only
 * those that pay (`minRatio`). Whole-buffer and streamed files ask the same questions here;
 * the answers are the same whichever executor ran them.
 */

/** `smaller than 1024 bytes (--min-size)`: the same text for every such file, so the summary groups them. */
export function tooSmall(size: number, settings: Settings): string | undefined {
  if (size >= settings.minSize) return undefined;
  return `smaller than ${settings.minSize} bytes (${namesFor(settings.naming).name('minSize')})`;
}

function ratioReason(settings: Settings): string {
  return `output/input above ${namesFor(settings.naming).name('minRatio')} ${settings.minRatio}`;
}

/** The target's output, when compressing made it too little smaller to keep. */
export function dropByRatio(
  target: OutputTarget,
  bytesIn: number,
  bytesOut: number,
  settings: Settings,
): DroppedOutput | undefined {
  const { minRatio } = settings;
  if (minRatio === undefined || !target.chain.some(isCompressor)) return undefined;
  // An empty input makes any output infinitely larger: 0/0 as well (no output pays for nothing).
  const ratio = bytesIn === 0 ? Number.POSITIVE_INFINITY : bytesOut / bytesIn;
  if (ratio <= minRatio) return undefined;
  return { output: target.relative, reason: ratioReason(settings), ratio: Math.round(ratio * 1000) / 1000 };
}

/** A file none of whose outputs paid: skipped, each output listed with why. */
export function allDropped(dropped: readonly DroppedOutput[], settings: Settings): Fields {
  return {
    outputs: [],
    status: 'skipped',
    bytesIn: 0,
    bytesOut: 0,
    reason: `compressing saves too little: ${ratioReason(settings)}`,
    dropped,
  };
}

/**
 * A file at a dropped output's path is an earlier run's: it would now be served with old
 * content, so it goes (it lies in `out`, where this run was going to replace it anyway).
 * Only after the file's kept outputs are in place: a failed file changes nothing.
 */
export async function removeStale(
  job: PlannedFile,
  dropped: readonly DroppedOutput[],
  ctx: JobContext,
): Promise<void> {
  for (const { output } of dropped) {
    const target = job.targets.find((t) => t.relative === output);
    if (target === undefined) continue;
    await ctx.port.unlink(target.absolute, ctx.settings.out).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw Object.assign(error, { side: 'write' });
    });
  }
}

/**
 * `deleteOriginal`: the input goes once every output is renamed into place (flushed first
 * with `fsync`: the port's rename did that). Kept, with why, when an output was dropped:
 * the input is then the only copy of what that output would have held.
 */
export async function deleteOriginal(job: PlannedFile, fields: Fields, ctx: JobContext): Promise<Fields> {
  if (!ctx.settings.deleteOriginal || fields.status !== 'written') return fields;
  if (fields.dropped !== undefined && fields.dropped.length > 0) {
    const which = fields.dropped.map((d) => d.output).join(', ');
    return {
      ...fields,
      original: { deleted: false, reason: `an output was dropped (${which}): the input is its only copy` },
    };
  }
  try {
    await ctx.port.unlink(job.entry.absolutePath, ctx.settings.cwd);
    return { ...fields, original: { deleted: true } };
  } catch (error) {
    // `EACCES: permission denied`, without the unlink's path: the port's goes through /proc/self/fd.
    const reason = `it could not be removed (${describeCause(error)})`;
    return { ...fields, original: { deleted: false, reason } };
  }
}

/** After a file's outputs are in place: stale files of its dropped outputs removed, then its input if asked. */
export function needsFinish(dropped: readonly DroppedOutput[], settings: Settings): boolean {
  return dropped.length > 0 || settings.deleteOriginal;
}

export async function finish(
  job: PlannedFile,
  fields: Fields,
  dropped: readonly DroppedOutput[],
  ctx: JobContext,
): Promise<Fields> {
  await removeStale(job, dropped, ctx);
  return deleteOriginal(job, fields, ctx);
}
