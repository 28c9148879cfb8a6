import { closeSync, constants, openSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GlobpipeError } from '../errors.js';
import { fsPath } from '../paths.js';
import { answerOf } from './answer.js';
import { baselineFor, comparable, readBaselineFile } from './baseline.js';
import { type BenchOptions, benchNames, checkBenchOptions, checkedTransforms } from './bench-options.js';
import { chooseColdMethod } from './cache.js';
import { cellsOf, type Matrix, type Planned } from './cells.js';
import { datasetChanges, scanDataset } from './dataset-scan.js';
import { measureFio } from './fio-cells.js';
import { datasetOf, filesystemOf, machineInfo } from './machine.js';
import { coldUnknown, resultOf } from './results.js';
import { killRunsSync, type Machine, runOnce } from './run-cell.js';
import { makeScratch, removeScratch, removeScratchSync } from './scratch.js';
import type { BenchReport, RunSample } from './types.js';

/**
 * `globpipe bench`: globpipe's own pipeline over a dataset, in every cell of a mode matrix,
 * each run a fresh process. Runs go round robin over the cells (ABAB…), so that drift and
 * noise spread over all of them; the statistics are stats.ts's, the sentence answer.ts's.
 * The CLI only renders what this returns.
 */

export type { BenchOptions, BenchPlan, BenchProgress } from './bench-options.js';

const here = dirname(fileURLToPath(import.meta.url));

function usage(message: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', message);
}

