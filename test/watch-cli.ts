import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { bin, publicBin, tempDir } from './helpers.js';

/** The built CLI under `--watch`, for e2e tests: started, waited on, and killed after each test. */

/** The line a watch prints once its first run is over and changes are watched. */
export const READY = /^globpipe: watching .* for changes/m;
/** A batch's line: `globpipe: 3 changed: 2 written, 1 removed | 0.04 s`. */
export const BATCH = /^globpipe: (?:interrupted: )?\d+ changed: .*$/gm;
/** Long enough for a loaded machine: the tests wait for outcomes, never for a deadline. */
export const PATIENCE_MS = 30_000;

export interface Watching {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `globpipe <args> --watch`, from `/`; as `nobody` (from a copy it can read) when asked. */
export function startWatch(args: readonly string[], asNobody = false): Watching {
  const child = spawn(process.execPath, [asNobody ? publicBin() : bin, ...args, '--watch'], {
    ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stderr: () => stderr, done };
}

/** Polls until `check` holds; fails naming `what` (and the CLI's output) after PATIENCE_MS. */
export async function until(what: string, check: () => boolean, watching: Watching): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; stderr:\n${watching.stderr()}`);
    await sleep(50);
  }
}

/** How many batch lines the watch has printed. */
export const batches = (w: Watching): number => w.stderr().match(BATCH)?.length ?? 0;

/**
 * A watch over `a.txt` into a separate out, once it has reported `secret.txt` (mode 000) as
 * failed. As root nothing is unreadable: the CLI then runs as `nobody`, in trees it may enter.
 */
export async function watchingUnreadable(): Promise<{ cwd: string; out: string; w: Watching }> {
  const cwd = tempDir();
  const out = tempDir();
  writeFileSync(join(cwd, 'a.txt'), 'alpha\n');
  const isRoot = process.getuid?.() === 0;
  if (isRoot) for (const dir of [cwd, out, join(cwd, '..'), join(out, '..')]) chmodSync(dir, 0o777);
  const w = startWatch(['-C', cwd, '-o', out], isRoot);
  await until('the first run', () => READY.test(w.stderr()), w);
  writeFileSync(join(cwd, 'secret.txt'), 'hidden\n', { mode: 0o000 });
  chmodSync(join(cwd, 'secret.txt'), 0o000);
  await until('the failure', () => /^globpipe: 1 changed: 1 failed \| /m.test(w.stderr()), w);
  return { cwd, out, w };
}
