import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepAll, readTree, runCli, tempDir, writeTree } from '../helpers.js';

const tree = writeTree;

/** Exit 2, the message, and not one byte written anywhere. */
async function expectRefused(args: string[], message: RegExp | string, untouched: string[]) {
  const before = untouched.map((dir) => (existsSync(dir) ? readTree(dir) : undefined));
  const result = await runCli(args);
  expect(result.code, result.stderr).toBe(2);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(result.stdout).toBe('');
  untouched.forEach((dir, i) => {
    expect(existsSync(dir) ? readTree(dir) : undefined).toEqual(before[i]);
  });
}

describe('planning errors: exit 2, nothing written', () => {
  it('two inputs mapping to one output after --ext', async () => {
    const cwd = tree({ 'docs/a.md': 'a', 'docs/a.txt': 'b', 'docs/b.md': 'c' });
    const out = join(tempDir(), 'out');
    await expectRefused(
      ['-C', cwd, '--ext', '.html', '-o', out],
      '`docs/a.md` and `docs/a.txt` would both be written to `docs/a.html`',
      [cwd],
    );
    expect(existsSync(out)).toBe(false);
  });

  it('two fan-out branches writing one output', async () => {
    const cwd = tree({ 'a.js': 'x' });
    const out = join(tempDir(), 'out');
    await expectRefused(
      ['-C', cwd, '-t', 'gzip,brotli', '--ext', '.z', '-o', out],
      'Two transforms of `a.js` write the same output `a.js.z`',
      [cwd],
    );
    expect(existsSync(out)).toBe(false);
  });

  it('gunzip of a.gz next to an input a', async () => {
    const cwd = tree({ 'a.txt': 'plain', 'a.txt.gz': 'not really' });
    await expectRefused(
      ['-C', cwd, '-t', 'gunzip', '-o', cwd],
      /Output of `a\.txt(\.gz)?` would overwrite the input/,
      [cwd],
    );
  });

  it('an output path escaping --out: a pattern above --cwd, or a rename that climbs out', async () => {
    const parent = tempDir();
    const cwd = join(parent, 'src');
    mkdirSync(cwd);
    writeFileSync(join(parent, 'outside.txt'), 'o');
    writeFileSync(join(cwd, 'in.txt'), 'i');
    const out = join(parent, 'out');
    await expectRefused(['-C', cwd, '../*.txt', '-o', out], 'Pattern `../*.txt` reaches outside cwd', [
      parent,
    ]);
    const climber = join(tempDir(), 'climb.mjs');
    writeFileSync(
      climber,
      "export default { name: 'climb', rename: (p) => '../../' + p, buffer: (c) => c };\n",
    );
    await expectRefused(
      ['-C', cwd, '-t', climber, '-o', out],
      /Output `\.\.\/\.\.\/in\.txt` of `in\.txt` escapes the output directory/,
      [parent],
    );
    expect(existsSync(out)).toBe(false);
  });

  it('--in-place together with --out', async () => {
    const cwd = tree({ 'a.txt': 'a' });
    await expectRefused(
      ['-C', cwd, '--in-place', '-o', tempDir()],
      '--in-place and --out exclude each other',
      [cwd],
    );
  });

  it('an output over its input without --in-place: same directory, through `..`, through a symlink', async () => {
    const cwd = tree({ 'a.txt': 'a', 'sub/b.txt': 'b' });
    await expectRefused(
      ['-C', cwd, '-o', cwd],
      'Output of `a.txt` would overwrite the input itself; use --in-place',
      [cwd],
    );
    await expectRefused(['-C', cwd, '-o', join(cwd, 'sub', '..')], 'would overwrite the input itself', [cwd]);
    const link = join(tempDir(), 'link-to-cwd');
    symlinkSync(cwd, link);
    await expectRefused(['-C', cwd, '-o', link], /Output of `(a|sub\/b)\.txt` would overwrite the input/, [
      cwd,
    ]);
  });

  it('a symlinked directory inside --out that leads into the inputs: those files are refused, never written', async () => {
    const cwd = tree({ 'a.txt': 'a', 'sub/b.txt': 'b' });
    const out = tempDir();
    symlinkSync(join(cwd, 'sub'), join(out, 'sub'));
    const transform = join(tempDir(), 'upper.mjs');
    writeFileSync(transform, "export default { name: 'upper', buffer: (c) => String(c).toUpperCase() };\n");
    // Found only when the run reaches that directory (planning does not walk --out), so it is a file failure:
    // no symlink under --out is ever followed.
    const result = await runCli(['-C', cwd, '-t', transform, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /failed: sub\/b\.txt: cannot write \/.*\/sub: it is a symbolic link, which globpipe never follows under its output directory/,
    );
    expect(readTree(cwd)).toEqual(
      new Map([
        ['a.txt', Buffer.from('a')],
        ['sub/b.txt', Buffer.from('b')],
      ]),
    );
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'sub']);
  });

  it('a journal from an interrupted in-place run, without --resume', async () => {
    const cwd = tree({ 'a.txt': 'a', '.globpipe-journal.jsonl': '{"globpipe":1,"transforms":"copy"}\n' });
    await expectRefused(
      ['-C', cwd, '--in-place'],
      /An interrupted in-place run left its journal `.*\.globpipe-journal\.jsonl`: rerun with --resume/,
      [cwd],
    );
  });
});

