import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bin, keepAll, readTree, runCli, tempDir, writeTree } from '../helpers.js';

/** Runs the CLI under GNU time: its result and its peak RSS in MB. */
function runMeasured(args: string[]): { code: number | null; stderr: string; peakMb: number } {
  const result = spawnSync('/usr/bin/time', ['-f', '__RSS__ %M', process.execPath, bin, ...args], {
    encoding: 'utf8',
  });
  const rss = /__RSS__ (\d+)/.exec(result.stderr);
  return { code: result.status, stderr: result.stderr, peakMb: Number(rss?.[1]) / 1024 };
}

const hasTime = existsSync('/usr/bin/time');

/** `bytes` zeros, as a stream of 1 MiB chunks. */
function zeros(bytes: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024);
  let left = bytes;
  return new Readable({
    read() {
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === 0 ? null : chunk.subarray(0, n));
    },
  });
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function zerosSha256(bytes: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of zeros(bytes)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function noTemps(dir: string): void {
  expect(
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((p) => p.includes('globpipe-tmp')),
  ).toEqual([]);
}

describe('bounded decompression', () => {
  const size = 768 * 1024 * 1024;

  it.skipIf(!hasTime)(
    'a small gzip that inflates to 768 MiB is decompressed exactly, at bounded memory',
    async () => {
      const cwd = tempDir();
      await pipeline(zeros(size), createGzip({ level: 9 }), createWriteStream(join(cwd, 'bomb.bin.gz')));
      await pipeline(
        Readable.from([Buffer.from('a note\n')]),
        createGzip(),
        createWriteStream(join(cwd, 'note.txt.gz')),
      );
      expect(statSync(join(cwd, 'bomb.bin.gz')).size).toBeLessThan(1024 * 1024);
      const out = tempDir();
      const run = runMeasured(['-C', cwd, '-t', 'gunzip', '-o', out, '-q']);
      expect(run.code, run.stderr).toBe(0);
      expect(statSync(join(out, 'bomb.bin')).size).toBe(size);
      expect(await sha256(join(out, 'bomb.bin'))).toBe(await zerosSha256(size));
      expect(readTree(out).get('note.txt')?.toString()).toBe('a note\n');
      expect(run.peakMb).toBeLessThan(300);
    },
  );

  it.skipIf(!hasTime)('brotli-decompress streams as well, whatever the ratio', async () => {
    const cwd = tempDir();
    const bytes = 256 * 1024 * 1024;
    await pipeline(
      zeros(bytes),
      createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }),
      createWriteStream(join(cwd, 'bomb.bin.br')),
    );
    expect(statSync(join(cwd, 'bomb.bin.br')).size).toBeLessThan(1024 * 1024);
    const out = tempDir();
    const run = runMeasured(['-C', cwd, '-t', 'brotli-decompress', '-o', out, '-q']);
    expect(run.code, run.stderr).toBe(0);
    expect(await sha256(join(out, 'bomb.bin'))).toBe(await zerosSha256(bytes));
    expect(run.peakMb).toBeLessThan(300);
  });
});

describe('whole-file transforms on huge files', () => {
  it.skipIf(!hasTime)(
    'a 3 GiB file fails before it is read, naming the file and suggesting a stream transform',
    async () => {
      const cwd = writeTree({ 'a.txt': 'small one\n' });
      const fd = openSync(join(cwd, 'huge.bin'), 'w');
      writeSync(fd, 'x', 3 * 2 ** 30 - 1); // sparse: nothing to read on disk, 3 GiB to a reader
      closeSync(fd);
      const module = join(tempDir(), 'upper.mjs');
      writeFileSync(
        module,
        "export default { name: 'upper', buffer: (c) => c.toString('latin1').toUpperCase() };\n",
      );
      const out = tempDir();
      const run = runMeasured(['-C', cwd, '-t', module, '-o', out]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /failed: huge\.bin: 3221225472 bytes \(3\.0 GiB\) is more than the whole-file transform `upper` may hold in memory \(\d+ bytes\): give it a stream\(file\) form/,
      );
      expect([...readTree(out).keys()]).toEqual(['a.txt']);
      noTemps(out);
      expect(run.peakMb).toBeLessThan(200); // never read
    },
  );
});

