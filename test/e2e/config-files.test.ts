import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copied, decoded, project, SITE } from '../config-project.js';
import { readTree, root, runCli, writeTree } from '../helpers.js';

describe('config file formats', () => {
  it('JSON: globpipe.config.json in the current directory', async () => {
    const dir = project({ 'globpipe.config.json': JSON.stringify({ cwd: 'site', out: 'out' }) });
    const result = await runCli([], { cwd: dir });
    expect(result.stderr).toMatch(/^globpipe: 2 matched, 2 written, 0 skipped, 0 failed/);
    expect(result.code).toBe(0);
    expect(readTree(join(dir, 'out'))).toEqual(copied());
  });

  it('ESM: found from a subdirectory, upward; its paths stay relative to the file', async () => {
    const dir = project({
      'globpipe.config.mjs':
        "export default { cwd: 'site', out: 'out', transforms: ['gzip'], level: 9, minSize: 0, minRatio: Infinity };\n",
      'deep/er/keep.txt': 'not an input\n',
    });
    const result = await runCli([], { cwd: join(dir, 'deep', 'er') });
    expect(result.code).toBe(0);
    expect(decoded(join(dir, 'out'))).toEqual(
      new Map([
        ['a.css.gz', SITE['site/a.css']],
        ['sub/b.html.gz', SITE['site/sub/b.html']],
      ]),
    );
    expect(readTree(join(dir, 'deep'))).toEqual(new Map([['er/keep.txt', Buffer.from('not an input\n')]]));
  });

  it('CJS: module.exports in globpipe.config.cjs', async () => {
    const dir = project({ 'globpipe.config.cjs': "module.exports = { cwd: 'site', out: 'out' };\n" });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(0);
    expect(readTree(join(dir, 'out'))).toEqual(copied());
  });

  it('TypeScript: types, and defineConfig imported from globpipe, with no build step', async () => {
    const dir = project({
      'globpipe.config.ts': [
        "import { defineConfig, type UserConfig } from 'globpipe';",
        '',
        'const level: number = 5;',
        'interface Extra { readonly unused?: string }',
        "const shared = { cwd: 'site', out: 'out' } satisfies UserConfig & Extra;",
        "export default defineConfig({ ...shared, pipelines: { gz: { transforms: 'gzip', level, minSize: 0, minRatio: Infinity } } });",
        '',
      ].join('\n'),
    });
    // The project resolves `globpipe` as an installed package would: node_modules/globpipe.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'globpipe'), 'dir');
    const result = await runCli([], { cwd: dir });
    expect(result.stderr).toMatch(/^globpipe: gz: 2 matched, 2 written/m);
    expect(result.code).toBe(0);
    expect(decoded(join(dir, 'out'))).toEqual(
      new Map([
        ['a.css.gz', SITE['site/a.css']],
        ['sub/b.html.gz', SITE['site/sub/b.html']],
      ]),
    );
  });

  it('package.json: the "globpipe" key', async () => {
    const dir = project({
      'package.json': JSON.stringify({ name: 'p', private: true, globpipe: { cwd: 'site', out: 'dist' } }),
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(0);
    expect(readTree(join(dir, 'dist'))).toEqual(copied());
  });

  it('a config file wins over the package.json key in the same directory', async () => {
    const dir = project({
      'package.json': JSON.stringify({ name: 'p', globpipe: { cwd: 'site', out: 'from-package' } }),
      'globpipe.config.json': JSON.stringify({ cwd: 'site', out: 'from-config' }),
    });
    expect((await runCli([], { cwd: dir })).code).toBe(0);
    expect(readTree(join(dir, 'from-config'))).toEqual(copied());
    expect(readTree(dir).has('from-package/a.css')).toBe(false);
  });

  it('--config wins over a config found by the search, and its paths are relative to it', async () => {
    const dir = project({
      'globpipe.config.json': JSON.stringify({ cwd: 'site', out: 'found' }),
      'configs/release.mjs': "export default { cwd: '../site', out: '../release' };\n",
    });
    const result = await runCli(['--config', 'configs/release.mjs'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(readTree(join(dir, 'release'))).toEqual(copied());
    expect(readTree(dir).has('found/a.css')).toBe(false);
  });

  it('paths relative to the file when run from another directory: cwd, out, a transform module', async () => {
    const dir = project({
      'tools/globpipe.config.mjs':
        "export default { cwd: '../site', out: '../upper', transforms: ['./upper.mjs'] };\n",
      'tools/upper.mjs':
        "export default { name: 'upper', buffer: (content) => content.toString().toUpperCase() };\n",
    });
    const elsewhere = writeTree({ 'x.txt': 'not an input\n' });
    const result = await runCli(['--config', join(dir, 'tools', 'globpipe.config.mjs')], { cwd: elsewhere });
    expect(result.code).toBe(0);
    expect(decoded(join(dir, 'upper'))).toEqual(
      new Map([
        ['a.css', SITE['site/a.css'].toUpperCase()],
        ['sub/b.html', SITE['site/sub/b.html'].toUpperCase()],
      ]),
    );
    expect([...readTree(elsewhere).keys()]).toEqual(['x.txt']);
  });
});

describe('bad configs: exit 2, the file and the key named, nothing written', () => {
  async function refused(files: Record<string, string>, args: string[] = []) {
    const dir = project(files);
    const result = await runCli(args, { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const written = [...readTree(dir).keys()].filter((path) => !path.startsWith('site/'));
    expect(written).toEqual(Object.keys(files).sort());
    return result.stderr;
  }

  it.each([
    [
      'an unknown key',
      { 'globpipe.config.mjs': "export default { cwd: 'site', out: 'out', concurency: 4 };\n" },
      'globpipe: globpipe.config.mjs: Unknown option `concurency`: did you mean `concurrency`?\n',
    ],
    [
      'an unknown key in a pipeline',
      { 'globpipe.config.json': '{"cwd":"site","out":"out","pipelines":{"images":{"levle":9}}}' },
      'globpipe: globpipe.config.json: Unknown option `pipelines.images.levle`: did you mean `pipelines.images.level`?\n',
    ],
    [
      'an unknown key in package.json',
      { 'package.json': '{"name":"p","globpipe":{"cwd":"site","out":"out","dryrun":true}}' },
      'globpipe: package.json: Unknown option `globpipe.dryrun`: did you mean `globpipe.dryRun`?\n',
    ],
    [
      'a value of the wrong type, in a pipeline',
      {
        'globpipe.config.mjs':
          "export default { cwd: 'site', out: 'out', pipelines: { images: { transforms: 'gzip', level: '9' } } };\n",
      },
      'globpipe: globpipe.config.mjs: Expected `pipelines.images.level` to be a number, got `9` (string)\n',
    ],
    [
      'a value out of range for the transform (level 12 with gzip)',
      {
        'globpipe.config.mjs':
          "export default { cwd: 'site', out: 'out', pipelines: { ok: {}, images: { transforms: 'gzip', level: 12 } } };\n",
      },
      'globpipe: globpipe.config.mjs: `pipelines.images.level` 12 is out of range: gzip levels are 1–9\n',
    ],
    [
      'an unknown transform',
      { 'globpipe.config.json': '{"cwd":"site","out":"out","transforms":["gzp"]}' },
      /^globpipe: globpipe\.config\.json: `transforms`: Unknown transform `gzp`: did you mean `gzip`\?/,
    ],
    [
      'a syntax error',
      { 'globpipe.config.mjs': "export default { cwd: 'site', out: 'out',\n" },
      /^globpipe: globpipe\.config\.mjs: cannot load: SyntaxError: /,
    ],
    [
      'a syntax error in JSON',
      { 'globpipe.config.json': '{"cwd": "site",}' },
      /^globpipe: globpipe\.config\.json: cannot load: SyntaxError: /,
    ],
    [
      'a config that throws',
      { 'globpipe.config.mjs': "throw new Error('no config today');\n" },
      'globpipe: globpipe.config.mjs: cannot load: Error: no config today\n',
    ],
    [
      'a default export that is not an object',
      { 'globpipe.config.mjs': 'export default 42;\n' },
      'globpipe: globpipe.config.mjs: expected the default export to be an object of options, got `42` (number)\n',
    ],
    [
      'module.exports that is not an object',
      { 'globpipe.config.cjs': "module.exports = ['site'];\n" },
      'globpipe: globpipe.config.cjs: expected the default export to be an object of options, got `["site"]` (array)\n',
    ],
    [
      'no default export',
      { 'globpipe.config.mjs': "export const cwd = 'site';\n" },
      /^globpipe: globpipe\.config\.mjs: has no default export/,
    ],
    [
      'a pipelines key that is not an object',
      { 'globpipe.config.json': '{"cwd":"site","out":"out","pipelines":["a"]}' },
      'globpipe: globpipe.config.json: Expected `pipelines` to be an object of named pipelines, got `["a"]` (array)\n',
    ],
  ])('%s', async (_what, files, message) => {
    const stderr = await refused(files);
    if (typeof message === 'string') expect(stderr).toBe(message);
    else expect(stderr).toMatch(message);
  });

  it('a --config path that does not exist', async () => {
    const stderr = await refused({}, ['--config', 'nope.mjs']);
    expect(stderr).toMatch(/^globpipe: Config file `nope\.mjs` not found \(looked at .*nope\.mjs\)\n$/);
  });

  it('a bad config found upward is named by its path from the current directory', async () => {
    const dir = project({ 'globpipe.config.json': '{"cwd":"site","out":"out","concurrency":0}' });
    const result = await runCli([], { cwd: join(dir, 'site', 'sub') });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'globpipe: ../../globpipe.config.json: Expected `concurrency` to be an integer from 1 to 100000, got `0` (number)\n',
    );
  });

  it('a flag in the error is named as a flag, and then the file is not blamed', async () => {
    const dir = project({ 'globpipe.config.json': '{"cwd":"site","out":"out","transforms":"gzip"}' });
    const result = await runCli(['--level', '12'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('globpipe: --level 12 is out of range: gzip levels are 1–9\n');
  });
});
