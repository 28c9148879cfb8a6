import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { faultyPort } from '../faults.js';
import { readTree, runCli, site, tempDir, writeTree } from '../helpers.js';
import { hasZstd, parse, webRoot } from '../web-fixture.js';

describe('--delete-original', () => {
  it('removes each input once all its outputs are written; keeps skipped ones and those with a dropped output', async () => {
    const cwd = webRoot();
    const out = tempDir();
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'precompress',
      '-o',
      out,
      '--delete-original',
      '--json',
      '--fsync',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { files, summary } = parse(result.stdout);
    expect([...readTree(cwd).keys()].sort()).toEqual([
      'data/random.bin',
      'fonts/a.woff2',
      'img/photo.png',
      'js/tiny.js',
    ]);
    expect(files.get('css/site.css')?.original).toEqual({ deleted: true });
    expect(summary.originalsDeleted).toBe(4);
    // What was deleted is in the outputs, whole.
    expect(zlib.gunzipSync(readTree(out).get('css/site.css.gz') as Buffer).toString()).toBe(
      'body { color: red; margin: 0 auto; }\n'.repeat(100),
    );
  });

  it('keeps an input one of whose outputs was dropped, and says why', async () => {
    const cwd = writeTree({ 'app.js': readFileSync(join(site, 'js/data.js')) });
    const probe = tempDir();
    await runCli(['-C', cwd, '-t', 'precompress', '-o', probe, '--min-ratio', 'Infinity']);
    const size = readFileSync(join(cwd, 'app.js')).length;
    const gz = readFileSync(join(probe, 'app.js.gz')).length / size;
    const br = readFileSync(join(probe, 'app.js.br')).length / size;
    const ratio = ((gz + br) / 2).toFixed(4);
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'precompress',
      '-o',
      tempDir(),
      '--min-ratio',
      ratio,
      '--delete-original',
      '--verbose',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(cwd, 'app.js'))).toBe(true);
    expect(result.stderr).toContain(
      '  kept: app.js: an output was dropped (app.js.gz): the input is its only copy\n',
    );
  });

  it.each([
    ['whole files', 'write', undefined],
    ['streamed files', 'openWriteStream', 'stream'],
  ] as const)('keeps an input whose output failed to write (%s)', async (_name, op, read) => {
    const cwd = writeTree({ 'a.css': 'a { b: c }\n'.repeat(200), 'b.css': 'b { c: d }\n'.repeat(200) });
    const out = tempDir();
    const port = faultyPort([{ op, name: /^\.?a\.css\.gz/, code: 'ENOSPC' }]);
    const summary = await run({
      cwd,
      out,
      transforms: [['gzip', 'brotli']],
      deleteOriginal: true,
      port,
      read,
    });
    expect(summary.failed).toBe(1);
    expect(summary.failures[0]?.path).toBe('a.css');
    expect(existsSync(join(cwd, 'a.css'))).toBe(true);
    expect(existsSync(join(cwd, 'b.css'))).toBe(false);
    expect(summary.originalsDeleted).toBe(1);
    expect([...readTree(out).keys()].sort()).toEqual(['b.css.br', 'b.css.gz']);
  });

  it('never in a dry run; a usage error with --in-place and with outputs over the inputs', async () => {
    const cwd = webRoot();
    const before = readTree(cwd);
    const dry = await runCli([
      '-C',
      cwd,
      '-t',
      'precompress',
      '-o',
      tempDir(),
      '--delete-original',
      '--dry-run',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(readTree(cwd)).toEqual(before);
    const inPlace = await runCli(['-C', cwd, '-t', 'gzip', '--in-place', '--delete-original']);
    expect(inPlace.code).toBe(2);
    expect(inPlace.stderr).toMatch(
      /--delete-original removes each input .* --in-place writes each output over its input/,
    );
    const over = await runCli(['-C', cwd, '-o', cwd, '--delete-original']);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/would overwrite the input itself/);
    expect(readTree(cwd)).toEqual(before);
  });

  it('a plain copy with --delete-original moves the files', async () => {
    const cwd = writeTree({ 'a.txt': 'a', 'd/b.txt': 'b' });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-o', out, '--delete-original']);
    expect(result.code, result.stderr).toBe(0);
    expect(readTree(cwd).size).toBe(0);
    expect(readTree(out)).toEqual(
      new Map([
        ['a.txt', Buffer.from('a')],
        ['d/b.txt', Buffer.from('b')],
      ]),
    );
    expect(result.stderr).toMatch(/2 originals deleted/);
  });
});

describe('-t zstd', () => {
  it.skipIf(hasZstd)(
    'on a Node without zlib zstd: exit 2, the Node it needs named (this Node has none)',
    async () => {
      const cwd = writeTree({ 'a.txt': 'a'.repeat(2000) });
      const result = await runCli(['-C', cwd, '-t', 'zstd', '-o', tempDir()]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `globpipe: \`zstd\` needs Node 22.15 or later (this is ${process.version}): its zlib has no zstd\n`,
      );
    },
  );

  it.skipIf(!hasZstd)('writes .zst that decompresses to the input (needs Node 22.15 or later)', async () => {
    const cwd = writeTree({ 'a.txt': 'a'.repeat(2000) });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', 'zstd', '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    const unzstd = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync;
    expect(unzstd(readTree(out).get('a.txt.zst') as Buffer).toString()).toBe('a'.repeat(2000));
  });
});
