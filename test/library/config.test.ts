import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defineConfig,
  GlobpipeError,
  type LoadConfigOptions,
  loadConfig,
  run,
  type UserConfig,
} from '../../src/index.js';
import { readTree, writeTree } from '../helpers.js';

describe('defineConfig', () => {
  it('returns its argument; its type takes run() options a file can hold, and pipelines', () => {
    const config = { cwd: 'dist', out: 'dist', pipelines: { gz: { transforms: ['gzip'], level: 9 } } };
    expect(defineConfig(config)).toBe(config);
    // @ts-expect-error a signal belongs to the process that runs, not to a file
    defineConfig({ signal: new AbortController().signal });
    // @ts-expect-error so does a callback
    defineConfig({ onEvent: () => {} });
    // @ts-expect-error a misspelt key
    defineConfig({ concurency: 2 });
    // @ts-expect-error options inside a pipeline are typed too
    defineConfig({ pipelines: { gz: { level: '9' } } });
    const typed: UserConfig = { dryRun: true };
    expect(typed.dryRun).toBe(true);
  });
});

describe('loadConfig', () => {
  it("resolves each pipeline to run() options, paths from the file's directory, and run() runs them", async () => {
    const dir = writeTree({
      'site/a.txt': 'alpha\n',
      'site/b.md': '# beta\n',
      'globpipe.config.mjs':
        "export default { cwd: 'site', pipelines: { text: { patterns: '*.txt', out: 'text' }, all: { out: 'all' } } };\n",
      'sub/x': '',
    });
    const loaded = await loadConfig({ cwd: join(dir, 'sub') });
    expect(loaded.file).toBe(join(dir, 'globpipe.config.mjs'));
    expect(loaded.pipelines).toEqual([
      { name: 'text', options: { cwd: join(dir, 'site'), patterns: '*.txt', out: join(dir, 'text') } },
      { name: 'all', options: { cwd: join(dir, 'site'), out: join(dir, 'all') } },
    ]);
    for (const pipeline of loaded.pipelines) expect((await run(pipeline.options)).failed).toBe(0);
    expect([...readTree(join(dir, 'text')).keys()]).toEqual(['a.txt']);
    expect([...readTree(join(dir, 'all')).keys()]).toEqual(['a.txt', 'b.md']);
  });

  it('configFile, pipelines and overrides (paths relative to cwd) as the CLI has them', async () => {
    const dir = writeTree({
      'conf/g.json': JSON.stringify({ cwd: '../site', out: '../o', pipelines: { a: { dot: true }, b: {} } }),
    });
    const loaded = await loadConfig({
      cwd: dir,
      configFile: 'conf/g.json',
      pipelines: ['b'],
      overrides: { out: 'elsewhere', dryRun: true },
    });
    expect(loaded.pipelines).toEqual([
      { name: 'b', options: { cwd: join(dir, 'site'), out: join(dir, 'elsewhere'), dryRun: true } },
    ]);
  });

  it('no config file: no file, and the overrides alone', async () => {
    const dir = writeTree({ 'a.txt': 'a' });
    expect(await loadConfig({ cwd: dir, overrides: { out: 'o' } })).toEqual({
      file: undefined,
      pipelines: [{ name: undefined, options: { out: join(dir, 'o') } }],
    });
  });

  it('errors name the key as run() does, and the file', async () => {
    const dir = writeTree({ 'globpipe.config.json': '{"out":"o","transforms":"gzip","level":3}' });
    await expect(loadConfig({ cwd: dir, overrides: { level: 11 } })).rejects.toThrow(
      new GlobpipeError('EUSAGE', '`level` 11 is out of range: gzip levels are 1–9'),
    );
    await expect(loadConfig({ cwd: dir, overrides: { dryrun: true } as never })).rejects.toThrow(
      'Unknown option `dryrun`: did you mean `dryRun`?',
    );
    await expect(loadConfig({ cwd: dir, config: 'x' } as LoadConfigOptions)).rejects.toThrow(
      'Unknown option `config`: did you mean `configFile`?',
    );
    await expect(loadConfig({ cwd: dir, pipelines: ['x'] })).rejects.toThrow(
      '`pipelines` picks a pipeline, and globpipe.config.json defines no `pipelines`',
    );
  });
});
