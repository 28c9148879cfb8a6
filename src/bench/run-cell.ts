import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import type { ProcessFigures } from '../cli/report-file.js';
import { fsPath } from '../paths.js';
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
  Pick<
    Summary,
    'written' | 'discarded' | 'planned' | 'bytesIn' | 'elapsedSeconds' | 'latencyMs' | 'skips'
  > & {
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
  for (const file of files) await readFile(fsPath(file)).catch(() => undefined);
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

/** Every run's process alive now: a hard exit (a second Ctrl-C) kills them. */
const liveRuns = new Set<ChildProcess>();

/** Whether a process has ended (gone, or a zombie: it runs no more code), from /proc. */
function ended(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return true;
  }
}

/**
 * For a hard exit, where nothing can be awaited: every run still going is killed, and waited
 * for (up to half a second), so that none still writes into the scratch directory bench then removes.
 */
export function killRunsSync(): void {
  const pids = [...liveRuns].flatMap((child) =>
    child.kill('SIGKILL') && child.pid !== undefined ? [child.pid] : [],
  );
  liveRuns.clear();
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 500 && !pids.every(ended); waited += 5) Atomics.wait(nap, 0, 0, 5);
}

interface Timed {
  readonly seconds: number;
  /** A signal counts as 128 + n. */
  readonly code: number;
  /** The start of what the run wrote on stderr. */
  readonly stderr: string;
}

/**
 * Spawns the run and resolves with its wall seconds and exit code. An abort stops the run
 * (SIGTERM: globpipe stops cleanly, removing its temp files) and rejects only once it has
 * exited, so that nothing writes into the scratch directory after bench removes it.
 */
function timed(planned: Planned, signal: AbortSignal | undefined): Promise<Timed> {
  const [command, ...args] = planned.invocation.argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: { ...process.env, ...planned.invocation.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    liveRuns.add(child);
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    const done = () => {
      liveRuns.delete(child);
      signal?.removeEventListener('abort', stop);
    };
    child.on('error', (error) => {
      done();
      reject(error);
    });
    child.on('close', (code, killed) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      done();
      if (signal?.aborted) return reject(signal.reason);
      const number = killed === null ? 15 : (constants.signals[killed] ?? 15);
      resolve({ seconds, code: code ?? 128 + number, stderr });
    });
  });
}

/** The first line a failed run wrote: its error (`sync-loop: ENOENT: … 'd01/f11.txt'`). */
function firstLine(stderr: string): string {
  const line = stderr.split('\n').find((text) => text.trim() !== '') ?? '';
  return line.trim().slice(0, 300);
}

/**
 * One run: prepared, timed, its report read. `order` is its place among all the bench's runs.
 * A run that fails gives `onFailure` the first line of its stderr (default: a process warning).
 */
export async function runOnce(
  planned: Planned,
  machine: Machine,
  order: number,
  onFailure: (line: string) => void = (line) => process.emitWarning(`${planned.cell.label}: ${line}`),
): Promise<RunSample> {
  const residentBefore = await prepare(planned, machine);
  const { report } = cellPaths(machine.places, planned.cell.id);
  await rm(report, { force: true });
  await mkdir(dirname(report), { recursive: true });
  const { seconds, code, stderr } = await timed(planned, machine.signal);
  if (code !== 0 && stderr.trim() !== '') onFailure(firstLine(stderr));
  const figures = JSON.parse(await readFile(report, 'utf8').catch(() => '{}')) as ReportFile;
  // Files a run passed over are not done: why, from its report (`already compressed (.gz)…`).
  const skip = figures.skips?.[0];
  if (skip !== undefined)
    onFailure(`${skip.count} skipped, ${skip.reason}: ${skip.paths.slice(0, 3).join(', ')}`);
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
