import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bin, readTree, runCli, tempDir, writeTree } from '../helpers.js';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function pgrep(pattern: string): string[] {
  const found = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean);
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((path) => path.endsWith('.globpipe-tmp'));
}

/** Names a command would read as options. */
const dashed = { '-n': 'one\ntwo\n', '--help': 'help me\n', '-rf x': 'not an option\n' };

describe('--exec: a file name is never an option', () => {
  it("`cat {rel}` copies files named -n, --help and '-rf x'", async () => {
    const cwd = writeTree(dashed);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '--exec', 'cat {rel}', '-o', out]);
    expect(result.stderr).toMatch(/^globpipe: 3 matched, 3 written, 0 skipped, 0 failed/);
    expect(result.code).toBe(0);
    expect(readTree(out)).toEqual(readTree(cwd));
  });

  it('`wc -c {rel}` sees each name as a file, as ./-name', async () => {
    const cwd = writeTree(dashed);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '--exec', 'wc -c {rel}', '-o', out]);
    expect(result.code).toBe(0);
    for (const [name, content] of Object.entries(dashed)) {
      expect(readFileSync(join(out, name), 'utf8')).toBe(`${Buffer.byteLength(content)} ./${name}\n`);
    }
  });

  it('{in} and {out} stay absolute paths and work with the same names', async () => {
    const cwd = writeTree(dashed);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '--exec', 'cat {in} > {out}', '-o', out]);
    expect(result.code).toBe(0);
    expect(readTree(out)).toEqual(readTree(cwd));
  });
});

describe('--exec runs in --cwd', () => {
  it('`cat {rel}` works from another working directory, with a relative --cwd', async () => {
    const cwd = writeTree({ 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n', '-n': 'dash\n' });
    const out = tempDir();
    // The CLI starts in the parent of the tree; -C names the tree relatively.
    const result = await runCli(['-C', basename(cwd), '--exec', 'cat {rel}', '-o', out], {
      cwd: dirname(cwd),
    });
    expect(result.code).toBe(0);
    expect(readTree(out)).toEqual(readTree(cwd));
    // And from somewhere unrelated, with an absolute --cwd.
    const out2 = tempDir();
    const elsewhere = await runCli(['-C', cwd, '--exec', 'cat {rel}', '-o', out2], { cwd: tempDir() });
    expect(elsewhere.code).toBe(0);
    expect(readTree(out2)).toEqual(readTree(cwd));
  });

  it('`pwd` in the command prints --cwd', async () => {
    const cwd = writeTree({ 'a.txt': 'a', 'deep/b.txt': 'b' });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '--exec', 'pwd', '-o', out], { cwd: tempDir() });
    expect(result.code).toBe(0);
    const real = realpathSync(cwd);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe(`${real}\n`);
    expect(readFileSync(join(out, 'deep/b.txt'), 'utf8')).toBe(`${real}\n`);
  });
});

