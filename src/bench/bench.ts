import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import { GlobpipeError } from '../errors.js';
import { answerOf } from './answer.js';
import { chooseColdMethod } from './cache.js';
import { cellsOf, type Matrix, type Planned } from './cells.js';
import { baselineFor, readBaseline } from './export.js';
import { measureFio } from './fio-cells.js';
import { datasetOf, machineInfo } from './machine.js';
import { resultOf } from './results.js';
import { type Machine, runOnce } from './run-cell.js';
import type { BenchReport, CacheState, Cell, ReadStrategy, RunSample, Work } from './types.js';

/**
 * `globpipe bench`: globpipe's own pipeline over a dataset, in every cell of a mode matrix,
 * each run a fresh process. Runs go round robin over the cells (ABAB…), so that drift and
 * noise spread over all of them; the statistics are stats.ts's, the sentence answer.ts's.
 * The CLI only renders what this returns.
 */

export interface BenchOptions {
  /** The dataset's directory. */
  readonly cwd: string;
  /** fast-glob patterns relative to `cwd` (default `**\/*`). */
  readonly patterns?: readonly string[];
  /** Default 1, 4, 16, 64, 256 (--quick: 1, 16, 256). */
  readonly concurrency?: readonly number[];
  /** Default warm and cold (cold only where the file system has a colder state). */
  readonly cache?: readonly CacheState[];
  /** Default `auto`. */
  readonly read?: readonly ReadStrategy[];
  /** Default `copy`. */
  readonly work?: readonly Work[];
  /** UV_THREADPOOL_SIZE values (default: globpipe's own). */
  readonly threadpool?: readonly number[];
  /** `-t` stages for the `transform` work (default `gzip`). */
  readonly transforms?: readonly string[];
  /** Measured runs per cell (default 10; --quick 3) and unmeasured ones before (default 1). */
  readonly runs?: number;
  readonly warmup?: number;
  readonly quick?: boolean;
  /** Where runs write: a new directory beside the dataset by default (same file system), removed after. */
  readonly scratch?: string;
  /** An earlier `--export-json` (or hyperfine JSON): each cell's change against it. */
  readonly baseline?: string;
  /** Also run fio's reference jobs (when fio is installed). */
  readonly fio?: boolean;
  readonly coldMethod?: 'drop-caches' | 'fadvise';
  /** The sync-loop and no-IO overhead cells (default true). */
  readonly references?: boolean;
  /** Called once the dataset, machine and cells are known, before the first run. */
  readonly onStart?: (plan: BenchPlan) => void;
  readonly onProgress?: (progress: BenchProgress) => void;
  readonly signal?: AbortSignal;
}

/** What bench will measure, before the first run: the report's header, and its cells' settings. */
export type BenchPlan = Pick<BenchReport, 'machine' | 'dataset' | 'cold' | 'runs' | 'warmup' | 'notes'> & {
  readonly cells: readonly Cell[];
};

export interface BenchProgress {
  readonly phase: 'warmup' | 'measure' | 'fio';
  /** Runs done of all runs (warmup included). */
  readonly done: number;
  readonly total: number;
  readonly cell: string;
}

const here = dirname(fileURLToPath(import.meta.url));

function usage(message: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', message);
}

