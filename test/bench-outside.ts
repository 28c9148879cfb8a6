import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { BenchJSON } from '../src/bench/export.js';
import { bin, root, runCli } from './helpers.js';

/**
 * Helpers for the hostile-use tests of `globpipe bench` (test/e2e/bench-outside.test.ts): a
 * dataset from `globpipe gen`, a bench that can be signalled while it runs, the processes
 * and scratch directories it may leave, and the rerun of every command it records.
 */

/** `globpipe gen <dir>` of `files` × 4 KiB. */
export async function gen(dir: string, files: number): Promise<void> {
  const made = await runCli(['gen', dir, '--files', String(files), '--size', '4KiB', '-q']);
  expect(made.code, made.stderr).toBe(0);
}

/** Scratch directories bench made beside a dataset named `name` in `dir`. */
export const leftovers = (dir: string, name: string): string[] =>
  readdirSync(dir).filter((entry) => entry.startsWith(`.${name}.globpipe-bench-`));

export const readJSON = (path: string): BenchJSON => JSON.parse(readFileSync(path, 'utf8')) as BenchJSON;

/** The words sh makes of a command line. */
export function words(line: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);
}

/** Live processes (not zombies) whose command line holds `text` (a test's own directory). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      const state = /\) (\S)/.exec(readFileSync(`/proc/${entry}/stat`, 'latin1'))?.[1];
      if (cmdline.includes(text) && state !== 'Z') found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

export interface Running {
  readonly child: ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Resolves once stderr holds `text`. */
  waitFor(text: string | RegExp): Promise<void>;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `globpipe bench …` as a child this test can signal. */
export function startBench(args: readonly string[], cwd = root): Running {
  const child = spawn(process.execPath, [bin, 'bench', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting: [string | RegExp, () => void][] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const [text, wake] of waiting.splice(0)) {
      if (typeof text === 'string' ? stderr.includes(text) : text.test(stderr)) wake();
      else waiting.push([text, wake]);
    }
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    child,
    stderr: () => stderr,
    waitFor: (text) =>
      new Promise((wake) => {
        if (typeof text === 'string' ? stderr.includes(text) : text.test(stderr)) wake();
        else waiting.push([text, wake]);
      }),
    done,
  };
}

/**
 * Every recorded command, after its recorded prepare, run by hand through sh, as the README
 * says a user may: each must exit 0 and write its report, and that report must count the
 * dataset (files, and bytes but for the dry run).
 */
export function rerunEach(json: BenchJSON, files: number, bytes: number): void {
  for (const result of json.results) {
    const { id, prepare, kind } = result.globpipe;
    const prepared = spawnSync('sh', ['-c', prepare], { encoding: 'utf8' });
    expect(prepared.status, `${id}: ${prepare}\n${prepared.stderr}`).toBe(0);
    const ran = spawnSync('sh', ['-c', result.command], { encoding: 'utf8' });
    expect(ran.status, `${id}: ${result.command}\n${ran.stderr}`).toBe(0);
    const argv = words(result.command);
    const report = JSON.parse(readFileSync(argv[argv.indexOf('--report') + 1] as string, 'utf8'));
    const counted = (report.written ?? 0) + (report.discarded ?? 0) + (report.planned ?? 0);
    expect([id, counted, report.bytesIn]).toEqual([id, files, kind === 'overhead' ? 0 : bytes]);
  }
}