describe('SIGTERM and SIGHUP stop a run like Ctrl-C', () => {
  /** Starts a run of 16 files whose --exec children sleep; resolves once 4 children run. */
  async function startSleeping() {
    const cwd = writeTree(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const out = tempDir();
    const marker = `4${Math.floor(Math.random() * 1e6)}`;
    const child = spawn(
      process.execPath,
      [bin, '-C', cwd, '--exec', `sleep ${marker}; cat`, '-j', '4', '-o', out],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const closed = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stderr })),
    );
    for (let i = 0; i < 150 && pgrep(`^sleep ${marker}`).length < 4; i += 1) await sleep(20);
    expect(pgrep(`^sleep ${marker}`)).toHaveLength(4);
    return { child, closed, marker, out };
  }

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('%s: children ended, no temp file, summary printed, exit %i', async (signal, code) => {
    const { child, closed, marker, out } = await startSleeping();
    child.kill(signal);
    const result = await closed;
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(`globpipe: ${signal}: stopping`);
    expect(result.stderr).toMatch(/globpipe: interrupted: 16 matched, 0 written/);
    for (let i = 0; i < 50 && pgrep(marker).length > 0; i += 1) await sleep(20);
    expect(pgrep(marker)).toEqual([]);
    expect(readTree(out).size).toBe(0);
    expect(tempFiles(out)).toEqual([]);
  });

  it('a second signal quits at once, with its own code', async () => {
    // A buffer transform cannot be cancelled: with 5 s per file, the first stop would wait.
    const dir = tempDir();
    const slow = join(dir, 'slow.mjs');
    const started = join(dir, 'started');
    writeFileSync(
      slow,
      `import { appendFileSync } from 'node:fs';\nexport default { name: 'slow', async buffer(c) { appendFileSync(${JSON.stringify(started)}, '.'); await new Promise((r) => setTimeout(r, 5000)); return c; } };\n`,
    );
    const cwd = writeTree(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const out = tempDir();
    const child = spawn(process.execPath, [bin, '-C', cwd, '-t', slow, '-j', '4', '-o', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; i < 250 && !existsSync(started); i += 1) await sleep(20);
    child.kill('SIGTERM');
    await sleep(100);
    const sent = Date.now();
    child.kill('SIGHUP');
    expect(await closed).toBe(129);
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(stderr).toContain('globpipe: SIGTERM: stopping');
    expect(stderr).toContain('globpipe: aborted');
    expect(readTree(out).size).toBe(0);
    expect(tempFiles(out)).toEqual([]);
  });

  it("a signal after the summary ends the wait for slow children with the run's own code", async () => {
    // Children that ignore SIGTERM outlive the run's end by up to 1 s (then SIGKILL).
    const cwd = writeTree(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const marker = `5${Math.floor(Math.random() * 1e6)}`;
    const child = spawn(
      process.execPath,
      [bin, '-C', cwd, '--exec', `trap '' TERM; sleep ${marker}; cat`, '-j', '4', '-o', tempDir()],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    for (let i = 0; i < 150 && pgrep(`^sleep ${marker}`).length < 4; i += 1) await sleep(20);
    child.kill('SIGINT');
    for (let i = 0; i < 300 && !stderr.includes('globpipe: interrupted:'); i += 1) await sleep(10);
    expect(stderr).toContain('globpipe: interrupted:');
    child.kill('SIGHUP');
    expect(await closed).toEqual({ code: 130, signal: null });
    for (let i = 0; i < 50 && pgrep(marker).length > 0; i += 1) await sleep(20);
    expect(pgrep(marker)).toEqual([]);
  });
});

describe('a file name cannot forge output', () => {
  const forged = 'a\nglobpipe: 0 matched, 0 failed';
  const red = 'red\x1b[31mX';
  /** Two hostile names that fail to gunzip, one good file. */
  function hostileTree(): string {
    return writeTree({ [forged]: 'not gzip', [red]: 'not gzip either', 'ok.txt.gz': gzipSync('ok\n') });
  }

  it('the summary: one line per failure, names escaped, the real summary line alone', async () => {
    const result = await runCli(['-C', hostileTree(), '-t', 'gunzip', '-o', tempDir()]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    // The failures as they happened (in no set order), the summary line last.
    expect([...lines.slice(0, 2).sort(), lines[2]]).toEqual([
      expect.stringMatching(/^ {2}failed: a\\nglobpipe: 0 matched, 0 failed: gunzip: [^\\]+$/),
      expect.stringMatching(/^ {2}failed: red\\033\[31mX: gunzip: [^\\]+$/),
      expect.stringMatching(/^globpipe: 3 matched, 1 written, 0 skipped, 2 failed \|/),
    ]);
    expect(result.stderr).not.toContain('\x1b');
  });

  it('--quiet: exactly one line per failure', async () => {
    const result = await runCli(['-C', hostileTree(), '-t', 'gunzip', '-o', tempDir(), '-q']);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.startsWith('  failed: '))).toBe(true);
    expect(result.stderr).not.toContain('\x1b');
  });

  it('an --exec failure whose stderr repeats the name is escaped too', async () => {
    const result = await runCli(['-C', hostileTree(), '--exec', 'cat -- {rel} >&2; exit 3', '-o', tempDir()]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.filter((line) => line.startsWith('globpipe:'))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('  failed: '))).toHaveLength(3);
    expect(lines).toHaveLength(4);
    expect(result.stderr).not.toContain('\x1b');
  });

  it('--dry-run: one escaped `input -> output` line per file', async () => {
    const out = tempDir();
    const result = await runCli(['-C', hostileTree(), '-t', 'gzip', '-o', out, '--dry-run']);
    expect(result.code).toBe(0);
    // ok.txt.gz is compressed already: a gzip run skips it (plan/matching.ts), so it has no line.
    expect(result.stdout.trimEnd().split('\n').sort()).toEqual(
      [
        `a\\nglobpipe: 0 matched, 0 failed -> ${out}/a\\nglobpipe: 0 matched, 0 failed.gz`,
        `red\\033[31mX -> ${out}/red\\033[31mX.gz`,
      ].sort(),
    );
  });

  it('a usage error naming a hostile file is escaped', async () => {
    const cwd = writeTree({ [forged]: 'x' });
    const result = await runCli(['-C', cwd, '-o', cwd]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('a\\nglobpipe: 0 matched, 0 failed');
  });

  it('--json stays exact: the names come back byte for byte', async () => {
    const result = await runCli(['-C', hostileTree(), '-t', 'gunzip', '-o', tempDir(), '--json']);
    expect(result.code).toBe(1);
    const events = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; input?: string });
    expect(events).toHaveLength(4);
    expect(
      events
        .filter((e) => e.type === 'file')
        .map((e) => e.input)
        .sort(),
    ).toEqual([forged, 'ok.txt.gz', red].sort());
  });

  it.runIf(spawnSync('script', ['--version']).status === 0)(
    'in a terminal with a progress bar, dry-run lines are escaped',
    () => {
      const out = tempDir();
      const command = `${quote(process.execPath)} ${quote(bin)} -C ${quote(hostileTree())} -o ${quote(out)} --dry-run --progress`;
      const screen = execFileSync('script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, COLUMNS: '120' },
      });
      expect(screen).toContain('a\\nglobpipe: 0 matched, 0 failed -> ');
      expect(screen).toContain('red\\033[31mX -> ');
      expect(screen).not.toContain('\x1b[31m');
    },
  );
});

