import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, tempDir, writeTree } from '../helpers.js';

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

describe('--incremental --delete-stale, an input replaced by a symlink (not followed)', () => {
  it('is gone as a file: its output is removed, the link reported skipped', async () => {
    const src = writeTree({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const work = tempDir();
    writeFileSync(join(work, 'elsewhere.txt'), 'elsewhere\n');
    const out = join(work, 'out');
    const base = ['-C', src, '**/*', '-o', out, '--incremental', join(work, 'm.json'), '--delete-stale'];
    expect((await globpipe(base)).code).toBe(0);
    rmSync(join(src, 'a.txt'));
    symlinkSync(join(work, 'elsewhere.txt'), join(src, 'a.txt'));
    const second = await globpipe(base);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('symbolic link');
    // out/a.txt still held the old file's bytes, beside an input that no longer has them.
    expect([...readTree(out).keys()]).toEqual(['b.txt']);
  });
});
