import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compressionSettings, DEFAULT_MIN_RATIO, DEFAULT_MIN_SIZE } from '../../src/options/compression.js';
import { compressedSkip } from '../../src/plan/matching.js';
import type { OutputTarget } from '../../src/plan/outputs.js';
import { dropByRatio, tooSmall } from '../../src/run/keep.js';
import { brotliParams, builtin } from '../../src/transforms/builtins.js';
import { resolveStages } from '../../src/transforms/resolve.js';
import { brotliModeOf, notWorthCompressing, typeOf } from '../../src/transforms/web-types.js';
import { testSettings } from '../settings.js';

// The module object the built-ins call through (builtins.ts loads it with require): spies on it see their calls.
const zlib = createRequire(import.meta.url)('node:zlib') as typeof Zlib;

const gzip = builtin('gzip', {});
const brotli = builtin('brotli', {});
const copy = builtin('copy', {});
const hasZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

describe('which types are worth compressing (mime-types + compressible)', () => {
  it.each(['.png', '.jpg', '.gif', '.webp', '.avif', '.woff', '.woff2', '.zip', '.mp4', '.mp3', '.pdf'])(
    '%s is not',
    (ext) => {
      expect(notWorthCompressing(ext)).toMatch(/^not worth compressing \([a-z]+\/[-+.\w]+\)$/);
    },
  );

  it.each(['.gz', '.br', '.zst', '.GZ'])('%s is our own output: already compressed', (ext) => {
    expect(notWorthCompressing(ext)).toBe(`already compressed (${ext})`);
  });

  it.each([
    '.html',
    '.css',
    '.js',
    '.mjs',
    '.json',
    '.map',
    '.svg',
    '.xml',
    '.txt',
    '.ttf',
    '.otf',
    '.wasm',
    '.ico',
  ])('%s is', (ext) => {
    expect(notWorthCompressing(ext)).toBeUndefined();
  });

  it('an extension with no known type is compressed (minRatio drops it if that did not pay)', () => {
    expect(typeOf('a.nosuchtype')).toBeUndefined();
    expect(notWorthCompressing('.nosuchtype')).toBeUndefined();
  });
});

