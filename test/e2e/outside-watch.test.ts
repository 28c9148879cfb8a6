import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, readTree, tempDir, writeTree } from '../helpers.js';

/** Long enough for a loaded machine: the tests wait for outcomes, never for a deadline. */
const PATIENCE_MS = 30_000;
const BATCH = /^globpipe: \d+ changed: .*$/gm;

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startWatch(args: readonly string[]) {
  const child = spawn(process.execPath, [bin, ...args, '--watch'], {
    cwd: '/',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const until = async (what: string, check: () => boolean) => {
    const deadline = Date.now() + PATIENCE_MS;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${stderr}`);
      await sleep(50);
    }
  };
  const batches = () => stderr.match(BATCH) ?? [];
  return { child, done, until, batches, stderr: () => stderr };
}

const names = (dir: string) => [...readTree(dir).keys()].sort();

describe('--watch --delete-stale, cases from outside', () => {
  it('an input replaced by a directory of the same name is gone: its output is removed', async () => {
    const src = writeTree({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const out = join(tempDir(), 'out');
    const w = startWatch(['-C', src, '-o', out, '--delete-stale']);
    await w.until('the watch', () => /watching/.test(w.stderr()));
    rmSync(join(src, 'a.txt'));
    mkdirSync(join(src, 'a.txt'));
    writeFileSync(join(src, 'a.txt', 'x'), 'inner\n');
    // chokidar's `atomic` may fold the unlink and the new directory into one change of a.txt:
    // the batch then finds a directory there. (Whether a.txt/x is seen then is chokidar's.)
    await w.until('a.txt removed', () => w.batches().some((line) => /removed/.test(line)));
    w.child.kill('SIGINT');
    expect(await w.done).toBe(130);
    expect(names(out)).not.toContain('a.txt');
    expect(names(out)).toContain('b.txt');
  });

  it('an input replaced in one batch by another that writes the same output keeps the new output', async () => {
    const src = writeTree({ 'a.js': 'js\n' });
    const out = join(tempDir(), 'out');
    const w = startWatch(['-C', src, '-o', out, '--ext', '.out', '--delete-stale']);
    await w.until('the watch', () => /watching/.test(w.stderr()));
    rmSync(join(src, 'a.js'));
    writeFileSync(join(src, 'a.ts'), 'ts\n');
    await w.until('a batch', () => w.batches().some((line) => /written/.test(line)));
    await sleep(500);
    w.child.kill('SIGINT');
    expect(await w.done).toBe(130);
    expect(names(out)).toEqual(['a.out']);
    expect(readFileSync(join(out, 'a.out'), 'utf8')).toBe('ts\n');
  });
});
