import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ProcessFigures } from '../cli/report-file.js';
import type { Summary } from '../types.js';
import { evict, residentBytes } from './cache.js';
import { cellPaths, type Places, type Planned } from './cells.js';
import type { ColdMethod, RunSample } from './types.js';

/**
 * One run of one cell: its preparation (outputs removed; the dataset evicted for a cold
 * cell, warmed for a warm one), then a fresh process, timed from spawn to exit as `time`
 * would time it, and the figures its `--report` gives.
 */

/** Files fincore looks at before each run: enough to tell cold from warm, cheap to check. */
const RESIDENT_SAMPLE = 64;

export interface Dataset {
  /** Absolute paths. */
  readonly files: readonly string[];
  readonly sizes: readonly number[];
}

export interface Machine {
  readonly places: Places;
  readonly cold: ColdMethod;
  readonly dataset: Dataset;
  readonly signal: AbortSignal | undefined;
}

/** What a run's `--report` holds (globpipe's, or the sync loop's with the same fields); any may be missing. */
type ReportFile = Partial<
  Pick<Summary, 'written' | 'discarded' | 'planned' | 'bytesIn' | 'elapsedSeconds' | 'latencyMs'> & {
    readonly process: ProcessFigures;
  }
>;

function settle(path: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('sync', ['-f', path], { stdio: 'ignore' });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`sync -f ${path} exited ${code}`))));
  });
}

/** Reads every file once, so that a warm run finds the dataset in the page cache. */
async function warm(files: readonly string[]): Promise<void> {
  for (const file of files) await readFile(file).catch(() => undefined);
}

/** The bytes of the sample in the page cache, scaled to the whole dataset (undefined: cannot tell). */
async function resident(dataset: Dataset): Promise<number | undefined> {
  return residentBytes(dataset.files, { sample: RESIDENT_SAMPLE });
}

export async function prepare(planned: Planned, machine: Machine): Promise<number | undefined> {
  const { cell } = planned;
  await rm(cellPaths(machine.places, cell.id).out, { recursive: true, force: true });
  // The file system at rest, as the recorded prepare command leaves it (cells.ts).
  await settle(machine.places.scratch);
  if (cell.cache === 'cold') {
    await evict(machine.cold, machine.dataset.files, machine.places.root);
    return resident(machine.dataset);
  }
  if (cell.kind === 'overhead') return undefined;
  const before = await resident(machine.dataset);
  const total = machine.dataset.sizes.reduce((sum, size) => sum + size, 0);
  // After a cold cell (or direct reads) the dataset may be out of the cache: read it back first.
  if (before !== undefined && before < total * 0.99) {
    await warm(machine.dataset.files);
    return resident(machine.dataset);
  }
  return before;
}

/** Spawns the run and resolves with its wall seconds and exit code (a signal counts as 128 + n). */
function timed(
  planned: Planned,
  signal: AbortSignal | undefined,
): Promise<{ seconds: number; code: number }> {
  const [command, ...args] = planned.invocation.argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: { ...process.env, ...planned.invocation.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, killed) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0 && stderr !== '') process.emitWarning(`${planned.cell.label}: ${stderr.trim()}`);
      resolve({ seconds, code: code ?? 128 + (killed === 'SIGKILL' ? 9 : 15) });
    });
  });
}

/** One run: prepared, timed, its report read. `order` is its place among all the bench's runs. */
export async function runOnce(planned: Planned, machine: Machine, order: number): Promise<RunSample> {
  const residentBefore = await prepare(planned, machine);
  const { report } = cellPaths(machine.places, planned.cell.id);
  await rm(report, { force: true });
  await mkdir(dirname(report), { recursive: true });
  const { seconds, code } = await timed(planned, machine.signal);
  const figures = JSON.parse(await readFile(report, 'utf8').catch(() => '{}')) as ReportFile;
  return {
    wallSeconds: seconds,
    ...(figures.elapsedSeconds === undefined ? {} : { pipelineSeconds: figures.elapsedSeconds }),
    userSeconds: figures.process?.userSeconds ?? 0,
    systemSeconds: figures.process?.systemSeconds ?? 0,
    peakRssBytes: figures.process?.peakRssBytes ?? 0,
    exitCode: code,
    files: (figures.written ?? 0) + (figures.discarded ?? 0) + (figures.planned ?? 0),
    bytes: figures.bytesIn ?? 0,
    latency: planned.cell.kind === 'overhead' ? undefined : figures.latencyMs,
    residentBytes: residentBefore,
    order,
  };
}