describe('brotli mode by type', () => {
  it.each([
    ['fonts/a.woff2', 'font'],
    ['a.ttf', 'font'],
    ['a.otf', 'font'],
    ['a.eot', 'font'],
    ['a.html', 'text'],
    ['a.css', 'text'],
    ['a.js', 'text'],
    ['a.json', 'text'],
    ['a.svg', 'text'],
    ['a.xml', 'text'],
    ['a.webmanifest', 'text'],
    ['a.wasm', 'generic'],
    ['a.png', 'generic'],
    ['LICENSE', 'generic'],
  ])('%s: %s', (path, mode) => {
    expect(brotliModeOf(path)).toBe(mode);
  });

  it('the params hold the mode, the quality and the size hint', () => {
    const { BROTLI_PARAM_MODE, BROTLI_PARAM_QUALITY, BROTLI_PARAM_SIZE_HINT } = zlib.constants;
    const params = (path: string) => brotliParams(5, 1234, path).params as Record<number, number>;
    expect(params('a.woff')[BROTLI_PARAM_MODE]).toBe(zlib.constants.BROTLI_MODE_FONT);
    expect(params('a.css')[BROTLI_PARAM_MODE]).toBe(zlib.constants.BROTLI_MODE_TEXT);
    expect(params('a.bin')[BROTLI_PARAM_MODE]).toBe(zlib.constants.BROTLI_MODE_GENERIC);
    expect(params('a.css')[BROTLI_PARAM_QUALITY]).toBe(5);
    expect(params('a.css')[BROTLI_PARAM_SIZE_HINT]).toBe(1234);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('the brotli transform hands zlib the mode of the file it compresses', async () => {
    const spy = vi.spyOn(zlib, 'brotliCompress');
    const file = { path: 'f/a.ttf', absolutePath: '/x/f/a.ttf', size: 3, mtime: new Date(0) };
    const out = await brotli.buffer?.(Buffer.from('abc'), file);
    expect(zlib.brotliDecompressSync(out as Buffer).toString()).toBe('abc');
    const [, options] = spy.mock.calls[0] as unknown as [Buffer, Zlib.BrotliOptions];
    const { params } = options;
    expect((params as Record<number, number>)[zlib.constants.BROTLI_PARAM_MODE]).toBe(
      zlib.constants.BROTLI_MODE_FONT,
    );
  });
});

describe('compressedSkip: one place decides, by type', () => {
  const skip = (patterns: string[], extra: Partial<Parameters<typeof testSettings>[0]> = {}) =>
    compressedSkip(testSettings({ stages: [[gzip, brotli]], patterns, ...extra }));

  it('skips png and woff2 with the type and how to select them', () => {
    const reason = skip(['**/*']);
    expect(reason?.('img/a.png')).toBe(
      'not worth compressing (image/png); a pattern ending in .png selects it (`allTypes`: every type)',
    );
    expect(reason?.('f/a.WOFF2')).toMatch(
      /^not worth compressing \(font\/woff2\); a pattern ending in \.WOFF2/,
    );
    expect(reason?.('a.css')).toBeUndefined();
    expect(reason?.('LICENSE')).toBeUndefined();
    expect(reason?.('a.unknownext')).toBeUndefined();
  });

  it('a pattern ending in .png selects png files (only those it matches)', () => {
    const reason = skip(['**/*', 'keep/*.png']);
    expect(reason?.('keep/a.png')).toBeUndefined();
    expect(reason?.('other/a.png')).toMatch(/^not worth compressing/);
    expect(skip(['**/*.{css,png}'])?.('a.png')).toBeUndefined();
  });

  it('allTypes takes every type, but never our own .gz/.br/.zst', () => {
    const reason = skip(['**/*'], { allTypes: true });
    expect(reason?.('a.png')).toBeUndefined();
    expect(reason?.('a.woff2')).toBeUndefined();
    expect(reason?.('a.css.gz')).toBe('already compressed (.gz); a pattern ending in .gz selects it');
    expect(reason?.('a.css.zst')).toBe('already compressed (.zst); a pattern ending in .zst selects it');
  });

  it('names --all-types on the command line', () => {
    expect(skip(['**/*'], { naming: 'flag' })?.('a.jpg')).toMatch(/\(--all-types: every type\)$/);
  });

  it('a run without a compressor skips nothing', () => {
    expect(compressedSkip(testSettings({ stages: [[copy]] }))).toBeUndefined();
  });
});

describe('what is kept: min-size and min-ratio', () => {
  const target = (chain: OutputTarget['chain']): OutputTarget => ({
    chain,
    relative: 'a.js.gz',
    absolute: '/o/a.js.gz',
  });
  const settings = testSettings({ minRatio: 0.8, minSize: 1024, naming: 'flag' });

  it('tooSmall: below minSize, with a reason the summary groups', () => {
    expect(tooSmall(1023, settings)).toBe('smaller than 1024 bytes (--min-size)');
    expect(tooSmall(1024, settings)).toBeUndefined();
    expect(tooSmall(0, testSettings())).toBeUndefined();
  });

  it('dropByRatio: a compressor output above the ratio is dropped; at it, kept', () => {
    expect(dropByRatio(target([gzip]), 1000, 800, settings)).toBeUndefined();
    expect(dropByRatio(target([gzip]), 1000, 801, settings)).toEqual({
      output: 'a.js.gz',
      reason: 'output/input above --min-ratio 0.8',
      ratio: 0.801,
    });
    expect(dropByRatio(target([gzip]), 100, 120, settings)?.ratio).toBe(1.2);
    expect(dropByRatio(target([gzip]), 0, 20, settings)?.ratio).toBe(Number.POSITIVE_INFINITY);
  });

  it('outputs of chains without a compressor, and runs without minRatio, are never dropped', () => {
    expect(dropByRatio(target([copy]), 100, 500, settings)).toBeUndefined();
    expect(dropByRatio(target([gzip]), 100, 500, testSettings({ minRatio: undefined }))).toBeUndefined();
    expect(
      dropByRatio(target([gzip]), 100, 500, testSettings({ minRatio: Number.POSITIVE_INFINITY })),
    ).toBeUndefined();
  });
});

describe('compression settings', () => {
  it('defaults: 1 KiB and 0.8 with a compressor; 0 and none without', () => {
    expect(compressionSettings({}, [[gzip]])).toEqual({
      minSize: DEFAULT_MIN_SIZE,
      minRatio: DEFAULT_MIN_RATIO,
      allTypes: false,
      deleteOriginal: false,
    });
    expect(DEFAULT_MIN_SIZE).toBe(1024);
    expect(DEFAULT_MIN_RATIO).toBe(0.8);
    expect(compressionSettings({}, [[copy]])).toMatchObject({ minSize: 0, minRatio: undefined });
    expect(compressionSettings({ minSize: 10 }, [[copy]])).toMatchObject({ minSize: 10 });
    // A fan-out with a copy wants the copy of every file: no floor, but the ratio for the compressed ones.
    expect(compressionSettings({}, [[gzip, copy]])).toMatchObject({ minSize: 0, minRatio: 0.8 });
    expect(compressionSettings({}, [[copy], [gzip, brotli]])).toMatchObject({ minSize: 1024 });
  });

  it.each([
    [{ minRatio: 0.5 }, [[copy]], /`minRatio` is an option of the compressors/],
    [{ allTypes: true }, [[copy]], /`allTypes` is an option of the compressors/],
    [{ minRatio: 0 }, [[gzip]], /Expected `minRatio` to be a ratio > 0/],
    [{ minSize: -1 }, [[gzip]], /Expected `minSize` to be a number of bytes >= 0/],
    [{ minSize: 1.5 }, [[gzip]], /Expected `minSize`/],
    [
      { deleteOriginal: true, inPlace: true },
      [[gzip]],
      /`deleteOriginal` removes each input .* `inPlace` writes each output over its input/,
    ],
    [{ deleteOriginal: true, discard: true }, [[gzip]], /`discard` writes no output/],
  ] as const)('%j is a usage error', (options, stages, message) => {
    expect(() => compressionSettings(options, stages as never)).toThrow(message);
  });
});

describe('precompress and zstd', () => {
  it('precompress is gzip and brotli fanned out from one read, at 9 and 11', async () => {
    const spyGzip = vi.spyOn(zlib, 'gzip');
    const [stage] = await resolveStages('precompress', {});
    expect(stage?.map((t) => t.name)).toEqual(['gzip', 'brotli']);
    const file = { path: 'a.css', absolutePath: '/a.css', size: 3, mtime: new Date(0) };
    await stage?.[0]?.buffer?.(Buffer.from('a{}'), file);
    expect((spyGzip.mock.calls[0]?.[1] as Zlib.ZlibOptions | undefined)?.level).toBe(9);
    const brotliSpy = vi.spyOn(zlib, 'brotliCompress');
    await stage?.[1]?.buffer?.(Buffer.from('a{}'), file);
    const params = (brotliSpy.mock.calls[0]?.[1] as Zlib.BrotliOptions | undefined)?.params as Record<
      number,
      number
    >;
    expect(params[zlib.constants.BROTLI_PARAM_QUALITY]).toBe(11);
    const [leveled] = await resolveStages([['precompress']], { level: 4 });
    await leveled?.[0]?.buffer?.(Buffer.from('a{}'), file);
    expect((spyGzip.mock.calls[1]?.[1] as Zlib.ZlibOptions | undefined)?.level).toBe(4);
  });

  it.skipIf(hasZstd)('zstd is a known name that needs a newer Node (this one has no zlib zstd)', () => {
    expect(() => builtin('zstd', {})).toThrow(
      `\`zstd\` needs Node 22.15 or later (this is ${process.version}): its zlib has no zstd`,
    );
  });

  it.skipIf(!hasZstd)(
    'zstd compresses where zlib has it (Node 22.15 or later; skipped on this Node)',
    async () => {
      const zstd = builtin('zstd', { level: 19 });
      const file = { path: 'a.txt', absolutePath: '/a.txt', size: 3, mtime: new Date(0) };
      const out = (await zstd.buffer?.(Buffer.from('abc'.repeat(100)), file)) as Buffer;
      const decompress = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer })
        .zstdDecompressSync;
      expect(decompress(out).toString()).toBe('abc'.repeat(100));
      expect(zstd.rename?.('a.txt')).toBe('a.txt.zst');
    },
  );
});
