import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readTree, tempDir } from '../helpers.js';
import { READY, startWatch, until, watchingUnreadable } from '../watch-cli.js';

describe('--watch, cases from outside', () => {
  it('a file that could not be read is processed once it is made readable (chmod alone)', async () => {
    const { cwd, out, w } = await watchingUnreadable();
    chmodSync(join(cwd, 'secret.txt'), 0o644);
    await until(
      'the file, once readable',
      () => readTree(out).get('secret.txt')?.toString() === 'hidden\n',
      w,
    );
    expect([...readTree(out).keys()]).toEqual(['a.txt', 'secret.txt']);
    w.child.kill('SIGINT');
    expect((await w.done).code).toBe(130);
  }, 60_000);

  it('--delete-stale with --delete-original is refused before anything is written, as without --watch', async () => {
    const cwd = tempDir();
    const out = join(tempDir(), 'out');
    const text = 'keep me\n'.repeat(300);
    writeFileSync(join(cwd, 'a.js'), text);
    // Each input removed once written would be, to the watch, an input gone: its outputs removed too.
    const w = startWatch(['-C', cwd, '-t', 'gzip', '-o', out, '--delete-stale', '--delete-original']);
    await until('the exit, or the watch ready', () => w.child.exitCode !== null || READY.test(w.stderr()), w);
    if (w.child.exitCode === null) {
      writeFileSync(join(cwd, 'b.js'), text);
      await sleep(2000);
      w.child.kill('SIGINT');
    }
    const { code } = await w.done;
    expect(w.stderr()).toContain('--delete-original');
    expect(code).toBe(2);
    expect(readTree(cwd).get('a.js')?.toString()).toBe(text);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('--delete-original: the inputs it removes are no change to the watch, and outputs stay', async () => {
    const cwd = tempDir();
    const out = join(tempDir(), 'out');
    const text = 'keep me\n'.repeat(300);
    writeFileSync(join(cwd, 'a.js'), text);
    const w = startWatch(['-C', cwd, '-t', 'gzip', '-o', out, '--delete-original']);
    await until('the first run', () => READY.test(w.stderr()), w);
    writeFileSync(join(cwd, 'b.js'), text);
    await until('b.js written', () => /^globpipe: \d+ changed: 1 written/m.test(w.stderr()), w);
    // Its own removals come back as events: they must start nothing (and suggest nothing).
    await sleep(1500);
    w.child.kill('SIGINT');
    expect((await w.done).code).toBe(130);
    expect(w.stderr()).not.toContain('input gone');
    expect([...readTree(out).keys()]).toEqual(['a.js.gz', 'b.js.gz']);
    expect([...readTree(cwd).keys()]).toEqual([]);
  }, 60_000);

  it('--follow-symlinks: symlink loops made while watching are not followed round (as the run does not), and the watch goes on', async () => {
    const cwd = tempDir();
    const out = join(tempDir(), 'out');
    writeFileSync(join(cwd, 'x.txt'), 'one\n');
    const w = startWatch(['-C', cwd, '-o', out, '--follow-symlinks']);
    await until('the first run', () => READY.test(w.stderr()), w);
    mkdirSync(join(cwd, 'd'));
    symlinkSync('..', join(cwd, 'd', 'up'));
    symlinkSync('../d', join(cwd, 'd', 'self'));
    writeFileSync(join(cwd, 'd', 'y.txt'), 'two\n');
    await until('d/y.txt', () => readTree(out).get('d/y.txt')?.toString() === 'two\n', w);
    writeFileSync(join(cwd, 'x.txt'), 'one, edited\n');
    await until('x.txt again', () => readTree(out).get('x.txt')?.toString() === 'one, edited\n', w);
    w.child.kill('SIGINT');
    expect((await w.done).code).toBe(130);
    // What a run makes of the same tree: the loops are reported, not walked.
    expect([...readTree(out).keys()]).toEqual(['d/y.txt', 'x.txt']);
  }, 60_000);

  it('--delete-stale: an input replaced by a symlink (not followed) is gone, its output removed', async () => {
    const cwd = tempDir();
    const out = join(tempDir(), 'out');
    const elsewhere = join(tempDir(), 'elsewhere.txt');
    writeFileSync(elsewhere, 'elsewhere\n');
    writeFileSync(join(cwd, 'a.txt'), 'alpha\n');
    writeFileSync(join(cwd, 'b.txt'), 'bravo\n');
    const w = startWatch(['-C', cwd, '-o', out, '--delete-stale']);
    await until('the first run', () => READY.test(w.stderr()), w);
    rmSync(join(cwd, 'a.txt'));
    symlinkSync(elsewhere, join(cwd, 'a.txt'));
    await until('out/a.txt removed', () => !readTree(out).has('a.txt'), w);
    w.child.kill('SIGINT');
    expect((await w.done).code).toBe(130);
    expect([...readTree(out).keys()]).toEqual(['b.txt']);
  }, 60_000);
});
