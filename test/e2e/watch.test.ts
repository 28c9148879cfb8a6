import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { keepAll, readTree, runCli, tempDir } from '../helpers.js';
import { batches, READY, startWatch, until, watchingUnreadable } from '../watch-cli.js';

/** After a batch, what its own outputs would start must have shown by then. */
const QUIET_MS = 1500;

/** The inputs now: every file in `cwd` but outputs (`.gz`), dotfiles and what lies in `skip`. */
function inputs(cwd: string, skip?: string): Map<string, Buffer> {
  return new Map(
    [...readTree(cwd)].filter(
      ([path]) =>
        !path.endsWith('.gz') &&
        !path.split('/').some((part) => part.startsWith('.')) &&
        (skip === undefined || !path.startsWith(`${skip}/`)),
    ),
  );
}

function same(actual: Map<string, Buffer>, expected: Map<string, Buffer>): boolean {
  return (
    actual.size === expected.size &&
    [...expected].every(([path, content]) => actual.get(path)?.equals(content) === true)
  );
}

const configs = [
  {
    name: '-t gzip, outputs inside the tree (-o equal to -C)',
    args: (cwd: string, _out: string) => [
      '-C',
      cwd,
      '**/*',
      '-t',
      'gzip',
      ...keepAll,
      '-o',
      cwd,
      '--delete-stale',
    ],
    /** Every input, and beside each its `.gz`, which must unzip to the input's bytes. */
    matches: (cwd: string) => {
      const tree = readTree(cwd);
      const given = inputs(cwd);
      const gz = [...tree].filter(([path]) => path.endsWith('.gz'));
      return (
        gz.length === given.size &&
        gz.every(([path, content]) => given.get(path.slice(0, -3))?.equals(gunzipSync(content)) === true)
      );
    },
  },
  {
    name: 'copy into a separate out',
    args: (cwd: string, out: string) => ['-C', cwd, '**/*', '-o', out, '--delete-stale'],
    matches: (cwd: string, out: string) => same(readTree(out), inputs(cwd)),
  },
  {
    name: 'copy into an out inside the tree',
    args: (cwd: string, _out: string) => ['-C', cwd, '**/*', '-o', join(cwd, 'build'), '--delete-stale'],
    matches: (cwd: string) => same(readTree(join(cwd, 'build')), inputs(cwd, 'build')),
  },
];

