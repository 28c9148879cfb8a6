import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bin, readTree, root, runCli, writeTree } from '../helpers.js';

const LOCK = '.globpipe-lock';
const JOURNAL = '.globpipe-journal.jsonl';
/** Appends a line after a pause: applying it twice to one file would show. */
const STAMP = 'sleep 0.4; cat; echo stamped';

function startCli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, done };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function journalLines(cwd: string): number {
  const path = join(cwd, JOURNAL);
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

function files(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`d${i % 2}/f${i}.txt`, `file ${i}\n`]));
}

/** Every input stamped exactly once, and nothing of globpipe's left in the tree. */
function expectStampedOnce(cwd: string, inputs: Record<string, string>): void {
  expect(readTree(cwd)).toEqual(
    new Map(Object.entries(inputs).map(([path, content]) => [path, Buffer.from(`${content}stamped\n`)])),
  );
}

describe('one in-place run per tree', () => {
  it('a second run, a --resume and a dry run on a live run are refused at once; the live run is not disturbed', async () => {
    const inputs = files(5);
    const cwd = writeTree(inputs);
    // 5 s in all: it outlives every refusal below, or the last would find no lock.
    const first = startCli(['-C', cwd, '--in-place', '-j', '1', '--exec', 'sleep 1; cat; echo stamped']);
    await until(() => existsSync(join(cwd, LOCK)), 'the lock');
    const lock = readFileSync(join(cwd, LOCK), 'utf8');
    const pid = first.child.pid as number;
    expect(JSON.parse(lock)).toMatchObject({ pid, host: hostname() });

    for (const extra of [[], ['--resume'], ['--dry-run'], ['--dot']]) {
      const started = Date.now();
      const second = await runCli(['-C', cwd, '--in-place', '--exec', STAMP, ...extra]);
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toContain(
        `globpipe: Another in-place run is live on \`${cwd}\` (pid ${pid} on host ${hostname()}`,
      );
      expect(second.stderr).toContain('Nothing was written');
      // Never taken for an interrupted run.
      expect(second.stderr).not.toContain('interrupted');
      expect(second.stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(readFileSync(join(cwd, LOCK), 'utf8')).toBe(lock);
    }

    const result = await first.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('5 written');
    expectStampedOnce(cwd, inputs);
  }, 30_000);

  it('after kill -9, the stale lock is taken over and --resume finishes the run', async () => {
    const inputs = files(6);
    const cwd = writeTree(inputs);
    const first = startCli(['-C', cwd, '--in-place', '-j', '1', '--exec', STAMP]);
    // Header and two files journaled: killed mid-run.
    await until(() => journalLines(cwd) >= 3, 'two files journaled');
    first.child.kill('SIGKILL');
    await first.done;
    const stale = JSON.parse(readFileSync(join(cwd, LOCK), 'utf8')) as { pid: number };
    expect(stale.pid).toBe(first.child.pid);

    // Without --resume: the journal is an interrupted run's now, and the lock no obstacle.
    const plain = await runCli(['-C', cwd, '--in-place', '--exec', STAMP]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('An interrupted in-place run left its journal');
    expect(existsSync(join(cwd, LOCK))).toBe(false);

    writeFileSync(join(cwd, LOCK), `${JSON.stringify(stale)}\n`);
    const resumed = await runCli(['-C', cwd, '--in-place', '--resume', '--exec', STAMP]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/skipped \d+ files: finished by the interrupted run/);
    expectStampedOnce(cwd, inputs);
  }, 30_000);

  it('a lock from another host counts as live, and the message says how to remove it', async () => {
    const inputs = files(2);
    const cwd = writeTree(inputs);
    const lock = join(cwd, LOCK);
    const foreign = {
      pid: 4242,
      host: 'ci-runner-7.example',
      boot: null,
      start: null,
      since: '2026-01-01T00:00:00.000Z',
      token: 'abc',
    };
    writeFileSync(lock, JSON.stringify(foreign));
    const before = readTree(cwd);
    const refused = await runCli(['-C', cwd, '--in-place', '--exec', STAMP]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pid 4242 on host ci-runner-7.example');
    expect(refused.stderr).toContain(`If you are sure it no longer runs, delete \`${lock}\``);
    expect(readTree(cwd)).toEqual(before);
  });

  it('the glob never matches the lock, even with --dot', async () => {
    const inputs = files(3);
    const cwd = writeTree(inputs);
    // Left by a dead run, with a takeover temp of one beside it: neither is an input.
    writeFileSync(join(cwd, LOCK), '{"pid":');
    writeFileSync(join(cwd, `${LOCK}.4242-abcdef.tmp`), '{"pid":');
    const dotted = await runCli(['-C', cwd, '--in-place', '--dot', '--json', '--exec', 'cat; echo stamped']);
    expect(dotted.code, dotted.stderr).toBe(0);
    const inputsSeen = dotted.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; input?: string })
      .filter((event) => event.type === 'file')
      .map((event) => event.input)
      .sort();
    expect(inputsSeen).toEqual(Object.keys(inputs).sort());
    expect(readdirSync(cwd).sort()).toEqual([`${LOCK}.4242-abcdef.tmp`, 'd0', 'd1']);
  });

  it("a hard exit mid-run (process.exit, as on the CLI's second Ctrl-C) still releases the lock", async () => {
    const cwd = writeTree(files(3));
    const script = `
      import { existsSync } from 'node:fs';
      import { run } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
      const cwd = ${JSON.stringify(cwd)};
      await run({ cwd, inPlace: true, concurrency: 1, transforms: [{ name: 'exit', buffer() {
        if (!existsSync(cwd + '/${LOCK}')) process.exit(3);
        process.exit(7);
      } }] });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(7);
    expect(readdirSync(cwd).sort()).toEqual([JOURNAL, 'd0', 'd1']);
  }, 30_000);
});