describe('modes and privacy', () => {
  it('every output keeps its input’s permission bits, whatever the transform', async () => {
    const cwd = writeTree({ 'private.txt': 'secret\n', 'script.sh': 'echo hi\n', 'plain.txt': 'plain\n' });
    chmodSync(join(cwd, 'private.txt'), 0o600);
    chmodSync(join(cwd, 'script.sh'), 0o750);
    chmodSync(join(cwd, 'plain.txt'), 0o644);
    const module = join(tempDir(), 'upper.mjs');
    writeFileSync(module, "export default { name: 'upper', buffer: (c) => c.toString().toUpperCase() };\n");
    for (const args of [
      ['-t', 'gzip', ...keepAll],
      ['-t', 'brotli', ...keepAll],
      ['-t', 'gzip,brotli', ...keepAll],
      ['-t', module],
      ['--exec', 'tr a-z A-Z'],
      [],
    ]) {
      const out = tempDir();
      const result = await runCli(['-C', cwd, ...args, '-o', out]);
      expect(result.code, result.stderr).toBe(0);
      for (const [name, bits] of [
        ['private.txt', 0o600],
        ['script.sh', 0o750],
        ['plain.txt', 0o644],
      ] as const) {
        const outputs = readdirSync(out).filter((file) => file.startsWith(name));
        expect(outputs.length, `${args.join(' ')}: ${name}`).toBeGreaterThan(0);
        for (const output of outputs)
          expect(statSync(join(out, output)).mode & 0o7777, `${args.join(' ')}: ${output}`).toBe(bits);
      }
    }
  });

  it('--exec {out} files are written in a directory only this process can enter', async () => {
    const cwd = writeTree({ 'secret.txt': 'secret\n' });
    chmodSync(join(cwd, 'secret.txt'), 0o600);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '--exec', 'stat -c %a "$(dirname {out})" > {out}', '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readTree(out).get('secret.txt')?.toString()).toBe('700\n');
    expect(statSync(join(out, 'secret.txt')).mode & 0o777).toBe(0o600);
  });

  it('a temp file being written is never more readable than 0600, nor than its input', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'big.log'), Buffer.alloc(9 * 1024 * 1024, 'a'), { mode: 0o644 });
    // A stream transform slow enough to catch its temp file while it is written.
    const module = join(tempDir(), 'slow.mjs');
    writeFileSync(
      module,
      `import { Transform } from 'node:stream';
export default { name: 'slow', stream: () => new Transform({ transform(chunk, _e, cb) { setTimeout(() => cb(null, chunk), 20); } }) };\n`,
    );
    const out = tempDir();
    const pending = runCli(['-C', cwd, '-t', module, '-o', out]);
    const modes = new Set<number>();
    while (modes.size === 0 || !existsSync(join(out, 'big.log'))) {
      for (const name of existsSync(out) ? readdirSync(out) : []) {
        if (name.includes('globpipe-tmp'))
          modes.add(statSync(join(out, name), { throwIfNoEntry: false })?.mode ?? 0);
      }
      if (existsSync(join(out, 'big.log'))) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await pending).code).toBe(0);
    modes.delete(0);
    // 0600 while it is written; its input's mode only once complete, just before its rename.
    const seen = [...modes].map((mode) => (mode & 0o777).toString(8));
    expect(seen).toContain('600');
    for (const mode of seen) expect(['600', '644']).toContain(mode);
    expect(statSync(join(out, 'big.log')).mode & 0o777).toBe(0o644);
  });
});

describe('sparse files', () => {
  it('a copy keeps holes: 256 MiB holding a few bytes is copied exactly with almost nothing allocated', async () => {
    const cwd = tempDir();
    const path = join(cwd, 'disk.img');
    const fd = openSync(path, 'w');
    writeSync(fd, 'start', 0);
    writeSync(fd, 'middle', 100 * 1024 * 1024 + 17);
    writeSync(fd, 'end', 2 ** 28 - 3);
    closeSync(fd);
    expect(statSync(path).blocks * 512).toBeLessThan(1024 * 1024);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    const copy = statSync(join(out, 'disk.img'));
    expect(copy.size).toBe(2 ** 28);
    expect(copy.blocks * 512).toBeLessThanOrEqual(1024 * 1024);
    expect(await sha256(join(out, 'disk.img'))).toBe(await sha256(path));
  });
});

