import { workerFailure } from '../errors.js';
import type { FileMeta, Outcome, ReadOutcome, WriteFlags, WriteItem } from './port.js';
import {
  DEFERRED,
  FAILED,
  joinNames,
  LARGE,
  NO_MODE,
  type Reply,
  type Request,
  SMALL,
} from './worker/protocol.js';

/** The IO workers' replies made into the port's outcomes, and the write request a batch sends. */

export function died(error: Error, count: number): Reply {
  const errors = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [i, workerFailure(error, 'write')]),
  );
  return { sizes: new Float64Array(count).fill(FAILED), micros: new Float64Array(count), errors };
}

export function failure(reply: Reply, i: number): Outcome<never> {
  const error = reply.errors[i] ?? {
    code: undefined,
    message: 'the IO worker gave no reason',
    side: 'write',
  };
  return { ok: false, ms: (reply.micros[i] as number) / 1000, error };
}

// Outcomes are built field by field (no spread): a batch makes one per file.
export function outcome<T extends object>(reply: Reply, i: number, value: T): Outcome<T> {
  if (reply.sizes[i] === FAILED) return failure(reply, i);
  return Object.assign(value, { ok: true as const, ms: (reply.micros[i] as number) / 1000 });
}

export function meta(reply: Reply, i: number, size: number): FileMeta {
  return { size, mtimeMs: reply.mtimes?.[i] ?? 0, mode: reply.modes?.[i] ?? 0 };
}

export function metaOutcome(reply: Reply, i: number): Outcome<FileMeta> {
  if (reply.sizes[i] === FAILED) return failure(reply, i);
  const ms = (reply.micros[i] as number) / 1000;
  return {
    ok: true,
    ms,
    size: reply.sizes[i] as number,
    mtimeMs: reply.mtimes?.[i] ?? 0,
    mode: reply.modes?.[i] ?? 0,
  };
}

export function readOutcome(reply: Reply, i: number): ReadOutcome {
  const size = reply.sizes[i] as number;
  if (size === FAILED) return failure(reply, i);
  if (size === DEFERRED) return outcome(reply, i, { state: 'deferred' as const });
  const file = meta(reply, i, size === LARGE || size === SMALL ? (reply.lengths?.[i] ?? 0) : size);
  if (size === LARGE) return outcome(reply, i, Object.assign(file, { state: 'large' as const }));
  if (size === SMALL) return outcome(reply, i, Object.assign(file, { state: 'small' as const }));
  const data = Buffer.from(reply.data as ArrayBuffer, reply.offsets?.[i] ?? 0, size);
  return outcome(reply, i, Object.assign(file, { state: 'read' as const, data }));
}

/** Every output of every file, back to back in one buffer that moves to the worker (not copied again). */
export function writeRequest(items: readonly WriteItem[], { fsync, commit, root }: WriteFlags) {
  let total = 0;
  let count = 0;
  for (const item of items) {
    count += item.outputs.length;
    for (const output of item.outputs) total += output.data.length;
  }
  // Copied here, never transferred: a transform may return a buffer it keeps (a constant, a
  // cache), and transferring would detach it under its feet.
  const data = new Uint8Array(total);
  const names: string[] = [];
  const counts = new Uint32Array(items.length);
  const modes = new Float64Array(items.length);
  const ends = new Float64Array(count);
  let offset = 0;
  let k = 0;
  for (const [i, item] of items.entries()) {
    counts[i] = item.outputs.length;
    modes[i] = item.mode ?? NO_MODE;
    for (const output of item.outputs) {
      data.set(output.data, offset);
      offset += output.data.length;
      ends[k++] = offset;
      names.push(output.temp, output.dest);
    }
  }
  const request: Request = {
    op: 'write',
    root,
    names: joinNames(names),
    counts,
    modes,
    ends,
    data: data.buffer,
    fsync,
    commit,
  };
  return { request, transfer: [data.buffer] };
}
