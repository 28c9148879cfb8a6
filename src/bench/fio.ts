import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { READ_CHUNK } from '../io/fs.js';
import { hasRawBytes } from '../paths.js';
import { formatCount } from '../report/format.js';
import { shellQuote } from '../transforms/exec.js';
import { evict, GUEST_NOTE } from './cache.js';
import type { ColdMethod, FioFigures } from './types.js';

/**
 * Reference figures from fio, the tool that measures devices: what this disk gives to 4 KiB
 * random reads at a queue depth, and to one large file read in order. globpipe's figures
 * are then read as a share of what the disk can do, not only as a share of each other.
 */

/** The chunk globpipe streams a large file in (io/fs.ts openReadStream's highWaterMark): fio reads the same. */
/** The chunk globpipe streams a large file in (io/fs.ts): fio reads the same. */
export const STREAM_CHUNK = `${READ_CHUNK / 1024}k`;

export type FioEngine = 'io_uring' | 'libaio';

export interface FioOptions {
  /** A scratch directory on the dataset's file system: fio lays out its random-read file there, and it is removed after. */
  readonly dir: string;
  /** Queue depths for the random reads: one fio job each. */
  readonly depths: readonly number[];
  /** A large file of the dataset, read once in order (never written). */
  readonly largeFile?: string;
  /** The bench's cold method: run on the large file before fio reads it. */
  readonly cold: ColdMethod;
  /** Seconds per random-read job (default 3; `--quick` 1), and the cap of the sequential read. */
  readonly runtimeSeconds?: number;
  /** Size of the random-read file, fio's syntax (default `256M`). */
  readonly size?: string;
  /** Default: io_uring where it works (a container's seccomp may forbid it), else libaio. */
  readonly engine?: FioEngine;
}

