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

/**
 * Runs `write` against a fresh temp file beside `dest`, then renames it into
 * place. The old `dest`, if any, stays intact until the rename; on any failure
 * the temp file is removed and the error rethrown.
 */
async function atomically(dest: string, options: WriteOptions, write: (temp: string) => Promise<void>) {
  const { io, temps } = options;
  const temp = tempPathFor(dest);
  temps.add(temp);
  try {
    await write(temp);
    // Through writeFile's `mode` the umask would apply: an in-place result keeps its input's exact mode.
    if (options.mode !== undefined) await io.chmod(temp, options.mode);
    options.signal?.throwIfAborted();
    await io.rename(temp, dest);
    temps.delete(temp);
  } catch (error) {
    await io.unlink(temp).catch(() => {});
    temps.delete(temp);
    throw error;
  }
  if (options.fsync) await io.fsync(dirname(dest));
}

export function writeFileAtomic(dest: string, data: Uint8Array, options: WriteOptions): Promise<void> {
  return atomically(dest, options, (temp) =>
    options.io.writeFile(temp, data, { mode: options.mode, flush: options.fsync }),
  );
}

/** copyfile keeps the source's mode by itself. */
export function copyFileAtomic(src: string, dest: string, options: WriteOptions): Promise<void> {
  return atomically(dest, options, async (temp) => {
    await options.io.copyFile(src, temp);
    if (options.fsync) await options.io.fsync(temp);
  });
}

/** Pipes `source` through `stages` into `dest`; returns the bytes written. */
export async function writeStreamAtomic(
  dest: string,
  source: Readable,
  stages: readonly NodeJS.ReadWriteStream[],
  options: WriteOptions,
): Promise<number> {
  let bytes = 0;
  await atomically(dest, options, async (temp) => {
    const sink: Writable = await options.io.openWriteStream(temp, {
      mode: options.mode,
      flush: options.fsync,
    });
    sink.on('finish', () => {
      bytes = (sink as Writable & { bytesWritten?: number }).bytesWritten ?? 0;
    });
    await pipeline([source, ...stages, sink], { signal: options.signal });
  });
  return bytes;
}
