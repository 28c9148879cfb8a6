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
});
