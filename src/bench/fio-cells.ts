import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { BenchProgress } from './bench.js';
import { chooseColdMethod } from './cache.js';
import { cellPaths, type Matrix, type Places, type Planned, shellLine } from './cells.js';
import { compare, fioAvailable, type GlobpipeFigures, runFio } from './fio.js';
import { runOnce } from './run-cell.js';
import { median } from './stats.js';
import type { CellResult, ColdMethod, FioFigures } from './types.js';

/**
 * `--fio`: fio's figures on the same file system, and globpipe's against them. For the
 * large-file read, globpipe reads that one file, cold, sequentially, and its rate is the
 * file's own (its time from open to last byte, in the run's report), as fio's figure is its
 * transfer's. For small files, the cold cells' files/s (or warm ones', without
 * cold) against fio's 4 KiB random-read IOPS at the nearest depth.
 */

/** The largest file is read in order when it is at least this big. */
const LARGE = 64 * 1024 * 1024;
/** A dataset of files this small on average (or smaller) is compared with fio's 4 KiB random reads. */
const SMALL = 64 * 1024;

function meanSize(sizes: readonly number[]): number {
  return sizes.length === 0 ? 0 : sizes.reduce((sum, size) => sum + size, 0) / sizes.length;
}

/** Rounds of fio's sequential read and globpipe's, in turn. */
const LARGE_RUNS = 9;

export interface FioInputs {
  readonly cells: readonly CellResult[];
  readonly files: readonly string[];
  readonly sizes: readonly number[];
  readonly scratch: string;
  readonly cold: ColdMethod;
  /** The dataset's file system type (machine.ts). */
  readonly fsType: string;
  readonly quick: boolean;
  readonly matrix: Matrix;
  readonly places: Places;
  readonly onProgress: ((progress: BenchProgress) => void) | undefined;
}

/**
 * globpipe reading one large file, cold (when it can be), one file in flight, nothing written,
 * and fio's sequential read of the same file, taken in turn: a cold read's speed drifts with
 * the host, so each side's median comes from the same stretch of time.
 */
async function largeFileRates(
  file: string,
  size: number,
  inputs: FioInputs,
): Promise<{
  globpipe: GlobpipeFigures['largeFile'];
  fio: FioFigures['sequentialRead'];
  commands: string[];
}> {
  const { places } = inputs;
  // The file alone evicted, on both sides, where that can be done (fadvise): drop_caches would
  // also evict node's own code, which a run then pages in from the disk while it reads.
  const cold =
    inputs.cold.name === 'drop-caches'
      ? await chooseColdMethod(places.root, inputs.fsType, { method: 'fadvise' }).then(
          (method) => (method.name === 'none' ? inputs.cold : method),
          () => inputs.cold,
        )
      : inputs.cold;
  const id = 'fio-large-file';
  const { out, report } = cellPaths(places, id);
  const argv = [places.node, places.bin, '-C', places.root, relative(places.root, file), '-o', out];
  const tail = ['--discard', '--sequential', '-q', '--no-progress', '--report', report];
  const cache = cold.name === 'none' ? 'warm' : 'cold';
  const planned: Planned = {
    cell: {
      id,
      label: `${cache} large-file read`,
      kind: 'globpipe',
      concurrency: 1,
      cache,
      read: 'auto',
      work: 'read',
      threadpool: undefined,
      command: shellLine([...argv, ...tail]),
      prepare: cold.command,
    },
    invocation: { env: {}, argv: [...argv, ...tail] },
  };
  const rates: number[] = [];
  const fioRates: number[] = [];
  let commands: readonly string[] = [];
  const machine = { places, cold, dataset: { files: [file], sizes: [size] }, signal: undefined };
  for (let i = 0; i < LARGE_RUNS; i += 1) {
    inputs.onProgress?.({ phase: 'fio', done: i, total: LARGE_RUNS, cell: planned.cell.label });
    // Depths none: fio's sequential read of the file alone (evicted first, as ours is).
    const sequential = await runFio({ dir: join(inputs.scratch, 'fio'), depths: [], largeFile: file, cold });
    if (sequential.sequentialRead !== undefined) fioRates.push(sequential.sequentialRead.mibPerSecond);
    commands = sequential.commands;
    const run = await runOnce(planned, machine, i);
    // The file's own time (its latency: open to last byte), as fio's figure is its transfer's:
    // not the run's start, glob and plan, which on a 256 MiB file read in 0.1 s would be a third.
    const seconds = (run.latency?.max ?? 0) / 1000;
    if (run.exitCode === 0 && run.bytes === size && seconds > 0) rates.push(size / 2 ** 20 / seconds);
  }
  return {
    globpipe: rates.length === 0 ? undefined : { label: planned.cell.label, mibPerSecond: median(rates) },
    fio: fioRates.length === 0 ? undefined : { file, mibPerSecond: median(fioRates) },
    commands: [
      ...commands,
      `${planned.cell.command}  # globpipe's side: ${LARGE_RUNS} rounds in turn with fio's`,
    ],
  };
}

