import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers.js';

describe('config files, as an outside user breaks them', () => {
  it('a default export that is a promise that rejects: exit 2 naming the file and the cause, no stack', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'alpha\n');
    writeFileSync(
      join(dir, 'globpipe.config.mjs'),
      "export default (async () => { throw new TypeError('no options today'); })();\n",
    );
    const result = await runCli(['a.txt', '-o', 'out'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('globpipe.config.mjs: cannot load: TypeError: no options today');
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
