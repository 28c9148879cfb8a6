import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bin, keepAll, readTree, root, runCli, tempDir } from '../helpers.js';

const TEMP = /\.globpipe-tmp$/;

/** A deterministic tree: `count` files of varied sizes in nested directories, plus a few large ones. */
function makeTree(count: number, large = 0): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let x = 88172645;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = 0; i < count; i += 1) {
    const size = 64 + (next() % 12_000);
    const text = Buffer.alloc(size);
    for (let j = 0; j < size; j += 1) text[j] = 97 + (next() % 26);
    files.set(`d${i % 13}/s${i % 5}/file-${i}.txt`, text);
  }
  for (let i = 0; i < large; i += 1) {
    const big = Buffer.alloc(9 * 1024 * 1024 + i);
    for (let j = 0; j < big.length; j += 4) big.writeUInt32LE(next(), Math.min(j, big.length - 4));
    files.set(`large/big-${i}.bin`, big);
  }
  return files;
}

function writeTree(dir: string, files: Map<string, Buffer>): void {
  for (const [path, content] of files) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((path) => TEMP.test(path));
}

/** Starts the CLI; with `killAfterLines`, SIGKILLs it once stdout (`--json`) has reported that many files. */
function start(
  args: string[],
  killAfterLines?: number,
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let lines = 0;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    lines += chunk.split('\n').length - 1;
    if (killAfterLines !== undefined && lines >= killAfterLines) child.kill('SIGKILL');
  });
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done };
}

describe('kill -9 at random moments', () => {
  it('never leaves a partial file at a final path; the next run completes and leaves no temp file', async () => {
    const cwd = tempDir();
    const out = tempDir();
    const files = makeTree(2500, 2);
    writeTree(cwd, files);
    const expected = new Map(
      [...files].map(([path, content]) => [`${path}.gz`, gzipSync(content, { level: 1 })]),
    );
    // How long a whole run takes here, to spread the kills over all of it.
    const timing = Date.now();
    expect(
      (await runCli(['-C', cwd, '-t', 'gzip', '--level', '1', '-o', tempDir(), '-q', ...keepAll])).code,
    ).toBe(0);
    const fullRun = Date.now() - timing;

    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let killedWithTemps = 0;
    for (let round = 0; round < 22; round += 1) {
      const { child, done } = start([
        '-C',
        cwd,
        '-t',
        'gzip',
        '--level',
        '1',
        '-o',
        out,
        '-q',
        '-j',
        String(1 + (round % 4) * 8),
        ...keepAll,
      ]);
      await sleep(40 + random() * fullRun);
      child.kill('SIGKILL');
      await done;
      const onDisk = readTree(out);
      for (const [path, content] of onDisk) {
        if (TEMP.test(path)) continue;
        // Every file at a final path is complete: exactly the expected bytes, never a prefix.
        expect(content.equals(expected.get(path) as Buffer), `${path} after kill ${round}`).toBe(true);
      }
      if (tempFiles(out).length > 0) killedWithTemps += 1;
    }
    // The kills did land mid-write (temp files were caught in flight), or this test proves nothing.
    expect(killedWithTemps).toBeGreaterThan(0);

    const final = await runCli(['-C', cwd, '-t', 'gzip', '--level', '1', '-o', out, ...keepAll]);
    expect(final.code).toBe(0);
    expect(tempFiles(out)).toEqual([]);
    const onDisk = readTree(out);
    expect(onDisk.size).toBe(expected.size);
    for (const [path, content] of expected) expect(onDisk.get(path)?.equals(content), path).toBe(true);
  }, 240_000);
});

/** Files under `dir` now, temps aside. */
function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true }).filter((name) => !String(name).includes('globpipe-tmp'))
    .length;
}

/** A transform module that waits per file, so a run is long enough to interrupt. */
function slowModule(ms: number): string {
  const path = join(tempDir(), 'slow.mjs');
  writeFileSync(
    path,
    `export default { name: 'slow', async buffer(c) { await new Promise((r) => setTimeout(r, ${ms})); return Buffer.concat([c, Buffer.from('!')]); } };\n`,
  );
  return path;
}

