import { describe, expect, it } from 'vitest';
import { namedSummary } from '../../src/cli/config-runs.js';
import type { FoundConfig } from '../../src/config/find.js';
import { mergeLayers, resolvePaths } from '../../src/config/merge.js';
import { type Request, resolveConfig } from '../../src/config/resolve.js';
import { type CheckedConfig, checkConfig } from '../../src/config/shape.js';

const file = '/project/globpipe.config.mjs';
const fromFile = { override: false, prefix: '' } as const;
const override = { override: true } as const;

function config(
  shared: Record<string, unknown>,
  pipelines?: Record<string, Record<string, unknown>>,
): CheckedConfig {
  return {
    file,
    shown: 'globpipe.config.mjs',
    keyPrefix: '',
    shared: pipelines === undefined ? shared : { ...shared, pipelines },
    pipelines: pipelines === undefined ? undefined : Object.entries(pipelines),
  };
}

function request(fields: Partial<Request> = {}): Request {
  return { overrides: {}, naming: 'flag', from: '/project', ...fields };
}

describe('mergeLayers', () => {
  it('a later layer replaces a value, arrays included, and records where each came from', () => {
    const merged = mergeLayers([
      { options: { ignore: ['a', 'b'], dot: true, level: 5 }, origin: fromFile },
      { options: { ignore: ['c'], level: undefined }, origin: override },
    ]);
    expect(merged.options).toEqual({ ignore: ['c'], dot: true, level: 5 });
    expect(merged.origins.get('ignore')).toBe(override);
    expect(merged.origins.get('level')).toBe(fromFile);
  });

  it('an option drops the ones it excludes from the layers below, not from its own layer', () => {
    const below = { out: 'o', sequential: true, maxErrors: 3, ifNewer: true };
    const merged = mergeLayers([
      { options: below, origin: fromFile },
      { options: { inPlace: true, concurrency: 4, failFast: true, skipExisting: true }, origin: override },
    ]);
    expect(merged.options).toEqual({ inPlace: true, concurrency: 4, failFast: true, skipExisting: true });
    // `false` excludes nothing: --no-in-place keeps the file's out.
    expect(
      mergeLayers([
        { options: below, origin: fromFile },
        { options: { inPlace: false }, origin: override },
      ]).options.out,
    ).toBe('o');
    // Both in one layer stay, for normalize to name the contradiction.
    expect(mergeLayers([{ options: { out: 'o', inPlace: true }, origin: fromFile }]).options).toEqual({
      out: 'o',
      inPlace: true,
    });
  });
});

describe('resolvePaths', () => {
  it('makes cwd, out and module paths absolute from the directory; names, globs and objects stay', () => {
    const transform = { name: 'x', buffer: (b: Buffer) => b };
    const resolved = resolvePaths(
      {
        cwd: 'site',
        out: '../out',
        patterns: ['src/**'],
        ignore: ['x/**'],
        transforms: ['./a.mjs', ['gzip', 'lib/b.ts', '/abs/c.mjs'], transform, 'd.mjs'],
      },
      '/project/tools',
    );
    expect(resolved).toEqual({
      cwd: '/project/tools/site',
      out: '/project/out',
      patterns: ['src/**'],
      ignore: ['x/**'],
      transforms: [
        '/project/tools/a.mjs',
        ['gzip', '/project/tools/lib/b.ts', '/abs/c.mjs'],
        transform,
        '/project/tools/d.mjs',
      ],
    });
    expect(resolvePaths({ transforms: 'brotli', cwd: '' }, '/p')).toEqual({ transforms: 'brotli', cwd: '' });
  });
});

