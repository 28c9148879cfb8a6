import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTree } from '../helpers.js';

/** Runs the CLI (no cache dir from the environment): exit code and stderr. */
async function globpipe(args: readonly string[]) {
  const { code, stderr } = await runCli(args, { env: { CACHE_DIR: '' } });
  return { code, stderr };
}

describe('--incremental, a manifest path taken by a directory', () => {
  it('is a usage error naming the path before anything is written, not a notice after the run', async () => {
    const src = writeTree({ 'a.txt': 'alpha\n' });
    const work = tempDir();
    const manifest = join(work, 'manifest.json');
    mkdirSync(manifest);
    const out = join(work, 'out');
    const result = await globpipe(['-C', src, '**/*', '-o', out, '--incremental', manifest]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--incremental');
    expect(result.stderr).toContain(manifest);
    expect(result.stderr).toContain('is a directory');
    expect(existsSync(out)).toBe(false);
  });
});
