import { constants } from 'node:buffer';
import { totalmem } from 'node:os';
import { Duplex, Transform as NodeTransform, PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { onAbort } from '../abort.js';
import { GlobpipeError, transformError } from '../errors.js';
import type { FileInfo, TransformResult } from '../types.js';
import type { ResolvedTransform } from './resolved.js';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'Object'})` : typeof value;
}

/** A transform's result as a Buffer; anything but Buffer, Uint8Array or string is the transform's bug. */
export function toBuffer(result: unknown, transform: ResolvedTransform): Buffer {
  if (Buffer.isBuffer(result)) return result;
  if (typeof result === 'string') return Buffer.from(result, 'utf8');
  if (result instanceof Uint8Array) return Buffer.from(result.buffer, result.byteOffset, result.byteLength);
  throw new GlobpipeError(
    'ETRANSFORM',
    `${transform.name}: returned ${describeValue(result)}, expected a Buffer, Uint8Array or string`,
  );
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Runs one transform on a whole buffer, whichever form it defines. */
export async function applyToBuffer(
  transform: ResolvedTransform,
  content: Buffer,
  file: FileInfo,
  signal?: AbortSignal,
): Promise<Buffer> {
  try {
    if (transform.buffer !== undefined) {
      return toBuffer(await transform.buffer(content, file), transform);
    }
    const duplex = makeStream(transform, file);
    // Abort destroys the stream (an --exec child is killed with it) until its output is read:
    // the pipeline alone would let go once the input is written.
    const stop =
      signal === undefined
        ? undefined
        : onAbort(signal, () => duplex.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' })));
    try {
      const [, result] = await Promise.all([pipeline(Readable.from([content]), duplex), collect(duplex)]);
      return result;
    } finally {
      stop?.();
    }
  } catch (error) {
    if ((error as Error | undefined)?.name === 'AbortError') throw error;
    throw transformError(error, transform.name);
  }
}

function makeStream(transform: ResolvedTransform, file: FileInfo): Duplex {
  const stream = (transform.stream as (file: FileInfo) => unknown)(file);
  if (!(stream instanceof Duplex)) {
    throw new GlobpipeError(
      'ETRANSFORM',
      `${transform.name}: stream() returned ${describeValue(stream)}, expected a Duplex stream`,
    );
  }
  return stream;
}

/**
 * The most a whole-file (buffer) transform is given: what one Buffer can hold, within a
 * quarter of the machine's memory. A larger file fails before it is read (stream.ts), and a
 * stream that grows past it (a decompressor's output) fails when it does.
 */
export const WHOLE_FILE_LIMIT = Math.min(2 ** 31 - 1, constants.MAX_LENGTH, Math.floor(totalmem() / 4));

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** `3221225472 bytes (3.0 GiB) is more than the whole-file transform `upper` may hold in memory (…)`. */
export function tooLarge(transform: ResolvedTransform, size: number | undefined): GlobpipeError {
  const what = size === undefined ? 'its input grew past what' : `${size} bytes (${gib(size)}) is more than`;
  return new GlobpipeError(
    'ETOOLARGE',
    `${what} the whole-file transform \`${transform.name}\` may hold in memory (${WHOLE_FILE_LIMIT} bytes): give it a stream(file) form to work at constant memory`,
  );
}

/** A buffer transform inside a stream chain: collects the whole input (up to the limit), then emits the result. */
function bufferingStream(transform: ResolvedTransform, file: FileInfo): Duplex {
  const chunks: Buffer[] = [];
  let total = 0;
  return new NodeTransform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > WHOLE_FILE_LIMIT) {
        callback(tooLarge(transform, undefined));
        return;
      }
      chunks.push(chunk);
      callback();
    },
    flush(callback) {
      applyToBuffer(transform, Buffer.concat(chunks), file).then(
        (result) => callback(null, result),
        (error: unknown) => callback(error as Error),
      );
    },
  });
}

/** The stream stage for a transform, whichever form it defines. */
export function toStream(transform: ResolvedTransform, file: FileInfo): Duplex {
  return transform.stream !== undefined ? makeStream(transform, file) : bufferingStream(transform, file);
}

/**
 * Splits one readable into `count` branches that share its backpressure. A
 * failure anywhere fails them all with the same error: a branch left waiting
 * would never settle (and its output would never be written or removed).
 */
export function tee(source: Readable, count: number): PassThrough[] {
  const branches = Array.from({ length: count }, () => new PassThrough({ highWaterMark: 256 * 1024 }));
  const failAll = (error: Error) => {
    if (!source.destroyed) source.destroy(error);
    for (const branch of branches) if (!branch.destroyed) branch.destroy(error);
  };
  source.on('error', failAll);
  // A source that closes without ending (destroyed without an error) must not strand its branches.
  source.on('close', () => {
    if (!source.readableEnded) failAll(new Error('input closed before its end'));
  });
  for (const branch of branches) {
    branch.on('error', failAll);
    source.pipe(branch);
  }
  return branches;
}

/**
 * Runs every stage over a buffer: each output gets the result of its chain,
 * shared prefixes are computed once, and each result is handed to `sink` as
 * soon as it is ready (index = the chain's position in the cartesian product).
 */
export async function runBufferStages(
  stages: readonly (readonly ResolvedTransform[])[],
  content: Buffer,
  file: FileInfo,
  sink: (index: number, data: Buffer) => Promise<void>,
  signal?: AbortSignal,
  stage = 0,
  index = 0,
): Promise<void> {
  const transforms = stages[stage];
  if (transforms === undefined) return sink(index, content);
  for (const [i, transform] of transforms.entries()) {
    signal?.throwIfAborted();
    const result = await applyToBuffer(transform, content, file, signal);
    await runBufferStages(stages, result, file, sink, signal, stage + 1, index * transforms.length + i);
  }
}

export type { TransformResult };