describe('SIGINT and SIGTERM', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s mid-run: exit 128 + n (130, 143), summary printed, no temp file, no partial output',
    async (signal) => {
      const cwd = tempDir();
      const out = tempDir();
      const files = makeTree(300);
      writeTree(cwd, files);
      const { child, done } = start(['-C', cwd, '-t', slowModule(20), '-j', '4', '-o', out]);
      // Signalled once some files are written (whatever the machine's load), long before the end.
      for (let i = 0; i < 500 && countFiles(out) < 8; i += 1) await sleep(10);
      child.kill(signal);
      const result = await done;
      expect(result.code).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(result.stderr).toContain(`globpipe: ${signal}: stopping`);
      const summary = /globpipe: interrupted: (\d+) matched, (\d+) written/.exec(result.stderr);
      expect(summary).not.toBeNull();
      const written = readTree(out);
      expect(written.size).toBe(Number(summary?.[2]));
      expect(written.size).toBeGreaterThan(0);
      expect(written.size).toBeLessThan(files.size);
      expect(tempFiles(out)).toEqual([]);
      for (const [path, content] of written)
        expect(content.equals(Buffer.concat([files.get(path) as Buffer, Buffer.from('!')]))).toBe(true);
    },
  );

  it('a second SIGINT quits at once, still with no partial output and no temp file', async () => {
    const cwd = tempDir();
    const out = tempDir();
    const files = makeTree(100);
    writeTree(cwd, files);
    // Each file takes 5 s: the first SIGINT would wait for nothing, the second must not wait at all.
    const { child, done } = start(['-C', cwd, '-t', slowModule(5000), '-j', '8', '-o', out]);
    await sleep(600);
    child.kill('SIGINT');
    await sleep(100);
    const sent = Date.now();
    child.kill('SIGINT');
    const result = await done;
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(result.code).toBe(130);
    expect(readTree(out).size).toBe(0);
    expect(tempFiles(out)).toEqual([]);
  });
});

describe('in place, interrupted and resumed', () => {
  /** Appends a line: applying it twice to one file would show. */
  function appendModule(): string {
    const path = join(tempDir(), 'append.mjs');
    writeFileSync(
      path,
      "export default { name: 'append', async buffer(c) { await new Promise((r) => setTimeout(r, 2)); return Buffer.concat([c, Buffer.from('\\n# stamped\\n')]); } };\n",
    );
    return path;
  }

  it('every file ends transformed exactly once, whatever the moment of the kill', async () => {
    const module = appendModule();
    // Killed after this many files were reported done: from the very first to nearly the last.
    const moments = [1, 40, 333, 800, 1490];
    let resumedRounds = 0;
    for (const moment of moments) {
      const cwd = tempDir();
      const files = makeTree(1500);
      writeTree(cwd, files);
      const { done } = start(['-C', cwd, '-t', module, '--in-place', '-j', '16', '--json'], moment);
      expect((await done).signal).toBe('SIGKILL');

      const journal = join(cwd, '.globpipe-journal.jsonl');
      const plain = await runCli(['-C', cwd, '-t', module, '--in-place']);
      if (plain.code === 0) {
        // The kill came before the first file was journaled or after the run ended: nothing was half done.
        expect(readdirSync(cwd)).not.toContain('.globpipe-journal.jsonl');
        continue;
      }
      expect(plain.code).toBe(2);
      expect(plain.stderr).toContain(`journal \`${journal}\``);
      expect(plain.stderr).toContain('--resume');

      resumedRounds += 1;
      const resumed = await runCli(['-C', cwd, '-t', module, '--in-place', '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(readdirSync(cwd)).not.toContain('.globpipe-journal.jsonl');
      expect(tempFiles(cwd)).toEqual([]);
      const after = readTree(cwd);
      expect(after.size).toBe(files.size);
      for (const [path, content] of files) {
        expect(
          after.get(path)?.equals(Buffer.concat([content, Buffer.from('\n# stamped\n')])),
          `${path} (killed after ${moment} files)`,
        ).toBe(true);
      }
    }
    // Every kill landed mid-run, so every round went through --resume.
    expect(resumedRounds).toBe(moments.length);
  }, 180_000);

  it('--resume without an interrupted run is just a run; --resume needs --in-place', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.txt'), 'a');
    const module = appendModule();
    expect((await runCli(['-C', cwd, '-t', module, '--in-place', '--resume'])).code).toBe(0);
    expect(readFileSync(join(cwd, 'a.txt'), 'utf8')).toBe('a\n# stamped\n');
    const misuse = await runCli(['-C', cwd, '--resume', '-o', tempDir()]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('--resume continues an interrupted in-place run: it needs --in-place');
  });

  it('keeps each file mode; a renaming transform writes beside the input, which stays', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(cwd, 'run.sh'), 0o750);
    writeFileSync(join(cwd, 'notes.txt'), 'notes');
    chmodSync(join(cwd, 'notes.txt'), 0o600);
    expect((await runCli(['-C', cwd, '-t', appendModule(), '--in-place'])).code).toBe(0);
    expect(statSync(join(cwd, 'run.sh')).mode & 0o7777).toBe(0o750);
    expect(statSync(join(cwd, 'notes.txt')).mode & 0o7777).toBe(0o600);
    expect(readFileSync(join(cwd, 'run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n\n# stamped\n');

    const gz = await runCli(['-C', cwd, '*.txt', '-t', 'gzip', '--in-place', ...keepAll]);
    expect(gz.code).toBe(0);
    expect(readdirSync(cwd).sort()).toEqual(['notes.txt', 'notes.txt.gz', 'run.sh']);
  });
});
