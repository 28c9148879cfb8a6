import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { BenchProgress } from './bench.js';
import { cellPaths, type Matrix, type Places, type Planned, shellLine } from './cells.js';
import { compare, fioAvailable, type GlobpipeFigures, runFio } from './fio.js';
import { runOnce } from './run-cell.js';
import { median } from './stats.js';
import type { CellResult, ColdMethod, FioFigures } from './types.js';

/**
 * `--fio`: fio's figures on the same file system, and globpipe's against them. For the
 * large-file read, globpipe reads that one file, cold, sequentially, and its rate is the
 * pipeline's own (its report's elapsed time: process start excluded, as fio's figure
 * excludes fio's start). For small files, the cold cells' files/s (or warm ones', without
 * cold) against fio's 4 KiB random-read IOPS at the nearest depth.
 */

/** The largest file is read in order when it is at least this big. */
const LARGE = 64 * 1024 * 1024;
const LARGE_RUNS = 3;

export interface FioInputs {
  readonly cells: readonly CellResult[];
  readonly files: readonly string[];
  readonly sizes: readonly number[];
  readonly scratch: string;
  readonly cold: ColdMethod;
  readonly quick: boolean;
  readonly matrix: Matrix;
  readonly places: Places;
  readonly onProgress: ((progress: BenchProgress) => void) | undefined;
}

/** globpipe reading one large file, cold (when it can be), one file in flight, nothing written. */
async function largeFileRate(
  file: string,
  size: number,
  inputs: FioInputs,
): Promise<GlobpipeFigures['largeFile']> {
  const { places, cold } = inputs;
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
  for (let i = 0; i < LARGE_RUNS; i += 1) {
    inputs.onProgress?.({ phase: 'fio', done: i, total: LARGE_RUNS, cell: planned.cell.label });
    const run = await runOnce(
      planned,
      { places, cold, dataset: { files: [file], sizes: [size] }, signal: undefined },
      i,
    );
    if (
      run.exitCode === 0 &&
      run.bytes === size &&
      run.pipelineSeconds !== undefined &&
      run.pipelineSeconds > 0
    )
      rates.push(size / 2 ** 20 / run.pipelineSeconds);
  }
  return rates.length === 0 ? undefined : { label: planned.cell.label, mibPerSecond: median(rates) };
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
    ...(largeFile === undefined ? {} : { largeFile }),
    cold: inputs.cold,
    runtimeSeconds: inputs.quick ? 1 : 3,
  });
  const large =
    largeFile === undefined
      ? undefined
      : await largeFileRate(largeFile, inputs.sizes[largest] as number, inputs);
  const globpipe: GlobpipeFigures = {
    ...(large === undefined ? {} : { largeFile: large }),
    smallFiles: smallFileCells(inputs.cells),
  };
  const figures: FioFigures = {
    commands: run.commands,
    randomRead: run.randomRead,
    ...(run.sequentialRead === undefined ? {} : { sequentialRead: run.sequentialRead }),
    comparisons: compare(run, globpipe),
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
