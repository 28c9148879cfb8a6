import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, tempDir, writeTree } from '../helpers.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const files = { 'a1.txt': 'apple\n', 'a2.txt': 'apricot\n', 'b1.txt': 'banana\n', 'b2.txt': 'blueberry\n' };

/** Two runs over halves of one tree (`a*`, then `b*`), each with its manifest. */
async function halves() {
  const src = writeTree(files);
  const work = tempDir();
  const out = join(work, 'out');
  for (const half of ['a', 'b']) {
    const result = await runCli(['-C', src, `${half}*`, '-o', out, '--manifest', `${half}.json`], {
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
  }
  return { src, work, out };
}

const verify = (work: string, ...args: string[]) => runCli(['verify-shards', ...args], { cwd: work });

interface Manifest {
  inputs: { path: string; status: string; outputs: { path: string; size: number; sha256: string }[] }[];
  [key: string]: unknown;
}
const readManifest = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

describe('--manifest', () => {
  it('records each input with the sha256 of its output as written, and leaves no temp', async () => {
    const { src, work, out } = await halves();
    const manifest = readManifest(join(work, 'a.json'));
    expect(manifest).toMatchObject({
      format: 'globpipe-run-manifest',
      version: 1,
      cwd: src,
      out,
      patterns: ['a*'],
      ignore: [],
      transforms: [['copy']],
      shard: null,
    });
    const written = readTree(out);
    expect(manifest.inputs).toEqual(
      ['a1.txt', 'a2.txt'].map((path) => ({
        path,
        status: 'written',
        bytesIn: Buffer.byteLength(files[path as keyof typeof files]),
        bytesOut: Buffer.byteLength(files[path as keyof typeof files]),
        outputs: [{ path, size: written.get(path)?.length, sha256: sha256(written.get(path) as Buffer) }],
      })),
    );
    expect(readdirSync(work).sort()).toEqual(['a.json', 'b.json', 'out']);
  });

  it('inside --cwd is never an input of the next run', async () => {
    const src = writeTree(files);
    const out = join(tempDir(), 'out');
    for (let run = 0; run < 2; run += 1) {
      const result = await runCli(['-C', src, '-o', out, '--manifest', join(src, 'm.json')]);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(readManifest(join(src, 'm.json')).inputs.map((input) => input.path)).toEqual(Object.keys(files));
    expect((await verify(src, 'm.json')).code).toBe(0);
  });
});

describe('globpipe verify-shards', () => {
  it('passes two runs that cover the tree once, with one merged summary', async () => {
    const { work } = await halves();
    const result = await verify(work, 'a.json', 'b.json');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      'verify-shards: 2 manifests, 4 files: 4 written, 0 skipped, 0 failed | 31 B -> 31 B | complete\n',
    );
    expect(result.code).toBe(0);
  });

  it('names that are not UTF-8 are found by their bytes, as the runs found them', async () => {
    const src = tempDir();
    const names = [
      Buffer.from('caf\xe9.txt', 'latin1'),
      Buffer.from('a\xff.txt', 'latin1'),
      Buffer.from('plain.txt'),
    ];
    for (const [i, name] of names.entries())
      writeFileSync(Buffer.concat([Buffer.from(`${src}/`), name]), `file ${i}\n`);
    const work = tempDir();
    for (const shard of ['1/2', '2/2']) {
      const result = await runCli(
        ['-C', src, '-o', join(work, 'out'), '--shard', shard, '--manifest', `m${shard[0]}.json`],
        { cwd: work },
      );
      expect(result.code, result.stderr).toBe(0);
    }
    const result = await verify(work, 'm1.json', 'm2.json');
    expect(result.stdout).toMatch(
      /^verify-shards: 2 manifests \(shards 1\/2, 2\/2\), 3 files: 3 written, .* \| complete\n$/,
    );
    expect(result.code).toBe(0);
  });

  it('a file that failed in its run is not done: named, and exit 1', async () => {
    const src = writeTree({ 'a.txt': 'alpha\n' });
    execFileSync('mkfifo', [join(src, 'pipe')]);
    const work = tempDir();
    const run = await runCli(['-C', src, '-o', join(work, 'out'), '--manifest', 'm.json'], { cwd: work });
    expect(run.code).toBe(1);
    const result = await verify(work, 'm.json');
    expect(result.stdout).toContain('1 file failed in their run:\n  pipe: ');
    expect(result.stdout).toMatch(/1 written, 0 skipped, 1 failed \| .* \| 1 not done \(failed\)\n$/);
    expect(result.code).toBe(1);
  });

  it('names a file that is in no manifest (exit 1)', async () => {
    const { work } = await halves();
    const path = join(work, 'b.json');
    const manifest = readManifest(path);
    writeFileSync(
      path,
      JSON.stringify({ ...manifest, inputs: manifest.inputs.filter((i) => i.path !== 'b2.txt') }),
    );
    const result = await verify(work, 'a.json', 'b.json');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 file in the glob but in no manifest:\n  b2.txt\n');
    expect(result.stdout).toMatch(/\| 1 missing\n$/);
  });

  it('names files processed by two runs, with both manifests (exit 1)', async () => {
    const src = writeTree(files);
    const work = tempDir();
    for (const name of ['x', 'y']) {
      const result = await runCli(
        ['-C', src, '*1.txt', '-o', join(work, name), '--manifest', `${name}.json`],
        {
          cwd: work,
        },
      );
      expect(result.code, result.stderr).toBe(0);
    }
    const result = await verify(work, 'x.json', 'y.json');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '2 files processed more than once:\n  a1.txt (x.json, y.json)\n  b1.txt (x.json, y.json)\n',
    );
  });

  it('names an output edited since its run (exit 1)', async () => {
    const { work, out } = await halves();
    writeFileSync(join(out, 'b1.txt'), 'edited\n');
    const result = await verify(work, 'a.json', 'b.json');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `1 output not as written:\n  ${join(out, 'b1.txt')}: content changed (b.json)\n`,
    );
  });

  it('--json: one object with the merged figures and every problem', async () => {
    const { work, out } = await halves();
    writeFileSync(join(out, 'a2.txt'), 'edited\n');
    const result = await verify(work, 'a.json', 'b.json', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      manifests: ['a.json', 'b.json'],
      cwd: expect.any(String),
      shards: [null, null],
      missingShards: [],
      files: 4,
      written: 4,
      skipped: 0,
      failed: 0,
      outputs: 4,
      bytesIn: 31,
      bytesOut: 31,
      failures: [],
      missing: [],
      unexpected: [],
      overlaps: [],
      changed: [{ path: join(out, 'a2.txt'), manifest: 'a.json', reason: 'content changed' }],
    });
  });

  it('exits 2 naming an unreadable or malformed manifest, or manifests that disagree', async () => {
    const { work, src } = await halves();
    writeFileSync(join(work, 'bad.json'), '{"format":"something else"}');
    const malformed = await verify(work, 'a.json', 'bad.json');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/manifest bad\.json is not a globpipe run manifest/);
    const missing = await verify(work, 'a.json', 'none.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read manifest none.json (ENOENT)');
    const gzip = await runCli(
      ['-C', src, 'b*', '-t', 'gzip', '-o', join(work, 'gz'), '--manifest', 'gz.json'],
      {
        cwd: work,
      },
    );
    expect(gzip.code, gzip.stderr).toBe(0);
    const disagree = await verify(work, 'a.json', 'gz.json');
    expect(disagree.code).toBe(2);
    expect(disagree.stderr).toContain(
      'the manifests disagree on transforms: a.json has [["copy"]], gz.json has [["gzip"]]',
    );
    expect((await verify(work)).code).toBe(2);
  });
});