function positiveIntegers(name: string, values: readonly number[]): number[] {
  for (const value of values)
    if (!Number.isInteger(value) || value < 1)
      throw usage(`${name} takes whole numbers from 1, got ${value}`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Each value one of `allowed` (a library caller's typo named), without repeats. */
function oneOf<T extends string>(name: string, values: readonly string[], allowed: readonly T[]): T[] {
  for (const value of values)
    if (!(allowed as readonly string[]).includes(value))
      throw usage(`${name} takes ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  if (values.length === 0) throw usage(`${name} needs at least one of ${allowed.join(', ')}`);
  return [...new Set(values)] as T[];
}

/** globpipe's pool when UV_THREADPOOL_SIZE is not set (bin/globpipe.js). */
function defaultThreadpool(): number {
  const set = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(set) && set > 0 ? set : Math.min(64, Math.max(16, availableParallelism() * 4));
}

/** Whether the file system under `file` opens files with O_DIRECT. */
function directWorks(file: string): boolean {
  try {
    closeSync(openSync(file, constants.O_RDONLY | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  }
}

export async function bench(options: BenchOptions): Promise<BenchReport> {
  const quick = options.quick === true;
  const root = resolve(options.cwd);
  const patterns = options.patterns?.length ? [...options.patterns] : ['**/*'];
  const runs = options.runs ?? (quick ? 3 : 10);
  const warmup = options.warmup ?? 1;
  if (!Number.isInteger(runs) || runs < 1) throw usage(`--runs takes a whole number from 1, got ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0)
    throw usage(`--warmup takes a whole number from 0, got ${warmup}`);
  const kind = await stat(root).then(
    (stats) => (stats.isDirectory() ? undefined : 'is not a directory'),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'does not exist' : error.message),
  );
  if (kind !== undefined)
    throw usage(`-C ${root} ${kind}: give the dataset's directory (make one with \`globpipe gen <dir>\`)`);
  const entries = await fg(patterns, { cwd: root, onlyFiles: true, stats: true, absolute: true }).catch(
    (error: Error) => {
      throw usage(`cannot read the dataset in ${root}: ${error.message}`);
    },
  );
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));
  if (entries.length === 0)
    throw usage(
      `No files match ${patterns.join(' ')} in ${root}: make a dataset with \`globpipe gen ${root}\``,
    );
  const files = entries.map((entry) => entry.path);
  const sizes = entries.map((entry) => entry.stats?.size ?? 0);
  const threadpool = defaultThreadpool();
  const machine = await machineInfo(root, threadpool);
  const dataset = datasetOf(
    root,
    sizes.map((size) => ({ size })),
    patterns,
  );
  const cold = await chooseColdMethod(root, machine.filesystem.type, {
    method: options.coldMethod,
    virtualized: machine.virtualized,
  });
  const notes: string[] = [];
  let caches = oneOf<CacheState>('--cache', options.cache ?? ['warm', 'cold'], ['warm', 'cold']);
  if (caches.includes('cold') && cold.name === 'none') {
    caches = caches.filter((cache) => cache !== 'cold');
    notes.push(`No cold cells: ${cold.note ?? 'no way to evict the files here'}.`);
  }
  if (caches.length === 0) throw usage(`--cache: nothing left to measure (${notes.join(' ')})`);
  let reads = oneOf<ReadStrategy>('--read', options.read ?? ['auto'], [
    'auto',
    'batch',
    'single',
    'stream',
    'direct',
  ]);
  if (reads.includes('direct') && !directWorks(files[0] as string)) {
    reads = reads.filter((read) => read !== 'direct');
    notes.push(`No direct cells: ${machine.filesystem.type} refuses O_DIRECT.`);
    if (reads.length === 0) throw usage(`--read direct: ${machine.filesystem.type} refuses O_DIRECT`);
  }
  const matrix: Matrix = {
    concurrency: positiveIntegers(
      '-j/--concurrency',
      options.concurrency ?? (quick ? [1, 16, 256] : [1, 4, 16, 64, 256]),
    ),
    cache: caches,
    read: reads,
    work: oneOf<Work>('--work', options.work ?? ['copy'], ['read', 'copy', 'transform', 'fsync']),
    threadpool: options.threadpool ? positiveIntegers('--threadpool', options.threadpool) : [undefined],
    transforms: options.transforms?.length ? [...options.transforms] : ['gzip'],
    references: options.references !== false,
  };
  const baseline = options.baseline === undefined ? undefined : await readBaseline(options.baseline);

  // A new directory of its own (removed after), beside the dataset unless --scratch says where.
  const parent = options.scratch === undefined ? dirname(root) : resolve(options.scratch);
  // Outside the dataset only when the way there starts by going up: `..x` is a directory inside it.
  if (relative(root, parent).split(sep)[0] !== '..')
    throw usage(`--scratch ${parent} is inside the dataset ${root}: runs would read their own outputs`);
  const scratch = await mkdir(parent, { recursive: true })
    .then(() => mkdtemp(join(parent, `.${basename(root)}.globpipe-bench-`)))
    .catch((error: Error) => {
      throw usage(`cannot make a scratch directory in ${parent} (give --scratch <dir>): ${error.message}`);
    });
  try {
    const list = join(scratch, 'files.lst');
    await writeFile(
      list,
      Buffer.concat(files.flatMap((file) => [Buffer.from(relative(root, file)), Buffer.from([0])])),
    );
    const places = {
      bin: resolve(here, '../../bin/globpipe.js'),
      syncLoop: resolve(here, '../bench/sync-loop.js'),
      node: process.execPath,
      root,
      patterns,
      scratch,
      list,
      evict: cold.command,
    };
    const planned = cellsOf(matrix, places);
    options.onStart?.({ machine, dataset, cold, cells: planned.map((p) => p.cell), runs, warmup, notes });
    const context: Machine = { places, cold, dataset: { files, sizes }, signal: options.signal };
    const total = planned.length * (runs + warmup);
    let done = 0;
    const samples = new Map<string, RunSample[]>(planned.map((p) => [p.cell.id, []]));
    for (let round = 0; round < warmup + runs; round += 1) {
      // Round robin, each round starting one cell further on: no cell always follows the same one.
      for (let k = 0; k < planned.length; k += 1) {
        const p = planned[(round + k) % planned.length] as Planned;
        options.signal?.throwIfAborted();
        const phase = round < warmup ? 'warmup' : 'measure';
        options.onProgress?.({ phase, done, total, cell: p.cell.label });
        const sample = await runOnce(p, context, done);
        if (round >= warmup) samples.get(p.cell.id)?.push(sample);
        done += 1;
      }
    }
    const bytes = dataset.bytes;
    const cells = planned.map((p) => {
      const result = resultOf(p, samples.get(p.cell.id) ?? [], files.length, bytes);
      const against = baseline === undefined ? undefined : baselineFor(result, baseline);
      return against === undefined ? result : { ...result, baseline: against };
    });
    const fio = options.fio
      ? await measureFio({
          fsType: machine.filesystem.type,
          cells,
          files,
          sizes,
          scratch,
          cold,
          quick,
          matrix,
          places,
          onProgress: options.onProgress,
        })
      : undefined;
    if (fio?.note !== undefined) notes.push(fio.note);
    return {
      schema: 1,
      date: new Date().toISOString(),
      machine,
      dataset,
      cold,
      runs,
      warmup,
      cells,
      answer: answerOf(cells, dataset, machine, sizes),
      ...(fio?.figures === undefined ? {} : { fio: fio.figures }),
      notes,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