describe('a closed stdout or stderr never changes the outcome', () => {
  /** 200 gzipped files, and with `bad`, one that is not gzip. */
  function gzTree(bad: boolean): { cwd: string; expected: Map<string, Buffer> } {
    const files: Record<string, Buffer> = {};
    const expected = new Map<string, Buffer>();
    for (let i = 0; i < 200; i += 1) {
      const content = Buffer.from(`file ${i}\n`.repeat(i + 1));
      files[`d${i % 5}/f${i}.txt.gz`] = gzipSync(content);
      expected.set(`d${i % 5}/f${i}.txt`, content);
    }
    if (bad) files['bad.txt.gz'] = Buffer.from('not gzip');
    return { cwd: writeTree(files), expected };
  }

  /** Runs the CLI with both its stdout and stderr pipes closed by the reader at once. */
  function runClosed(args: string[]): Promise<{ code: number | null; signal: string | null }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      child.stderr.destroy();
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
  }

  it.each([
    [false, 0],
    [true, 1],
  ])('readers gone at once (one failing file: %s): outputs complete, exit %i', async (bad, code) => {
    const { cwd, expected } = gzTree(bad);
    for (const extra of [[], ['--json'], ['-q'], ['--progress']]) {
      const out = tempDir();
      const result = await runClosed(['-C', cwd, '-t', 'gunzip', '-o', out, ...extra]);
      expect({ extra, ...result }).toEqual({ extra, code, signal: null });
      expect(readTree(out)).toEqual(expected);
    }
  });

  it.each([
    [false, 0],
    [true, 1],
  ])('`globpipe --json 2>&1 | head -c 1` (one failing file: %s): outputs complete, exit %i', (bad, code) => {
    const { cwd, expected } = gzTree(bad);
    const out = tempDir();
    const rc = join(tempDir(), 'rc');
    const command = `{ ${quote(process.execPath)} ${quote(bin)} -C ${quote(cwd)} -t gunzip -o ${quote(out)} --json -j 1; echo $? > ${quote(rc)}; } 2>&1 | head -c 1`;
    const shown = execFileSync('sh', ['-c', command], { encoding: 'utf8' });
    expect(shown).toBe('{');
    expect(readFileSync(rc, 'utf8').trim()).toBe(String(code));
    expect(readTree(out)).toEqual(expected);
  });

  it('stderr alone closed: the summary is lost, the run is not', async () => {
    const { cwd, expected } = gzTree(false);
    const out = tempDir();
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, '-C', cwd, '-t', 'gunzip', '-o', out, '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr.destroy();
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    const last = JSON.parse(result.stdout.trimEnd().split('\n').at(-1) as string) as { written: number };
    expect(last.written).toBe(200);
    expect(readTree(out)).toEqual(expected);
  });

  it('interrupted with both readers gone: still 143, every output complete, no temp file', async () => {
    const slow = join(tempDir(), 'slow.mjs');
    writeFileSync(
      slow,
      "export default { name: 'slow', async buffer(c) { await new Promise((r) => setTimeout(r, 20)); return Buffer.concat([c, Buffer.from('!')]); } };\n",
    );
    const cwd = writeTree(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const out = tempDir();
    const child = spawn(process.execPath, [bin, '-C', cwd, '-t', slow, '-j', '4', '-o', out, '--progress'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    child.stderr.destroy();
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Stop it once it has written a few outputs (readTree sees only final paths, never temps).
    for (let i = 0; i < 250 && readTree(out).size < 5; i += 1) await sleep(20);
    child.kill('SIGTERM');
    expect(await closed).toBe(143);
    const written = readTree(out);
    expect(written.size).toBeGreaterThan(0);
    expect(written.size).toBeLessThan(300);
    for (const [path, content] of written) expect(content.toString()).toBe(`${path.slice(1, -4)}\n!`);
    expect(tempFiles(out)).toEqual([]);
  });
});
