import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type BatchOp, type BatchResult, DEFERRED, FAILED, NOT_READ } from './batch-protocol.js';
import {
  copy,
  failure,
  type OpError,
  type OpResult,
  openRegularSync,
  readUpTo,
  writeAll,
} from './sync-ops.js';

/** Per-file sizes, times and errors of one batch, as the files go. */
class Tally {
  readonly sizes: Float64Array;
  readonly micros: Float64Array;
  readonly errors: Record<number, OpError> = {};

  constructor(count: number) {
    this.sizes = new Float64Array(count);
    this.micros = new Float64Array(count);
  }

  /** File i's outcome, and the time it took since `started` (performance.now()). */
  record(i: number, result: OpResult, started: number): void {
    this.micros[i] = (this.micros[i] as number) + (performance.now() - started) * 1000;
    if (result.ok) this.sizes[i] = result.size;
    else {
      this.sizes[i] = FAILED;
      this.errors[i] = result.error;
    }
  }

  /** Every file failed with one error. */
  failAll(error: OpError): void {
    this.sizes.fill(FAILED);
    for (let i = 0; i < this.sizes.length; i += 1) this.errors[i] = error;
  }
}

/** Paths that do not split into what the batch says it holds: one held a NUL byte. */
function splitNames(names: string, expected: number, tally: Tally): string[] | undefined {
  const split = names.split('\0');
  if (split.length === expected) return split;
  tally.failAll({
    code: 'EINVAL',
    message: 'a path in the batch holds a NUL byte',
    path: undefined,
    dest: undefined,
    side: 'write',
  });
  return undefined;
}

function copyMany(op: Extract<BatchOp, { op: 'copyMany' }>): BatchResult {
  const tally = new Tally(op.count);
  const names = splitNames(op.names, 3 * op.count, tally);
  for (let i = 0; names !== undefined && i < op.count; i += 1) {
    const started = performance.now();
    const result = copy(
      names[3 * i] as string,
      names[3 * i + 1] as string,
      names[3 * i + 2] as string,
      op.fsync,
    );
    tally.record(i, result, started);
  }
  return tally;
}

/** Where readMany gathers a batch's bytes; grows as needed, and is reused batch after batch. */
let arena = Buffer.allocUnsafeSlow(256 * 1024);

/** One file at a time (one descriptor: a batch never holds many when descriptors run short), into the arena. */
function readMany(op: Extract<BatchOp, { op: 'readMany' }>): BatchResult {
  const tally = new Tally(op.count);
  const paths = splitNames(op.paths, op.count, tally);
  const mtimes = new Float64Array(op.count);
  const offsets = new Float64Array(op.count);
  let total = 0;
  for (let i = 0; paths !== undefined && i < op.count; i += 1) {
    const started = performance.now();
    const result = readInto(paths[i] as string, total, op);
    tally.record(i, result, started);
    if (!result.ok || result.size < 0) continue;
    mtimes[i] = result.mtimeMs;
    offsets[i] = total;
    total += result.size;
  }
  // A copy of exactly the bytes read, in its own ArrayBuffer: it is transferred to the main thread.
  const data = new ArrayBuffer(total);
  arena.copy(new Uint8Array(data), 0, 0, total);
  return { sizes: tally.sizes, micros: tally.micros, errors: tally.errors, mtimes, offsets, data };
}

/** Reads one file into the arena at `at`, unless it is to be streamed or waits for another round. */
function readInto(path: string, at: number, op: { limit: number; cap: number }): OpResult {
  let fd: number | undefined;
  try {
    const opened = openRegularSync(path);
    fd = opened.fd;
    const { stats } = opened;
    const meta = { mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777 };
    if (stats.size >= op.limit) return { ok: true, size: NOT_READ, ...meta };
    if (at > 0 && at + stats.size > op.cap) return { ok: true, size: DEFERRED, ...meta };
    if (at + stats.size > arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(arena.length * 2, at + stats.size));
      arena.copy(grown, 0, 0, at);
      arena = grown;
    }
    // Up to the size fstat told, as readFileSync does: a file that grew since is read as it was.
    return { ok: true, size: readUpTo(fd, arena, at, stats.size), ...meta };
  } catch (error) {
    return failure(error, 'read');
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function writeMany(op: Extract<BatchOp, { op: 'writeMany' }>): BatchResult {
  const count = op.counts.length;
  const tally = new Tally(count);
  const names = splitNames(op.names, 2 * op.counts.reduce((sum, n) => sum + n, 0), tally);
  let k = 0;
  for (let i = 0; names !== undefined && i < count; i += 1) {
    const started = performance.now();
    const files = [];
    for (let n = op.counts[i] as number; n > 0; n -= 1, k += 1) {
      const start = k === 0 ? 0 : (op.ends[k - 1] as number);
      files.push({
        temp: names[2 * k] as string,
        dest: names[2 * k + 1] as string,
        data: new Uint8Array(op.data, start, (op.ends[k] as number) - start),
      });
    }
    tally.record(i, writeAll({ op: 'write', files, mode: null, fsync: op.fsync, commit: true }), started);
  }
  return tally;
}

/** Runs a batch op (batch-protocol.ts) in a worker, file after file, with synchronous calls. */
export function runBatch(op: BatchOp): BatchResult {
  switch (op.op) {
    case 'copyMany':
      return copyMany(op);
    case 'readMany':
      return readMany(op);
    case 'writeMany':
      return writeMany(op);
  }
}