/** What runFio measured; the comparisons come later (compare), from globpipe's figures. */
export interface FioRun extends Omit<FioFigures, 'comparisons'> {
  /** `fio-3.33`. */
  readonly version: string;
  readonly engine: FioEngine;
  /** Whether the random reads bypassed the page cache (O_DIRECT). */
  readonly direct: boolean;
  /** Caveats, one sentence each. */
  readonly notes: readonly string[];
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], timeoutMs?: number): Promise<Outcome> {
  return new Promise((done) => {
    const child = spawn('fio', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => done({ code: null, stdout, stderr: error.message }));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** fio's version (`fio-3.33`), or undefined when fio is not installed. */
export async function fioAvailable(): Promise<string | undefined> {
  const outcome = await run(['--version']);
  return outcome.code === 0 ? outcome.stdout.trim() : undefined;
}

/**
 * The read figures of fio's `--output-format=json` (its first job): IOPS and bytes per
 * second. fio may print notes before the JSON; a job that failed has a non-zero `error`.
 */
export function parseFioJson(text: string): { iops: number; bwBytes: number } {
  const start = text.search(/^\{/m);
  if (start < 0) throw new Error(`fio printed no JSON: ${text.trim().slice(0, 200)}`);
  const report = JSON.parse(text.slice(start)) as {
    jobs?: { error?: number; read?: { iops?: number; bw_bytes?: number } }[];
  };
  const job = report.jobs?.[0];
  if (job?.read?.iops === undefined || job.read.bw_bytes === undefined) {
    throw new Error('fio JSON without jobs[0].read.iops and bw_bytes');
  }
  if (job.error) throw new Error(`fio job failed with error ${job.error}`);
  return { iops: job.read.iops, bwBytes: job.read.bw_bytes };
}

/** fio takes `:` in a file name as a separator of several files: `a:b` -> `a\:b`. */
function fioFilename(path: string): string {
  return path.replaceAll(':', '\\:');
}

/** The arguments of the 4 KiB random-read job at one depth. */
export function randomReadArgs(
  file: string,
  opts: { iodepth: number; engine: FioEngine; direct: boolean; runtimeSeconds: number; size: string },
): string[] {
  return [
    '--name=randread',
    `--filename=${fioFilename(file)}`,
    `--size=${opts.size}`,
    '--rw=randread',
    '--bs=4k',
    `--ioengine=${opts.engine}`,
    `--iodepth=${opts.iodepth}`,
    // Without O_DIRECT the reads are buffered: invalidate=1 drops the file's cache before the job.
    ...(opts.direct ? ['--direct=1'] : ['--direct=0', '--invalidate=1']),
    '--time_based',
    `--runtime=${opts.runtimeSeconds}`,
    '--output-format=json',
  ];
}

/** The arguments of the large file's read: in order, globpipe's chunk size, read-only, its cache dropped first. */
export function sequentialReadArgs(file: string, runtimeSeconds: number): string[] {
  return [
    '--name=seqread',
    `--filename=${fioFilename(file)}`,
    '--readonly',
    '--rw=read',
    `--bs=${STREAM_CHUNK}`,
    '--ioengine=psync',
    '--invalidate=1',
    `--runtime=${runtimeSeconds}`,
    '--output-format=json',
  ];
}

/** A command line to paste: `fio --name=randread '--filename=/scratch/a b.bin' …`. */
export function commandLine(args: readonly string[]): string {
  return ['fio', ...args].map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg))).join(' ');
}

/** Whether files in `dir` can be opened with O_DIRECT (tmpfs before Linux 6.6 cannot). */
function directWorks(dir: string): boolean {
  if (constants.O_DIRECT === undefined) return false;
  const probe = join(dir, `.globpipe-direct-${process.pid}`);
  try {
    closeSync(openSync(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

async function fioJob(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ iops: number; bwBytes: number }> {
  const outcome = await run(args, timeoutMs);
  if (outcome.code !== 0) {
    const why = outcome.stderr.trim().split('\n').at(-1) || `exit code ${outcome.code}`;
    throw new Error(`${commandLine(args)}: ${why}`);
  }
  return parseFioJson(outcome.stdout);
}

/**
 * Runs fio's reference jobs: 4 KiB random reads at each depth on a file fio lays out in
 * `dir` (removed after), then the large file read in order. Never writes into the dataset.
 */
export async function runFio(opts: FioOptions): Promise<FioRun> {
  const version = await fioAvailable();
  if (version === undefined) throw new Error('fio is not installed (`apt-get install fio`)');
  const runtimeSeconds = opts.runtimeSeconds ?? 3;
  const size = opts.size ?? '256M';
  // Laying out the random-read file comes first and is not timed by fio: allow it a minute.
  const timeoutMs = (runtimeSeconds + 60) * 1000;
  const notes: string[] = [];
  const commands: string[] = [];
  const direct = directWorks(opts.dir);
  if (!direct)
    notes.push('no O_DIRECT on this file system: fio read through the page cache, as globpipe does');
  if (opts.cold.name === 'none')
    notes.push(`fio read cached files too: ${opts.cold.note ?? 'no cold method'}`);
  if (opts.cold.note?.includes(GUEST_NOTE))
    notes.push("guest-cold: fio's reads may come from the host's cache too");
  let engine: FioEngine = opts.engine ?? 'io_uring';
  const file = join(opts.dir, `globpipe-fio-${process.pid}.bin`);
  const randomRead: { iodepth: number; iops: number }[] = [];
  try {
    for (const iodepth of opts.depths) {
      const argsOf = () => randomReadArgs(file, { iodepth, engine, direct, runtimeSeconds, size });
      let figures: { iops: number };
      try {
        figures = await fioJob(argsOf(), timeoutMs);
      } catch (error) {
        // io_uring is often forbidden (seccomp, io_uring_disabled): libaio, once, for every depth.
        if (engine !== 'io_uring' || opts.engine !== undefined || randomRead.length > 0) throw error;
        notes.push(`io_uring failed (${(error as Error).message.split(': ').at(-1)}): libaio instead`);
        engine = 'libaio';
        figures = await fioJob(argsOf(), timeoutMs);
      }
      commands.push(commandLine(argsOf()));
      randomRead.push({ iodepth, iops: figures.iops });
    }
  } finally {
    rmSync(file, { force: true });
  }
  if (opts.largeFile === undefined) return { version, engine, direct, notes, commands, randomRead };
  if (hasRawBytes(opts.largeFile)) {
    notes.push('the large file has a name that is not UTF-8, which fio cannot be given: no sequential read');
    return { version, engine, direct, notes, commands, randomRead };
  }
  await evict(opts.cold, [opts.largeFile], dirname(opts.largeFile));
  const args = sequentialReadArgs(opts.largeFile, runtimeSeconds);
  const { bwBytes } = await fioJob(args, timeoutMs);
  commands.push(commandLine(args));
  const sequentialRead = { file: opts.largeFile, mibPerSecond: bwBytes / 2 ** 20 };
  return { version, engine, direct, notes, commands, randomRead, sequentialRead };
}

/** `412`, `9.5`: a rate as tables show it. */
function rate(value: number): string {
  return value < 10 ? value.toFixed(1) : formatCount(value);
}

function percent(part: number, whole: number): string {
  return `${whole > 0 ? Math.round((100 * part) / whole) : 0}%`;
}

/**
 * globpipe's large-file read against fio's:
 * `cold large-file read: globpipe 412 MiB/s = 97% of fio psync (425 MiB/s)`.
 */
export function compareSequential(
  label: string,
  mibPerSecond: number,
  fio: { readonly mibPerSecond: number },
): string {
  return `${label}: globpipe ${rate(mibPerSecond)} MiB/s = ${percent(mibPerSecond, fio.mibPerSecond)} of fio psync (${rate(fio.mibPerSecond)} MiB/s)`;
}

/**
 * globpipe's small files per second against fio's IOPS at the depth nearest its concurrency
 * (one 4 KiB file is about one read):
 * `cold 4 KiB files at -j 64: 5,120 files/s = 31% of fio's 16,400 IOPS at iodepth 64`.
 * Undefined when fio ran no random reads.
 */
export function compareRandom(
  label: string,
  filesPerSecond: number,
  concurrency: number,
  randomRead: FioFigures['randomRead'],
): string | undefined {
  const distance = (depth: number) => Math.abs(Math.log2(depth) - Math.log2(concurrency));
  const nearest = [...randomRead].sort(
    (a, b) => distance(a.iodepth) - distance(b.iodepth) || a.iodepth - b.iodepth,
  )[0];
  if (nearest === undefined) return undefined;
  return `${label} at -j ${concurrency}: ${rate(filesPerSecond)} files/s = ${percent(filesPerSecond, nearest.iops)} of fio's ${rate(nearest.iops)} IOPS at iodepth ${nearest.iodepth}`;
}

/** globpipe's cells, as compare needs them. */
export interface GlobpipeFigures {
  /** The large-file cell: its read rate. */
  readonly largeFile?: { readonly label: string; readonly mibPerSecond: number };
  /** Small-file cells: files per second at a concurrency. */
  readonly smallFiles?: readonly {
    readonly label: string;
    readonly filesPerSecond: number;
    readonly concurrency: number;
  }[];
}

/** Every comparison fio's figures allow, one sentence each (FioFigures.comparisons). */
export function compare(
  fio: Pick<FioFigures, 'randomRead' | 'sequentialRead'>,
  globpipe: GlobpipeFigures,
): string[] {
  const sentences: string[] = [];
  if (globpipe.largeFile !== undefined && fio.sequentialRead !== undefined) {
    sentences.push(
      compareSequential(globpipe.largeFile.label, globpipe.largeFile.mibPerSecond, fio.sequentialRead),
    );
  }
  for (const cell of globpipe.smallFiles ?? []) {
    const sentence = compareRandom(cell.label, cell.filesPerSecond, cell.concurrency, fio.randomRead);
    if (sentence !== undefined) sentences.push(sentence);
  }
  return sentences;
}
