import { performance } from 'node:perf_hooks';
import { type IoFailure, ioFailure } from '../../errors.js';
import { type KeptTrees, type Tree, withTree } from '../beneath.js';
import { copyFile } from './copy.js';
import {
  arenaBytes,
  type OutputData,
  readInto,
  renameAll,
  SidedError,
  unlinkBeneath,
  writeTemps,
} from './ops.js';
import { DEFERRED, FAILED, LARGE, NO_MODE, type Reply, type Request, SMALL, splitNames } from './protocol.js';

/** Per-file sizes, times and errors of one request, as the files go. */
class Tally {
  readonly sizes: Float64Array;
  readonly micros: Float64Array;
  readonly errors: Record<number, IoFailure> = {};

  constructor(count: number) {
    this.sizes = new Float64Array(count);
    this.micros = new Float64Array(count);
  }

  /** Runs file i's step, recording its size (or failure) and the time it took. */
  step(i: number, run: () => number): void {
    const started = performance.now();
    try {
      this.sizes[i] = run();
    } catch (error) {
      this.sizes[i] = FAILED;
      this.errors[i] =
        error instanceof SidedError ? ioFailure(error.cause, error.side) : ioFailure(error, 'write');
    }
    this.micros[i] = (this.micros[i] as number) + (performance.now() - started) * 1000;
  }

  /** Names that do not split into what the request says it holds: every file fails. */
  refuse(): Reply {
    return this.failAll({ code: 'EINVAL', message: 'a path in the request holds a NUL byte', side: 'write' });
  }

  failAll(error: IoFailure): Reply {
    this.sizes.fill(FAILED);
    for (let i = 0; i < this.sizes.length; i += 1) this.errors[i] = error;
    return this;
  }
}

function copy(request: Extract<Request, { op: 'copy' }>, tree: Tree, smallOnly: boolean): Reply {
  const tally = new Tally(request.count);
  const names = splitNames(request.names, 3 * request.count);
  if (names === undefined) return tally.refuse();
  const mtimes = new Float64Array(request.count);
  const modes = new Float64Array(request.count);
  for (let i = 0; i < request.count; i += 1) {
    tally.step(i, () => {
      const [src, temp, dest] = [names[3 * i], names[3 * i + 1], names[3 * i + 2]] as [
        string,
        string,
        string,
      ];
      const copied = copyFile(tree, src, temp, dest, request.commit, request.fsync, smallOnly);
      mtimes[i] = copied.mtimeMs;
      modes[i] = copied.mode;
      return copied.size;
    });
  }
  return { sizes: tally.sizes, micros: tally.micros, errors: tally.errors, mtimes, modes };
}

/** One file at a time (one descriptor: a request never holds many when descriptors run short). */
function read(request: Extract<Request, { op: 'read' }>): Reply {
  const tally = new Tally(request.count);
  const paths = splitNames(request.paths, request.count);
  if (paths === undefined) return tally.refuse();
  const lengths = new Float64Array(request.count);
  const mtimes = new Float64Array(request.count);
  const modes = new Float64Array(request.count);
  const offsets = new Float64Array(request.count);
  let total = 0;
  for (let i = 0; i < request.count; i += 1) {
    tally.step(i, () => {
      const file = readInto(paths[i] as string, total, request, request.direct);
      lengths[i] = file.size;
      mtimes[i] = file.mtimeMs;
      modes[i] = file.mode;
      if (file.read === 'large') return LARGE;
      if (file.read === 'deferred') return DEFERRED;
      if (file.read === 'small') return SMALL;
      offsets[i] = total;
      total += file.read;
      return file.read;
    });
  }
  // A copy of exactly the bytes read, in its own ArrayBuffer: it is transferred to the main thread.
  const data = new ArrayBuffer(total);
  new Uint8Array(data).set(arenaBytes(total));
  return {
    sizes: tally.sizes,
    micros: tally.micros,
    errors: tally.errors,
    lengths,
    mtimes,
    modes,
    offsets,
    data,
  };
}

/** Each file's temp, dest pairs (`counts[i]` of them for file i), or undefined when the names do not split. */
function pairsByFile(names: string, counts: Uint32Array): (readonly [string, string])[][] | undefined {
  const split = splitNames(names, 2 * counts.reduce((sum, n) => sum + n, 0));
  if (split === undefined) return undefined;
  let k = 0;
  return Array.from(counts, (count) =>
    Array.from({ length: count }, () => {
      k += 1;
      return [split[2 * k - 2] as string, split[2 * k - 1] as string] as const;
    }),
  );
}

function write(request: Extract<Request, { op: 'write' }>, tree: Tree): Reply {
  const tally = new Tally(request.counts.length);
  const files = pairsByFile(request.names, request.counts);
  if (files === undefined) return tally.refuse();
  let k = 0;
  for (const [i, pairs] of files.entries()) {
    const outputs: OutputData[] = pairs.map(([temp, dest]) => {
      const start = k === 0 ? 0 : (request.ends[k - 1] as number);
      const end = request.ends[k++] as number;
      return { temp, dest, data: new Uint8Array(request.data, start, end - start) };
    });
    const mode = request.modes[i] as number;
    tally.step(i, () =>
      writeTemps(tree, outputs, mode === NO_MODE ? null : mode, request.fsync, request.commit),
    );
  }
  return tally;
}

function rename(request: Extract<Request, { op: 'rename' }>, tree: Tree): Reply {
  const tally = new Tally(request.counts.length);
  const files = pairsByFile(request.names, request.counts);
  if (files === undefined) return tally.refuse();
  for (const [i, pairs] of files.entries()) {
    tally.step(i, () => {
      renameAll(tree, pairs, request.fsync);
      return 0;
    });
  }
  return tally;
}

/** unlink: each path on its own. */
function eachPath(request: Extract<Request, { op: 'unlink' }>, run: (path: string) => void): Reply {
  const tally = new Tally(request.count);
  const paths = splitNames(request.paths, request.count);
  if (paths === undefined) return tally.refuse();
  for (const [i, path] of paths.entries()) {
    tally.step(i, () => {
      run(path);
      return 0;
    });
  }
  return tally;
}

function beneathRoot(request: Exclude<Request, { op: 'read' }>, tree: Tree, inline: boolean): Reply {
  switch (request.op) {
    case 'copy':
      return copy(request, tree, inline);
    case 'write':
      return write(request, tree);
    case 'rename':
      return rename(request, tree);
    case 'unlink':
      return eachPath(request, (path) => unlinkBeneath(tree, path));
  }
}

function count(request: Request): number {
  return 'counts' in request ? request.counts.length : 'count' in request ? request.count : 1;
}

/**
 * Runs a request in an IO worker, file after file, with synchronous calls. On the calling
 * thread (`kept`: trees that outlive the request, io/beneath.ts), a copy leaves files of more
 * than a MiB to the workers (DEFERRED): the kernel's copy of a large file would hold the thread.
 */
export function handle(request: Request, kept?: KeptTrees): Reply {
  if (request.op === 'read') return read(request);
  try {
    if (kept !== undefined) return beneathRoot(request, kept.get(request.root), true);
    return withTree(request.root, (tree) => beneathRoot(request, tree, false));
  } catch (error) {
    // The root itself could not be opened (or made): every file of the request fails with it.
    return new Tally(count(request)).failAll(ioFailure(error, 'write'));
  }
}
