import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type BatchOp, type BatchResult, DEFERRED, FAILED, NOT_READ } from './batch-protocol.js';
import { describeType } from './file-type.js';
import { copy, failure, type OpError, READ_FLAGS, retrying, writeAll } from './sync-ops.js';

function copyMany(op: Extract<BatchOp, { op: 'copyMany' }>): BatchResult {
  const names = op.names.split('\0');
  const count = names.length / 3;
  const sizes = new Float64Array(count);
  const micros = new Float64Array(count);
  const errors: Record<number, OpError> = {};
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const result = copy(
      names[3 * i] as string,
      names[3 * i + 1] as string,
      names[3 * i + 2] as string,
      op.fsync,
    );
    micros[i] = (performance.now() - started) * 1000;
    if (result.ok) sizes[i] = result.size;
    else {
      sizes[i] = FAILED;
      errors[i] = result.error;
    }
  }
  return { sizes, micros, errors };
}

/** Where readMany gathers a batch's bytes; grows as needed, and is reused batch after batch. */
let arena = Buffer.allocUnsafeSlow(256 * 1024);

/** One file at a time (one descriptor: a batch never holds many when descriptors run short), into the arena. */
function readMany(op: Extract<BatchOp, { op: 'readMany' }>): BatchResult {
  const paths = op.paths.split('\0');
  const count = paths.length;
  const sizes = new Float64Array(count);
  const micros = new Float64Array(count);
  const mtimes = new Float64Array(count);
  const offsets = new Float64Array(count);
  const errors: Record<number, OpError> = {};
  let total = 0;
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    let fd: number | undefined;
    try {
      fd = retrying(() => fs.openSync(paths[i] as string, READ_FLAGS));
      const stats = fs.fstatSync(fd);
      if (!stats.isFile()) {
        throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE', what: describeType(stats) });
      }
      if (stats.size >= op.limit) sizes[i] = NOT_READ;
      else if (total > 0 && total + stats.size > op.cap) sizes[i] = DEFERRED;
      else {
        if (total + stats.size > arena.length) {
          const grown = Buffer.allocUnsafeSlow(Math.max(arena.length * 2, total + stats.size));
          arena.copy(grown, 0, 0, total);
          arena = grown;
        }
        // Up to the size fstat told, as readFileSync does: a file that grew since is read as it was.
        let length = 0;
        while (length < stats.size) {
          const n = fs.readSync(fd, arena, total + length, stats.size - length, length);
          if (n === 0) break;
          length += n;
        }
        sizes[i] = length;
        mtimes[i] = stats.mtimeMs;
        offsets[i] = total;
        total += length;
      }
    } catch (error) {
      sizes[i] = FAILED;
      errors[i] = failure(error, 'read').error;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    micros[i] = (performance.now() - started) * 1000;
  }
  // A copy of exactly the bytes read, in its own ArrayBuffer: it is transferred to the main thread.
  const data = new ArrayBuffer(total);
  arena.copy(new Uint8Array(data), 0, 0, total);
  return { sizes, micros, mtimes, offsets, data, errors };
}

function writeMany(op: Extract<BatchOp, { op: 'writeMany' }>): BatchResult {
  const names = op.names.split('\0');
  const count = op.counts.length;
  const sizes = new Float64Array(count);
  const micros = new Float64Array(count);
  const errors: Record<number, OpError> = {};
  let k = 0;
  for (let i = 0; i < count; i += 1) {
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
    const result = writeAll({ op: 'write', files, mode: null, fsync: op.fsync, commit: true });
    micros[i] = (performance.now() - started) * 1000;
    if (result.ok) sizes[i] = result.size;
    else {
      sizes[i] = FAILED;
      errors[i] = result.error;
    }
  }
  return { sizes, micros, errors };
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
