import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import type { FileResult, Summary } from '../../src/types.js';
import { faultyPort } from '../faults.js';
import { readTree, runCli, site, tempDir, writeTree } from '../helpers.js';

const hasZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

/** A small web root: text worth compressing, types that are not, one too small, one that does not compress. */
function webRoot(): string {
  return writeTree({
    'index.html': `<!doctype html>\n${'<p class="x">Hello, world</p>\n'.repeat(80)}`,
    'css/site.css': 'body { color: red; margin: 0 auto; }\n'.repeat(100),
    'js/app.js': readFileSync(join(site, 'js/data.js')),
    'img/logo.svg': `<svg xmlns="http://www.w3.org/2000/svg">${'<rect width="1" height="1"/>'.repeat(80)}</svg>`,
    'img/photo.png': randomBytes(4096),
    'fonts/a.woff2': randomBytes(4096),
    'js/tiny.js': 'let a = 1;\n',
    'data/random.bin': randomBytes(4096),
  });
}

function parse(stdout: string): { files: Map<string, FileResult>; summary: Summary } {
  const lines = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as FileResult & { type: string });
  const files = new Map<string, FileResult>();
  for (const line of lines) if (line.type === 'file') files.set(line.input, line);
  return { files, summary: lines.at(-1) as unknown as Summary };
}

function decompress(path: string, data: Buffer): Buffer {
  return path.endsWith('.gz') ? zlib.gunzipSync(data) : zlib.brotliDecompressSync(data);
}

const RATIO_REASON = 'compressing saves too little: output/input above --min-ratio 0.8';

