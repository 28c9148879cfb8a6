import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from '../config-project.js';
import { runCli } from '../helpers.js';

describe('config files, as an outside user writes them', () => {
  it('an `incremental` manifest path is relative to the config file, as `cwd` and `out` are', async () => {
    const dir = project({
      'globpipe.config.mjs': "export default { cwd: 'site', out: 'out', incremental: '.globpipe.json' };\n",
    });
    mkdirSync(join(dir, 'deep'));
    const result = await runCli([], { cwd: join(dir, 'deep') });
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, '.globpipe.json'))).toBe(true);
    expect(existsSync(join(dir, 'deep', '.globpipe.json'))).toBe(false);
    // The rerun from elsewhere finds the same manifest: nothing changed, nothing written.
    const again = await runCli([], { cwd: dir });
    expect(again.stderr).toMatch(/^globpipe: 2 matched, 0 written, 2 skipped/m);
  });

  it("a pipeline's `cwd` that does not exist: exit 2 naming the file and the key, before any pipeline writes", async () => {
    const dir = project({
      'globpipe.config.mjs':
        "export default { out: 'out', pipelines: { one: { cwd: 'site' }, two: { cwd: 'nope' } } };\n",
    });
    const result = await runCli([], { cwd: dir });
    expect(result.stderr).toBe(
      `globpipe: globpipe.config.mjs: \`pipelines.two.cwd\` \`${join(dir, 'nope')}\` does not exist\n`,
    );
    expect(result.code).toBe(2);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('--config naming a directory says so, exit 2', async () => {
    const dir = project({
      'conf/globpipe.config.mjs': "export default { cwd: '../site', out: '../out' };\n",
    });
    const result = await runCli(['--config', 'conf'], { cwd: dir });
    expect([result.code, result.stderr]).toEqual([
      2,
      'globpipe: Config file `conf` is a directory: name the file in it (conf/globpipe.config.mjs, …)\n',
    ]);
  });

  it('an option only the command line has (quiet, json, watch) is named as its flag, exit 2', async () => {
    for (const [key, flag] of [
      ['quiet', '--quiet'],
      ['json', '--json'],
      ['watch', '--watch'],
    ]) {
      const dir = project({
        'globpipe.config.mjs': `export default { cwd: 'site', out: 'out', pipelines: { a: { ${key}: true } } };\n`,
      });
      const result = await runCli([], { cwd: dir });
      expect([result.code, result.stderr]).toEqual([
        2,
        `globpipe: globpipe.config.mjs: \`pipelines.a.${key}\` cannot be set in a config file: it is the command's ${flag}, give it there\n`,
      ]);
    }
  });
});