describe('--watch', () => {
  it.each(configs)(
    '$name: edits, a new directory, a rename, a deletion and editors saves, each reflected in the outputs; its own outputs start nothing',
    async ({ args, matches }) => {
      const cwd = tempDir();
      const out = tempDir();
      mkdirSync(join(cwd, 'sub'));
      for (const [path, text] of [
        ['a.txt', 'alpha\n'],
        ['sub/b.txt', 'bravo\n'],
        ['c.txt', 'charlie\n'],
        ['d.txt', 'delta\n'],
        ['e.txt', 'echo x\n'],
      ])
        writeFileSync(join(cwd, path as string), text as string);
      const w = startWatch(args(cwd, out));
      await until('the first run', () => READY.test(w.stderr()), w);
      expect(w.stderr()).toMatch(/^globpipe: 5 matched, 5 written, 0 skipped, 0 failed/m);
      expect(matches(cwd, out)).toBe(true);
      const steps: [string, () => void][] = [
        ['an edit', () => writeFileSync(join(cwd, 'a.txt'), 'alpha, edited\n')],
        [
          'a file in a new directory',
          () => {
            mkdirSync(join(cwd, 'new/deep'), { recursive: true });
            writeFileSync(join(cwd, 'new/deep/n.txt'), 'november\n');
          },
        ],
        ['a rename', () => renameSync(join(cwd, 'sub/b.txt'), join(cwd, 'sub/b2.txt'))],
        ['a deletion', () => unlinkSync(join(cwd, 'c.txt'))],
        [
          'an atomic save (a temp renamed over the file)',
          () => {
            writeFileSync(join(cwd, '.d.txt.tmp-4242'), 'delta, saved atomically\n');
            renameSync(join(cwd, '.d.txt.tmp-4242'), join(cwd, 'd.txt'));
          },
        ],
        [
          "vim's save (the file renamed to a backup, written anew, the backup removed)",
          () => {
            renameSync(join(cwd, 'a.txt'), join(cwd, 'a.txt~'));
            writeFileSync(join(cwd, 'a.txt'), 'alpha, from vim\n');
            unlinkSync(join(cwd, 'a.txt~'));
          },
        ],
        ['sed -i', () => execFileSync('sed', ['-i', 's/x/xray/', join(cwd, 'e.txt')])],
      ];
      for (const [what, step] of steps) {
        const before = batches(w);
        step();
        await until(`the outputs after ${what}`, () => batches(w) > before && matches(cwd, out), w);
        // Its own outputs (and their temps) are written by now: none of them may start a batch.
        const after = batches(w);
        await sleep(QUIET_MS);
        expect(batches(w), `no batch after the one for ${what}:\n${w.stderr()}`).toBe(after);
        expect(matches(cwd, out), what).toBe(true);
      }
      expect(w.stderr()).toMatch(/^globpipe: 1 changed: 1 removed \| /m);
      expect(w.stderr()).toMatch(/^globpipe: 2 changed: 1 written, 1 removed \| /m);
      w.child.kill('SIGINT');
      expect((await w.done).code).toBe(130);
      expect(readTree(cwd).size + readTree(out).size).toBeGreaterThan(0);
      expect(
        [...readTree(cwd).keys(), ...readTree(out).keys()].filter((p) => p.includes('globpipe-tmp')),
      ).toEqual([]);
    },
    120_000,
  );

  it('reports a file it cannot read and goes on watching', async () => {
    const { cwd, out, w } = await watchingUnreadable();
    expect(w.stderr()).toContain('failed: secret.txt: cannot read secret.txt: EACCES: permission denied');
    writeFileSync(join(cwd, 'ok.txt'), 'still watching\n');
    await until('the next file', () => readTree(out).get('ok.txt')?.toString() === 'still watching\n', w);
    expect([...readTree(out).keys()]).toEqual(['a.txt', 'ok.txt']);
    w.child.kill('SIGTERM');
    expect((await w.done).code).toBe(143);
  }, 60_000);

  it('SIGINT during a batch: the batch is aborted, no temp file is left, exit 130', async () => {
    const cwd = tempDir();
    const out = tempDir();
    const slow = join(tempDir(), 'slow.mjs');
    writeFileSync(
      slow,
      "export default { name: 'slow', async buffer(c) { await new Promise((r) => setTimeout(r, 300)); return Buffer.concat([c, Buffer.from('!')]); } };\n",
    );
    writeFileSync(join(cwd, 'first.txt'), 'first\n');
    const w = startWatch(['-C', cwd, '-t', slow, '-j', '4', '-o', out]);
    await until('the first run', () => READY.test(w.stderr()), w);
    const files = new Map<string, string>();
    for (let i = 0; i < 60; i += 1) files.set(`f${i}.txt`, `file ${i}\n`.repeat(i + 1));
    for (const [path, text] of files) writeFileSync(join(cwd, path), text);
    // Interrupted once the batch has written some files, long before its end (60 x 300 ms / 4).
    await until('the batch under way', () => readTree(out).size > 3, w);
    w.child.kill('SIGINT');
    const { code } = await w.done;
    expect(code).toBe(130);
    expect(w.stderr()).toMatch(/^globpipe: interrupted: \d+ changed: /m);
    const written = readTree(out);
    expect(written.size).toBeLessThan(files.size + 1);
    expect(readdirSync(out).filter((name) => name.includes('globpipe-tmp'))).toEqual([]);
    for (const [path, content] of written) {
      const input = path === 'first.txt' ? 'first\n' : files.get(path);
      expect(content.toString(), path).toBe(`${input}!`);
    }
    rmSync(out, { recursive: true, force: true });
  }, 60_000);

  it('refuses what a watch cannot honour, before writing anything: --manifest, and shards cut from the whole list', async () => {
    const cwd = tempDir();
    const out = join(tempDir(), 'out');
    writeFileSync(join(cwd, 'a.txt'), 'alpha\n');
    const manifest = await runCli(['-C', cwd, '-o', out, '--watch', '--manifest', join(out, '..', 'm.json')]);
    expect(manifest.code).toBe(2);
    expect(manifest.stderr).toContain(
      'globpipe: --manifest records one run, and a watch runs once per batch',
    );
    for (const strategy of ['balanced', 'size']) {
      const sharded = await runCli([
        '-C',
        cwd,
        '-o',
        out,
        '--watch',
        '--shard',
        '1/2',
        '--shard-strategy',
        strategy,
      ]);
      expect(sharded.code).toBe(2);
      expect(sharded.stderr).toContain(`globpipe: --shard-strategy ${strategy} splits the whole tree's list`);
    }
    expect(readdirSync(join(out, '..'))).toEqual([]);
  });
});