function smallFileCells(cells: readonly CellResult[]): GlobpipeFigures['smallFiles'] {
  const measured = cells.filter((result) => result.cell.kind === 'globpipe' && result.verified);
  const cache = measured.some((result) => result.cell.cache === 'cold') ? 'cold' : 'warm';
  const work = measured.some((result) => result.cell.work === 'read') ? 'read' : measured[0]?.cell.work;
  return measured
    .filter(
      (result) => result.cell.cache === cache && result.cell.work === work && result.cell.read === 'auto',
    )
    .map((result) => ({
      label: `${cache} ${work === 'read' ? 'reads' : work}`,
      filesPerSecond: result.filesPerSecond,
      concurrency: result.cell.concurrency,
    }));
}

export async function measureFio(inputs: FioInputs): Promise<{ figures?: FioFigures; note?: string }> {
  if ((await fioAvailable()) === undefined)
    return { note: 'fio is not installed: no reference figures (on Debian: apt-get install fio).' };
  const largest = inputs.sizes.reduce((best, size, i) => (size > (inputs.sizes[best] ?? 0) ? i : best), 0);
  const largeFile = (inputs.sizes[largest] ?? 0) >= LARGE ? inputs.files[largest] : undefined;
  inputs.onProgress?.({ phase: 'fio', done: 0, total: 1, cell: 'fio random reads' });
  await mkdir(join(inputs.scratch, 'fio'), { recursive: true });
  const run = await runFio({
    dir: join(inputs.scratch, 'fio'),
    depths: inputs.matrix.concurrency,
    cold: inputs.cold,
    runtimeSeconds: inputs.quick ? 1 : 3,
  });
  const large =
    largeFile === undefined
      ? undefined
      : await largeFileRates(largeFile, inputs.sizes[largest] as number, inputs);
  const globpipe: GlobpipeFigures = {
    ...(large?.globpipe === undefined ? {} : { largeFile: large.globpipe }),
    // Files per second against 4 KiB reads per second means something for small files only.
    ...(meanSize(inputs.sizes) <= SMALL ? { smallFiles: smallFileCells(inputs.cells) } : {}),
  };
  const measured = {
    randomRead: run.randomRead,
    ...(large?.fio === undefined ? {} : { sequentialRead: large.fio }),
  };
  const figures: FioFigures = {
    commands: [...run.commands, ...(large?.commands ?? [])],
    ...measured,
    comparisons: compare(measured, globpipe),
  };
  const notes = [
    ...run.notes,
    ...(largeFile === undefined
      ? [`no file of ${LARGE / 2 ** 20} MiB or more: no large-file comparison`]
      : []),
  ];
  return {
    figures,
    ...(notes.length > 0 ? { note: `fio ${run.version} (${run.engine}): ${notes.join('; ')}.` } : {}),
  };
}