describe('resolveConfig', () => {
  it('cwd defaults to the file directory; pipelines override shared options; flags override both', async () => {
    const runs = await resolveConfig(
      config(
        { out: 'out', transforms: 'gzip', level: 6 },
        { a: { level: 9 }, b: { out: 'b', transforms: 'brotli', level: undefined } },
      ),
      request({ overrides: { dryRun: true } }),
    );
    expect(runs).toEqual([
      {
        name: 'a',
        options: { cwd: '/project', out: '/project/out', transforms: 'gzip', level: 9, dryRun: true },
      },
      {
        name: 'b',
        options: { cwd: '/project', out: '/project/b', transforms: 'brotli', level: 6, dryRun: true },
      },
    ]);
  });

  it('a config without pipelines is one unnamed run; without a config the overrides are the run', async () => {
    expect(await resolveConfig(config({ out: 'o' }), request({ overrides: { cwd: 'x' } }))).toEqual([
      { name: undefined, options: { cwd: 'x', out: '/project/o' } },
    ]);
    expect(await resolveConfig(undefined, request({ overrides: { out: 'o' } }))).toEqual([
      { name: undefined, options: { out: 'o' } },
    ]);
  });

  it('picks pipelines in the order asked, each once', async () => {
    const runs = await resolveConfig(
      config({ out: 'o' }, { a: {}, b: {}, c: {} }),
      request({ pipelines: ['c', 'a', 'c'] }),
    );
    expect(runs.map((run) => run.name)).toEqual(['c', 'a']);
  });

  it.each([
    [
      request({ pipelines: ['x'] }),
      undefined,
      /^--pipeline picks a pipeline of a config file, and none was found/,
    ],
    [
      request({ pipelines: ['x'], naming: 'key' }),
      config({ out: 'o' }),
      '`pipelines` picks a pipeline, and globpipe.config.mjs defines no `pipelines`',
    ],
    [
      request({ pipelines: ['image'] }),
      config({ out: 'o' }, { images: {}, fonts: {} }),
      'Unknown pipeline `image`: did you mean `images`? (globpipe.config.mjs defines `images`, `fonts`)',
    ],
  ])('names a bad pick %#', async (req, cfg, message) => {
    await expect(resolveConfig(cfg, req)).rejects.toThrow(message);
  });

  it('names each option where it was given: the file by key path, a flag as a flag', async () => {
    const cfg = config({ out: 'o', transforms: 'gzip' }, { images: { level: 12 } });
    await expect(resolveConfig(cfg, request())).rejects.toThrow(
      /^globpipe\.config\.mjs: `pipelines\.images\.level` 12 is out of range: gzip levels are 1–9$/,
    );
    await expect(resolveConfig(cfg, request({ overrides: { level: 10 } }))).rejects.toThrow(
      /^--level 10 is out of range: gzip levels are 1–9$/,
    );
    await expect(resolveConfig(cfg, request({ overrides: { level: 10 }, naming: 'key' }))).rejects.toThrow(
      /^`level` 10 is out of range/,
    );
    await expect(
      resolveConfig(config({ out: 'o', sequential: true }), request({ overrides: { concurrency: 2 } })),
    ).resolves.toHaveLength(1);
    await expect(
      resolveConfig(config({ out: 'o', sequential: true, concurrency: 2 }), request()),
    ).rejects.toThrow(
      'globpipe.config.mjs: `sequential` means concurrency 1, but `concurrency` is `2` (number)',
    );
  });
});

describe('checkConfig', () => {
  const found = (value: unknown, kind: FoundConfig['kind'] = 'module'): FoundConfig => ({
    file,
    shown: 'globpipe.config.mjs',
    keyPrefix: kind === 'package' ? 'globpipe.' : '',
    kind,
    value,
  });

  it('takes a module default export (awaited), a JSON value, the package key', async () => {
    const options = { out: 'o' };
    expect((await checkConfig(found({ default: Promise.resolve(options) }))).shared).toEqual(options);
    expect((await checkConfig(found(options, 'json'))).shared).toEqual(options);
    const checked = await checkConfig(found({ ...options, pipelines: { a: { dot: true } } }, 'package'));
    expect(checked.pipelines).toEqual([['a', { dot: true }]]);
  });

  it.each([
    [
      found({ default: { out: 'o', concurency: 2 } }),
      'globpipe.config.mjs: Unknown option `concurency`: did you mean `concurrency`?',
    ],
    [found({ default: { out: 'o', port: {} } }), 'globpipe.config.mjs: Unknown option `port`'],
    [
      found({ default: { signal: 1 } }),
      'globpipe.config.mjs: `signal` cannot be set in a config file: pass it to run()',
    ],
    [
      found({ default: { pipelines: { a: { pipelines: {} } } } }),
      'globpipe.config.mjs: Unknown option `pipelines.a.pipelines`',
    ],
    [
      found({ pipelines: { a: 3 } }, 'package'),
      'globpipe.config.mjs: Expected `globpipe.pipelines.a` to be an object of options, got `3` (number)',
    ],
    [
      found({ default: { dot: 'yes' } }),
      'globpipe.config.mjs: Expected `dot` to be a boolean, got `yes` (string)',
    ],
    [
      found({ default: null }),
      'globpipe.config.mjs: expected the default export to be an object of options, got `null`',
    ],
    [
      found([], 'json'),
      'globpipe.config.mjs: expected the file to be an object of options, got `[]` (array)',
    ],
    [found(null, 'package'), 'globpipe.config.mjs: has no "globpipe" key'],
    [found(undefined), 'globpipe.config.mjs: is empty'],
  ])('refuses %#', async (given, message) => {
    await expect(checkConfig(given)).rejects.toThrow(message);
  });
});

describe('namedSummary', () => {
  it('names the pipeline on the summary line, the last one', () => {
    const text = '  failed: a: x\nglobpipe: 1 matched, 0 written';
    expect(namedSummary(text, 'images')).toBe('  failed: a: x\nglobpipe: images: 1 matched, 0 written');
    expect(namedSummary(text, undefined)).toBe(text);
    expect(namedSummary('globpipe: 1 matched', 'a\u001b[2J')).toBe('globpipe: a\\033[2J: 1 matched');
  });
});
