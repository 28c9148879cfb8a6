import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, site, tempDir, writeTree } from '../helpers.js';
import { parse, webRoot } from '../web-fixture.js';

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
    // Off a terminal, one line: the counts with short reasons.
    const brief = await runCli(['-C', cwd, '-t', 'precompress', '-o', tempDir()]);
    expect(brief.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^globpipe: 8 matched, 4 written, 4 skipped \(2 not worth compressing, 1 smaller than 1 KiB, 1 compressing saves too little\), 0 failed, 2 outputs dropped \| /,
      ),
    ]);
    // And each with its reason, with --verbose.
    const text = await runCli(['-C', cwd, '-t', 'precompress', '-o', tempDir(), '--verbose']);
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
    const rerun = await runCli([...args, '--verbose']);
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