describe('-t precompress: gzip and brotli with the web defaults', () => {
  it('compresses what pays, skips png, woff2 and small files, drops what does not pay, each with its reason', async () => {
    const cwd = webRoot();
    // Outputs of an earlier run for a file whose new outputs will be dropped: stale, to be removed.
    const out = writeTree({ 'data/random.bin.gz': 'old', 'data/random.bin.br': 'old' });
    const result = await runCli(['-C', cwd, '-t', 'precompress', '-o', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { files, summary } = parse(result.stdout);
    const inputs = readTree(cwd);
    const written = readTree(out);
    expect([...written.keys()].sort()).toEqual([
      'css/site.css.br',
      'css/site.css.gz',
      'img/logo.svg.br',
      'img/logo.svg.gz',
      'index.html.br',
      'index.html.gz',
      'js/app.js.br',
      'js/app.js.gz',
    ]);
    // Every output decompresses to its input, and none is above the ratio (nor larger than its input).
    for (const [path, data] of written) {
      const input = inputs.get(path.replace(/\.(gz|br)$/, '')) as Buffer;
      expect(decompress(path, data).equals(input), path).toBe(true);
      expect(data.length, path).toBeLessThanOrEqual(0.8 * input.length);
    }
    expect(files.get('img/photo.png')).toMatchObject({
      status: 'skipped',
      outputs: [],
      reason:
        'not worth compressing (image/png); a pattern ending in .png selects it (--all-types: every type)',
    });
    expect(files.get('fonts/a.woff2')?.reason).toMatch(/^not worth compressing \(font\/woff2\)/);
    expect(files.get('js/tiny.js')).toMatchObject({
      status: 'skipped',
      reason: 'smaller than 1024 bytes (--min-size)',
    });
    expect(files.get('data/random.bin')).toMatchObject({
      status: 'skipped',
      outputs: [],
      reason: RATIO_REASON,
      dropped: [
        { output: 'data/random.bin.gz', reason: 'output/input above --min-ratio 0.8' },
        { output: 'data/random.bin.br', reason: 'output/input above --min-ratio 0.8' },
      ],
    });
    for (const dropped of files.get('data/random.bin')?.dropped ?? [])
      expect(dropped.ratio).toBeGreaterThan(0.8);
    expect(files.get('css/site.css')).toMatchObject({
      status: 'written',
      outputs: ['css/site.css.gz', 'css/site.css.br'],
    });
    expect(files.get('css/site.css')?.dropped).toBeUndefined();
    // The summary: each skip with its reason, the dropped outputs counted.
    expect(summary).toMatchObject({ matched: 8, written: 4, skipped: 4, failed: 0 });
    expect(summary.skips.map((s) => [s.reason, s.count, s.paths])).toEqual(
      expect.arrayContaining([
        [files.get('img/photo.png')?.reason, 1, ['img/photo.png']],
        [files.get('fonts/a.woff2')?.reason, 1, ['fonts/a.woff2']],
        ['smaller than 1024 bytes (--min-size)', 1, ['js/tiny.js']],
        [RATIO_REASON, 1, ['data/random.bin']],
      ]),
    );
    expect(summary.dropped).toEqual([
      {
        reason: 'output/input above --min-ratio 0.8',
        count: 2,
        paths: ['data/random.bin.br', 'data/random.bin.gz'],
      },
    ]);
    // And in the text summary.
    const text = await runCli(['-C', cwd, '-t', 'precompress', '-o', tempDir()]);
    expect(text.stderr).toContain(
      '  skipped: img/photo.png: not worth compressing (image/png); a pattern ending in .png selects it (--all-types: every type)\n',
    );
    expect(text.stderr).toContain('  skipped: js/tiny.js: smaller than 1024 bytes (--min-size)\n');
    expect(text.stderr).toContain(`  skipped: data/random.bin: ${RATIO_REASON}\n`);
    expect(text.stderr).toContain(
      '  dropped 2 outputs: output/input above --min-ratio 0.8 (data/random.bin.br, data/random.bin.gz)\n',
    );
  });

  it('a pattern ending in .png selects png files; --all-types every type; --min-size sets the floor', async () => {
    const cwd = webRoot();
    const out = tempDir();
    const named = await runCli([
      '-C',
      cwd,
      '**/*',
      'img/*.png',
      '-t',
      'gzip',
      '-o',
      out,
      '--min-ratio',
      'Infinity',
    ]);
    expect(named.code, named.stderr).toBe(0);
    expect(readTree(out).has('img/photo.png.gz')).toBe(true);
    expect(readTree(out).has('fonts/a.woff2.gz')).toBe(false);
    const all = tempDir();
    const every = await runCli([
      '-C',
      cwd,
      '-t',
      'gzip',
      '-o',
      all,
      '--all-types',
      '--min-size',
      '0',
      '--min-ratio',
      'Infinity',
    ]);
    expect(every.code, every.stderr).toBe(0);
    expect([...readTree(all).keys()].filter((p) => /(png|woff2|tiny\.js)\.gz$/.test(p)).sort()).toEqual([
      'fonts/a.woff2.gz',
      'img/photo.png.gz',
      'js/tiny.js.gz',
    ]);
    const floor = await runCli([
      '-C',
      cwd,
      'css/*',
      'index.html',
      '-t',
      'gzip',
      '-o',
      tempDir(),
      '--min-size',
      '3000',
      '--json',
    ]);
    const { files } = parse(floor.stdout);
    expect(files.get('css/site.css')?.status).toBe('written'); // 3,800 bytes
    expect(files.get('index.html')?.reason).toBe('smaller than 3000 bytes (--min-size)'); // 2,416
  });

  it('a rerun over its own outputs makes no .gz.br, and writes the same bytes', async () => {
    const cwd = webRoot();
    const args = ['-C', cwd, '-t', 'precompress', '-o', cwd];
    expect((await runCli(args)).code).toBe(0);
    const after = readTree(cwd);
    const rerun = await runCli(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect([...readTree(cwd).keys()].filter((p) => /\.(gz|br)\.(gz|br)$/.test(p))).toEqual([]);
    expect(readTree(cwd)).toEqual(after);
    expect(rerun.stderr).toMatch(/^ {2}skipped 4 files: already compressed \(\.gz\)/m);
  });
});

describe.each([
  ['whole files', []],
  ['streamed files', ['--read', 'stream']],
])('min-ratio over %s', (_name, mode) => {
  it('an output dropped by ratio: its stale file from an earlier run is removed, the others are written', async () => {
    const cwd = writeTree({ 'app.js': readFileSync(join(site, 'js/data.js')) });
    const out = tempDir();
    // An earlier run kept both outputs.
    expect(
      (await runCli(['-C', cwd, '-t', 'precompress', '-o', out, '--min-ratio', 'Infinity', ...mode])).code,
    ).toBe(0);
    const earlier = readTree(out);
    const size = readTree(cwd).get('app.js')?.length as number;
    const gz = (earlier.get('app.js.gz')?.length as number) / size;
    const br = (earlier.get('app.js.br')?.length as number) / size;
    expect(br).toBeLessThan(gz);
    // A ratio between the two: gzip's output no longer pays.
    const ratio = ((gz + br) / 2).toFixed(4);
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'precompress',
      '-o',
      out,
      '--min-ratio',
      ratio,
      '--json',
      ...mode,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { files, summary } = parse(result.stdout);
    expect(files.get('app.js')).toMatchObject({
      status: 'written',
      outputs: ['app.js.br'],
      dropped: [{ output: 'app.js.gz', reason: `output/input above --min-ratio ${Number(ratio)}` }],
    });
    expect([...readTree(out).keys()]).toEqual(['app.js.br']);
    expect(readTree(out).get('app.js.br')).toEqual(earlier.get('app.js.br'));
    expect(summary.dropped).toEqual([
      { reason: `output/input above --min-ratio ${Number(ratio)}`, count: 1, paths: ['app.js.gz'] },
    ]);
  });

  it('every output dropped: the file is skipped, stale outputs removed, no temp left', async () => {
    const cwd = writeTree({ 'noise.bin': randomBytes(64 * 1024) });
    const out = writeTree({ 'noise.bin.gz': 'stale', 'noise.bin.br': 'stale', 'other.txt': 'kept' });
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'gzip,brotli',
      '--level',
      '1',
      '-o',
      out,
      '--json',
      ...mode,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(parse(result.stdout).files.get('noise.bin')?.reason).toBe(RATIO_REASON);
    expect([...readTree(out).keys()]).toEqual(['other.txt']);
  });
});

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
