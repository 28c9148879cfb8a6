import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTree } from '../helpers.js';

/** Runs the CLI (no cache dir from the environment): exit code and stderr. */
async function globpipe(args: readonly string[]) {
  const { code, stderr } = await runCli(args, { env: { CACHE_DIR: '' } });
  return { code, stderr };
}

function setup(files: Record<string, string>) {
  const src = writeTree(files);
  const work = tempDir();
  return { src, out: join(work, 'out'), manifest: join(work, 'manifest.json') };
}

const list = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

describe('--incremental --delete-stale, cases from outside', () => {
  it('removes the outputs an earlier pipeline wrote (--ext .md, then --ext .html) once the input goes', async () => {
    const { src, out, manifest } = setup({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const base = ['-C', src, '**/*.txt', '-o', out, '--incremental', manifest, '--delete-stale'];
    expect((await globpipe([...base, '--ext', '.md'])).code).toBe(0);
    expect((await globpipe([...base, '--ext', '.html'])).code).toBe(0);
    expect(list(out)).toEqual(['a.html', 'a.md', 'b.html', 'b.md']);
    rmSync(join(src, 'a.txt'));
    const third = await globpipe([...base, '--ext', '.html']);
    expect(third.code).toBe(0);
    expect(list(out)).toEqual(['b.html', 'b.md']);
  });

  it('removes the outputs of an input that failed on its last run once it goes', async () => {
    const { src, out, manifest } = setup({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const base = ['-C', src, '**/*.txt', '-o', out, '--incremental', manifest, '--delete-stale'];
    expect((await globpipe(base)).code).toBe(0);
    // The command fails on a.txt's new content: a.txt fails, its old output stays.
    const exec = ['--exec', 'grep -q bad && exit 3 || echo ok'];
    writeFileSync(join(src, 'a.txt'), 'bad bad\n');
    const failed = await globpipe([...base, ...exec]);
    expect(failed.code).toBe(1);
    expect(list(out)).toEqual(['a.txt', 'b.txt']);
    rmSync(join(src, 'a.txt'));
    const after = await globpipe([...base, ...exec]);
    expect(after.code).toBe(0);
    expect(list(out)).toEqual(['b.txt']);
  });

  it('an input replaced by a directory of the same name is gone: its output is removed, the next run writes the new files', async () => {
    const { src, out, manifest } = setup({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const base = ['-C', src, '-o', out, '--incremental', manifest, '--delete-stale'];
    expect((await globpipe(base)).code).toBe(0);
    rmSync(join(src, 'a.txt'));
    mkdirSync(join(src, 'a.txt'));
    writeFileSync(join(src, 'a.txt', 'x'), 'inner\n');
    // a.txt/x cannot be written while the stale a.txt is there; the end of the run removes it.
    await globpipe(base);
    expect(existsSync(join(out, 'a.txt'))).toBe(false);
    const next = await globpipe(base);
    expect(next.code).toBe(0);
    expect(list(out)).toEqual(['a.txt', 'a.txt/x', 'b.txt']);
  });
});

describe('--incremental --delete-original, cases from outside', () => {
  it('an input put back with the same bytes is processed and removed again, not skipped as unchanged', async () => {
    const { src, manifest } = setup({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const args = ['-C', src, '*.txt', '-t', 'gzip', '--min-size', '0', '--min-ratio', 'Infinity'];
    const base = [...args, '-o', src, '--incremental', manifest, '--delete-original'];
    expect((await globpipe(base)).code).toBe(0);
    expect(list(src)).toEqual(['a.txt.gz', 'b.txt.gz']);
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    const again = await globpipe(base);
    expect(again.code).toBe(0);
    expect(list(src)).toEqual(['a.txt.gz', 'b.txt.gz']);
  });
});

describe('--incremental, a manifest that cannot be saved', () => {
  it('is a usage error before anything is written, not an internal error after the run', async () => {
    const { src, out } = setup({ 'a.txt': 'alpha\n' });
    const work = tempDir();
    writeFileSync(join(work, 'file'), '');
    const result = await globpipe(['-C', src, '-o', out, '--incremental', join(work, 'file', 'm.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--incremental cannot save its manifest');
    expect(result.stderr).not.toContain('internal error');
    expect(existsSync(out)).toBe(false);
  });
});

describe('--delete-stale, an output another input now writes', () => {
  it('is that input’s: not reported kept as changed by someone else', async () => {
    const { src, out, manifest } = setup({ 'a.js': 'js\n' });
    const base = ['-C', src, '-o', out, '--ext', '.out', '--incremental', manifest, '--delete-stale'];
    expect((await globpipe(base)).code).toBe(0);
    rmSync(join(src, 'a.js'));
    writeFileSync(join(src, 'a.ts'), 'tsx\n');
    const next = await globpipe([...base, '--verbose']);
    expect(next.code).toBe(0);
    expect(next.stderr).not.toContain('kept');
    expect(list(out)).toEqual(['a.out']);
  });
});