describe('error policy', () => {
  const corrupt = Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [
      `f${String(i).padStart(2, '0')}.txt.gz`,
      i % 3 === 1 ? 'not gzip' : '',
    ]),
  );

  it('by default every file is tried and every failure counted: the first 10 listed, then all by cause', async () => {
    const cwd = tree(corrupt);
    const result = await runCli(['-C', cwd, '-t', 'gunzip', '-o', tempDir(), '-j', '1']);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.slice(0, 10)).toEqual(
      Array.from({ length: 10 }, () => expect.stringMatching(/^ {2}failed: f\d\d\.txt\.gz: gunzip: /)),
    );
    expect(lines.slice(10, -1)).toEqual([
      '  (more than 10 files failed: the rest are counted, and all are grouped by cause at the end)',
      '  failed 20 files: gunzip: unexpected end of file (f00.txt.gz, f02.txt.gz, f03.txt.gz and 17 more)',
      '  failed 10 files: gunzip: incorrect header check (f01.txt.gz, f04.txt.gz, f07.txt.gz and 7 more)',
    ]);
    expect(lines.at(-1)).toMatch(/^globpipe: 30 matched, 0 written, 0 skipped, 30 failed \|/);
  });

  it('--fail-fast starts nothing new after the first failure; --max-errors after N', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `f${String(i).padStart(2, '0')}.txt`,
        i % 4 === 3 ? 'bad' : 'good',
      ]),
    );
    const cwd = tree(files);
    const module = join(tempDir(), 'strict.mjs');
    writeFileSync(
      module,
      "export default { name: 'strict', buffer(c) { if (String(c) === 'bad') throw new Error('bad input'); return c; } };\n",
    );
    const fast = await runCli(['-C', cwd, '-t', module, '-o', tempDir(), '-j', '1', '--fail-fast']);
    expect(fast.code).toBe(1);
    expect(fast.stderr).toMatch(/40 matched, 3 written, 0 skipped, 1 failed/);
    const three = await runCli(['-C', cwd, '-t', module, '-o', tempDir(), '-j', '1', '--max-errors', '3']);
    expect(three.code).toBe(1);
    expect(three.stderr).toMatch(/40 matched, 9 written, 0 skipped, 3 failed/);
  });
});

describe('--skip-existing with a fan-out', () => {
  it('never rewrites an output that exists: a file with only some outputs there is skipped, saying which', async () => {
    const cwd = writeTree({ 'a.txt': 'hi\n', 'b.txt': 'b\n' });
    const out = writeTree({ 'a.txt.gz': 'old' });
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'gzip,brotli',
      '-o',
      out,
      '--skip-existing',
      ...keepAll,
      '--verbose',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      '  skipped: a.txt: some outputs exist (a.txt.gz) and --skip-existing never rewrites one: remove them to write the others\n',
    );
    expect(readTree(out).get('a.txt.gz')?.toString()).toBe('old');
    expect([...readTree(out).keys()]).toEqual(['a.txt.gz', 'b.txt.br', 'b.txt.gz']);
  });
});