/** Sorted, without repeats. */
function numbers(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Without repeats, in the order given. */
function unique<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** For a hard exit (a second Ctrl-C), where nothing can be awaited: runs killed, scratch directories removed. */
export function stopBenchSync(): void {
  killRunsSync();
  removeScratchSync();
}

/** globpipe's pool when UV_THREADPOOL_SIZE is not set (bin/globpipe.js). */
function defaultThreadpool(): number {
  const set = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(set) && set > 0 ? set : Math.min(64, Math.max(16, availableParallelism() * 4));
}

/** A name's exact bytes (paths.ts): the list the sync loop reads holds names that need not be UTF-8. */
function nameBytes(name: string): Buffer {
  const bytes = fsPath(name);
  return typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
}

/** Whether the file system under `file` opens files with O_DIRECT. */
function directWorks(file: string): boolean {
  try {
    closeSync(openSync(fsPath(file), constants.O_RDONLY | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  }
}

export async function bench(options: BenchOptions): Promise<BenchReport> {
  checkBenchOptions(options);
  const names = benchNames(options);
  const quick = options.quick === true;
  const root = resolve(options.cwd);
  const patterns = options.patterns?.length ? [...options.patterns] : ['**/*'];
  const runs = options.runs ?? (quick ? 3 : 10);
  const warmup = options.warmup ?? 1;
  const kind = await stat(root).then(
    (stats) => (stats.isDirectory() ? undefined : 'is not a directory'),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'does not exist' : error.message),
  );
  if (kind !== undefined)
    throw usage(
      `${names.name('cwd')} ${root} ${kind}: give the dataset's directory (make one with \`globpipe gen <dir>\`)`,
    );
  const { files: scanned, notes } = await scanDataset(root, patterns);
  const files = scanned.map((file) => file.path);
  const sizes = scanned.map((file) => file.size);
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
  let caches = unique(options.cache ?? (['warm', 'cold'] as const));
  if (caches.includes('cold') && cold.name === 'none') {
    caches = caches.filter((cache) => cache !== 'cold');
    notes.push(`No cold cells: ${cold.note ?? 'no way to evict the files here'}.`);
  }
  if (caches.length === 0)
    throw usage(`${names.name('cache')}: nothing left to measure (${notes.join(' ')})`);
  let reads = unique(options.read ?? (['auto'] as const));
  if (reads.includes('direct') && !directWorks(files[0] as string)) {
    reads = reads.filter((read) => read !== 'direct');
    notes.push(`No direct cells: ${machine.filesystem.type} refuses O_DIRECT.`);
    if (reads.length === 0)
      throw usage(`${names.name('read')} direct: ${machine.filesystem.type} refuses O_DIRECT`);
  }
  const work = unique(options.work ?? (['copy'] as const));
  const transforms = work.includes('transform')
    ? await checkedTransforms(
        options.transforms?.length ? options.transforms : ['gzip'],
        names.name('transforms'),
      )
    : ['gzip'];
  if (options.transforms?.length && !work.includes('transform'))
    notes.push(
      `${names.name('transforms')} ${options.transforms.join(' ')} is for the transform work: no cell ran it (add transform to ${names.name('work')}).`,
    );
  const matrix: Matrix = {
    concurrency: numbers(options.concurrency ?? (quick ? [1, 16, 256] : [1, 4, 16, 64, 256])),
    cache: caches,
    read: reads,
    work,
    threadpool: options.threadpool ? numbers(options.threadpool) : [undefined],
    transforms,
    references: options.references !== false,
  };
  const baseline = options.baseline === undefined ? undefined : await readBaselineFile(options.baseline);
  const against = baseline === undefined ? undefined : comparable(baseline, dataset, options.baseline);
  if (against?.note !== undefined) notes.push(against.note);

  // A new directory of its own (removed after), beside the dataset unless --scratch says where.
  const parent = options.scratch === undefined ? dirname(root) : resolve(options.scratch);
  // Outside the dataset only when the way there starts by going up: `..x` is a directory inside it.
  if (relative(root, parent).split(sep)[0] !== '..')
    throw usage(
      `${names.name('scratch')} ${parent} is inside the dataset ${root}: runs would read their own outputs`,
    );
  const made = await makeScratch(parent, root).catch((error: Error) => {
    throw usage(`cannot make a scratch directory in ${parent} (give --scratch <dir>): ${error.message}`);
  });
  const scratch = made.dir;
  try {
    const written = await filesystemOf(scratch);
    if (written.mount !== machine.filesystem.mount)
      notes.push(
        `Runs write to ${written.type} at ${written.mount} (the scratch directory), the dataset is read from ${machine.filesystem.type} at ${machine.filesystem.mount}.`,
      );
    const list = join(scratch, 'files.lst');
    await writeFile(list, Buffer.concat(scanned.flatMap((file) => [nameBytes(file.rel), Buffer.from([0])])));
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
    /** The first error line of each cell's failed runs: what a ✗ says happened. */
    const failures = new Map<string, string>();
    for (let round = 0; round < warmup + runs; round += 1) {
      // Round robin, each round starting one cell further on: no cell always follows the same one.
      for (let k = 0; k < planned.length; k += 1) {
        const p = planned[(round + k) % planned.length] as Planned;
        options.signal?.throwIfAborted();
        const phase = round < warmup ? 'warmup' : 'measure';
        options.onProgress?.({ phase, done, total, cell: p.cell.label });
        const sample = await runOnce(p, context, done, (line) => {
          if (!failures.has(p.cell.id)) failures.set(p.cell.id, line);
        });
        if (round >= warmup) samples.get(p.cell.id)?.push(sample);
        done += 1;
      }
    }
    let cells = planned.map((p) => {
      const result = resultOf(
        p,
        samples.get(p.cell.id) ?? [],
        files.length,
        dataset.bytes,
        failures.get(p.cell.id),
      );
      const change = against === undefined ? undefined : baselineFor(result, against.medians);
      return change === undefined ? result : { ...result, baseline: change };
    });
    if (against !== undefined && against.note === undefined && !cells.some((r) => r.baseline !== undefined))
      notes.push(
        `--baseline ${options.baseline}: none of its ${against.medians.size} results is a cell of this matrix; nothing compared.`,
      );
    if (cells.some((result) => !result.verified)) {
      // Runs that did not do the dataset: say what changed in it, if it did.
      const changed = await datasetChanges(root, patterns, scanned);
      if (changed !== undefined) {
        const warning = `The dataset changed during the bench: ${changed}.`;
        notes.push(warning);
        cells = cells.map((result) =>
          result.verified ? result : { ...result, warnings: [...result.warnings, warning] },
        );
      }
    }
    const unknown = coldUnknown(cells);
    if (unknown !== undefined) notes.push(unknown);
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
    await removeScratch(made);
  }
}