describe('files that change while read', () => {
  it('a file appended to while it streams fails, and nothing is written for it', async () => {
    const cwd = writeTree({ 'calm.txt': 'calm\n' });
    writeFileSync(join(cwd, 'growing.log'), Buffer.alloc(9 * 1024 * 1024, 'g'));
    // The transform appends to its own input after the first chunk: what was read no longer matches.
    const module = join(tempDir(), 'grow.mjs');
    writeFileSync(
      module,
      `import { appendFileSync } from 'node:fs';
import { Transform } from 'node:stream';
export default { name: 'grow', stream: (file) => { let first = true; return new Transform({ transform(chunk, _e, cb) {
  if (first && file.path === 'growing.log') appendFileSync(file.absolutePath, 'more\\n');
  first = false; cb(null, chunk); } }); } };\n`,
    );
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', module, '-o', out, '--json']);
    expect(result.code).toBe(1);
    const failure = result.stdout
      .split('\n')
      .filter((line) => line.includes('"growing.log"') && line.includes('"type":"file"'))
      .map((line) => JSON.parse(line) as { status: string; error: { code: string; message: string } });
    expect(failure).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: {
          code: 'ECHANGED',
          message: expect.stringMatching(
            /^changed while it was read \(size 9437184 -> 9437189 bytes, modified meanwhile\)/,
          ),
        },
      }),
    ]);
    expect([...readTree(out).keys()]).toEqual(['calm.txt']);
    noTemps(out);
  });
});

describe('symlinks at the destination are never followed', () => {
  it('a symlinked directory under --out: its files fail, nothing lands where it points', async () => {
    const cwd = writeTree({ 'a.txt': 'a\n', 'sub/b.txt': 'b\n', 'sub/deep/c.txt': 'c\n' });
    const out = tempDir();
    const outside = tempDir();
    symlinkSync(outside, join(out, 'sub'));
    for (const transform of ['copy', 'gzip']) {
      const result = await runCli(['-C', cwd, '-t', transform, '-o', out]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/failed: sub\/b\.txt: cannot write \/.*\/sub: it is a symbolic link/);
      expect(result.stderr).toMatch(
        /failed: sub\/deep\/c\.txt: cannot write \/.*\/sub: it is a symbolic link/,
      );
      expect(readdirSync(outside)).toEqual([]);
    }
  });

  it('a directory swapped for a symlink while the run goes is not followed', async () => {
    const cwd = writeTree({ 'sub/a.txt': 'a\n', 'sub/z.txt': 'z\n' });
    writeFileSync(join(cwd, 'sub', 'big.bin'), Buffer.alloc(9 * 1024 * 1024, 'b'));
    const out = tempDir();
    const outside = tempDir();
    // Between its read and its write, each file finds out/sub swapped for a link to `outside`.
    const module = join(tempDir(), 'swap.mjs');
    writeFileSync(
      module,
      `import { existsSync, lstatSync, renameSync, symlinkSync } from 'node:fs';
const swap = () => {
  const sub = ${JSON.stringify(join(out, 'sub'))};
  if (existsSync(sub) && !lstatSync(sub).isSymbolicLink()) renameSync(sub, sub + '-moved');
  if (!existsSync(sub)) symlinkSync(${JSON.stringify(outside)}, sub);
};
export default { name: 'swap', buffer: (c) => { swap(); return c; } };\n`,
    );
    const result = await runCli(['-C', cwd, '-t', module, '-o', out, '-j', '1']);
    expect(result.code).toBe(1);
    expect(readdirSync(outside)).toEqual([]);
    expect(result.stderr).toMatch(/failed: sub\/a\.txt: cannot write \/.*\/sub: it is a symbolic link/);
  });

  it('an output that is a symlink to an input is replaced, never written through', async () => {
    const cwd = writeTree({ 'a.txt': 'input a\n' });
    const out = tempDir();
    symlinkSync(join(cwd, 'a.txt'), join(out, 'a.txt'));
    const module = join(tempDir(), 'upper.mjs');
    writeFileSync(module, "export default { name: 'upper', buffer: (c) => c.toString().toUpperCase() };\n");
    for (const args of [[], ['-t', module]]) {
      const result = await runCli(['-C', cwd, ...args, '-o', out]);
      expect(result.code, result.stderr).toBe(0);
      expect(readTree(cwd).get('a.txt')?.toString()).toBe('input a\n');
      expect(lstatSync(join(out, 'a.txt')).isSymbolicLink()).toBe(false);
    }
    expect(readTree(out).get('a.txt')?.toString()).toBe('INPUT A\n');
  });
});
