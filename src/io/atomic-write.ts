import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Io } from './io.js';
import { type TempRegistry, tempPathFor } from './temp-files.js';

export interface WriteOptions {
  readonly io: Io;
  readonly temps: TempRegistry;
  readonly fsync: boolean;
  readonly mode?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A complete result in a temp file beside its destination, not yet visible there. */
export interface PreparedOutput {
  readonly temp: string;
  readonly dest: string;
  readonly bytes: number;
}

/**
 * Runs `write` against a fresh temp file beside `dest` (same directory, so the
 * later rename never crosses file systems). On any failure the temp file is
 * removed and the error rethrown; `dest` is never touched here.
 */
async function prepare(
  dest: string,
  options: WriteOptions,
  write: (temp: string) => Promise<number>,
): Promise<PreparedOutput> {
  const { io, temps } = options;
  const temp = tempPathFor(dest);
  temps.add(temp);
  try {
    const bytes = await write(temp);
    // Through writeFile's `mode` the umask would apply: an in-place result keeps its input's exact mode.
    if (options.mode !== undefined) await io.chmod(temp, options.mode);
    options.signal?.throwIfAborted();
    return { temp, dest, bytes };
  } catch (error) {
    await io.unlink(temp).catch(() => {});
    temps.delete(temp);
    throw error;
  }
}

/** Pipes `source` through `stages` into a temp file for `dest`. */
export function prepareStream(
  dest: string,
  source: Readable,
  stages: readonly NodeJS.ReadWriteStream[],
  options: WriteOptions,
  onSink?: (sink: Writable) => void,
): Promise<PreparedOutput> {
  return prepare(dest, options, async (temp) => {
    const sink: Writable = await options.io.openWriteStream(temp, {
      mode: options.mode,
      flush: options.fsync,
    });
    onSink?.(sink);
    try {
      await pipeline([source, ...stages, sink], { signal: options.signal });
    } finally {
      // Its descriptor closes after the pipeline settles: wait for it, so no descriptor outlives the file.
      if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    }
    return (sink as Writable & { bytesWritten: number }).bytesWritten;
  });
}

/**
 * Renames each prepared output into place: the moment each becomes visible, it
 * is complete. The old content of a destination stays intact until then.
 */
export async function commit(outputs: readonly PreparedOutput[], options: WriteOptions): Promise<void> {
  const { io, temps } = options;
  for (const output of outputs) {
    await io.rename(output.temp, output.dest);
    temps.delete(output.temp);
  }
  if (options.fsync) {
    for (const dir of new Set(outputs.map((output) => dirname(output.dest)))) await io.fsync(dir);
  }
}

/** Removes prepared outputs that will not be committed. */
export async function discard(outputs: readonly PreparedOutput[], options: WriteOptions): Promise<void> {
  for (const output of outputs) {
    await options.io.unlink(output.temp).catch(() => {});
    options.temps.delete(output.temp);
  }
}
