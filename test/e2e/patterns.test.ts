import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, site, siteFiles, tempDir, writeTree } from '../helpers.js';

/** A copy of the site fixture, as a build's `dist` would be. */
function dist(): string {
  const dir = join(tempDir(), 'dist');
  cpSync(site, dir, { recursive: true });
  return dir;
}

/**
 * Every file compressed and every output kept: these tests are about globpipe's own outputs
 * (.gz, .br), which stay skipped whatever the type and size rules, not about those rules.
 */
const keepAll = ['--all-types', '--min-size', '0', '--min-ratio', 'Infinity'];
const compressedTwice = /\.(gz|br)\.(gz|br)$/;
const summary = (counts: string) => new RegExp(`^globpipe: ${counts} \\| .+ \\| -j \\d+$`);
const skipLine = (count: number, ext: string) =>
  new RegExp(
    `^ {2}skipped ${count} files: already compressed \\(\\.${ext}\\); a pattern ending in \\.${ext} selects it \\([^)]+ and \\d+ more\\)$`,
  );

describe('reruns over their own outputs', () => {
  it('precompress twice: the second run succeeds, skips the .gz and .br, and writes the same bytes', async () => {
    const dir = dist();
    const inputs = siteFiles().size;
    const args = ['-C', dir, '**/*', '-t', 'gzip,brotli', '-o', dir, ...keepAll];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(summary(`${inputs} matched, ${inputs} written, 0 skipped, 0 failed`)),
    ]);
    const afterFirst = readTree(dir);
    expect(afterFirst.size).toBe(readTree(site).size + 2 * inputs);

    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    // Off a terminal one line: the .gz and .br skips share their short reason.
    expect(second.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        summary(
          `${3 * inputs} matched, ${inputs} written, ${2 * inputs} skipped \\(already compressed\\), 0 failed`,
        ),
      ),
    ]);
    const verbose = await runCli([...args, '--verbose']);
    expect(verbose.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(skipLine(inputs, 'br')),
      expect.stringMatching(skipLine(inputs, 'gz')),
      expect.stringMatching(
        summary(`${3 * inputs} matched, ${inputs} written, ${2 * inputs} skipped, 0 failed`),
      ),
    ]);
    expect(readTree(dir)).toEqual(afterFirst);

    const inPlace = await runCli(['-C', dir, '**/*', '-t', 'gzip,brotli', '--in-place', ...keepAll]);
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect(readTree(dir)).toEqual(afterFirst);
    expect([...readTree(dir).keys()].filter((path) => compressedTwice.test(path))).toEqual([]);
  });

  it('--json tells each skipped file with its reason, and the summary counts them', async () => {
    const dir = writeTree({ 'a.css': 'a{}', 'a.css.gz': gzipSync('a{}') });
    const result = await runCli(['-C', dir, '-t', 'gzip', '-o', dir, '--json', '-j', '1', ...keepAll]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.input === 'a.css.gz')).toEqual({
      type: 'file',
      input: 'a.css.gz',
      ms: 0,
      outputs: [],
      status: 'skipped',
      bytesIn: 0,
      bytesOut: 0,
      reason: 'already compressed (.gz); a pattern ending in .gz selects it',
    });
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      matched: 2,
      written: 1,
      skipped: 1,
      skips: [
        {
          reason: 'already compressed (.gz); a pattern ending in .gz selects it',
          count: 1,
          paths: ['a.css.gz'],
        },
      ],
    });
    expect(readFileSync(join(dir, 'a.css.gz'))).toEqual(gzipSync('a{}'));
  });

  it('-t gzip, then -t brotli, then -t gzip again: no .gz.br, and the last run rewrites the same bytes', async () => {
    const dir = dist();
    for (const transform of ['gzip', 'brotli']) {
      const result = await runCli(['-C', dir, '-t', transform, '-o', dir, ...keepAll]);
      expect(result.code, result.stderr).toBe(0);
    }
    const after = readTree(dir);
    for (const path of siteFiles().keys()) {
      expect(after.has(`${path}.gz`), path).toBe(true);
      expect(after.has(`${path}.br`), path).toBe(true);
    }
    expect([...after.keys()].filter((path) => compressedTwice.test(path))).toEqual([]);
    const again = await runCli(['-C', dir, '-t', 'gzip', '-o', dir, ...keepAll]);
    expect(again.code, again.stderr).toBe(0);
    expect(readTree(dir)).toEqual(after);
  });

  it('a chain -t gzip -t brotli writes x.gz.br, and its rerun skips them', async () => {
    const dir = writeTree({ 'a.js': 'let a = 1;\n'.repeat(50), 'b.css': 'b{}' });
    const args = ['-C', dir, '-t', 'gzip', '-t', 'brotli', '-o', dir, ...keepAll];
    expect((await runCli(args)).code).toBe(0);
    const after = readTree(dir);
    expect([...after.keys()]).toEqual(['a.js', 'a.js.gz.br', 'b.css', 'b.css.gz.br']);
    const rerun = await runCli(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(summary('4 matched, 2 written, 2 skipped \\(already compressed\\), 0 failed')),
    ]);
    const verbose = await runCli([...args, '--verbose']);
    expect(verbose.stderr.trimEnd().split('\n')).toEqual([
      '  skipped 2 files: already compressed (.br); a pattern ending in .br selects it (a.js.gz.br, b.css.gz.br)',
      expect.stringMatching(summary('4 matched, 2 written, 2 skipped, 0 failed')),
    ]);
    expect(readTree(dir)).toEqual(after);
  });

  it('a pattern ending in .gz selects .gz files, and only those it matches', async () => {
    const dir = writeTree({ 'a.txt': 'a', 'keep/b.txt.gz': 'b', 'other/c.txt.gz': 'c' });
    const out = join(tempDir(), 'out');
    const result = await runCli([
      '-C',
      dir,
      '**/*',
      'keep/*.gz',
      '-t',
      'gzip',
      '-o',
      out,
      ...keepAll,
      '--verbose',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect([...readTree(out).keys()]).toEqual(['a.txt.gz', 'keep/b.txt.gz.gz']);
    expect(result.stderr).toMatch(/^ {2}skipped: other\/c\.txt\.gz: already compressed \(\.gz\)/m);
    const star = await runCli(['-C', join(dir, 'other'), '*.gz', '-t', 'gzip', '-o', out, ...keepAll]);
    expect(star.code, star.stderr).toBe(0);
    expect(existsSync(join(out, 'c.txt.gz.gz'))).toBe(true);
  });

  it('a copy (no compressor) takes .gz files like any other', async () => {
    const dir = writeTree({ 'a.txt.gz': 'a', 'b.br': 'b' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', dir, '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect([...readTree(out).keys()]).toEqual(['a.txt.gz', 'b.br']);
  });
});

describe('plan errors give advice that works', () => {
  it('an output over its own input: --in-place instead of --out', async () => {
    const dir = writeTree({ 'a.txt': 'a' });
    const refused = await runCli(['-C', dir, '-o', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'globpipe: Output of `a.txt` would overwrite the input itself; use --in-place instead of --out to replace inputs\n',
    );
    expect((await runCli(['-C', dir, '--in-place'])).code).toBe(0);
  });

  it('gunzip of a.txt.gz beside a.txt: leave a.txt out (not --in-place, not another --out)', async () => {
    const dir = writeTree({ 'a.txt': 'old', 'a.txt.gz': gzipSync('new') });
    const refused = await runCli(['-C', dir, '-t', 'gunzip', '-o', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'globpipe: Output of `a.txt.gz` would overwrite the input `a.txt`; leave `a.txt` out of the match (--ignore, or a narrower pattern)\n',
    );
    // What --in-place or another --out would still meet:
    expect((await runCli(['-C', dir, '-t', 'gunzip', '--in-place'])).code).toBe(2);
    expect((await runCli(['-C', dir, '-t', 'gunzip', '-o', tempDir()])).code).toBe(2);
    const followed = await runCli(['-C', dir, '-t', 'gunzip', '-o', dir, '-i', 'a.txt']);
    expect(followed.code, followed.stderr).toBe(0);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new');
  });

  it('a.gz named next to a: leave it out, or write to another --out', async () => {
    const dir = writeTree({ a: 'a', 'a.gz': 'not gzip' });
    const refused = await runCli(['-C', dir, '**/*', '**/*.gz', '-t', 'gzip', '-o', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'globpipe: Output of `a` would overwrite the input `a.gz`; leave `a.gz` out of the match (--ignore, or a narrower pattern), or write to another directory (--out)\n',
    );
    const out = tempDir();
    expect((await runCli(['-C', dir, '**/*', '**/*.gz', '-t', 'gzip', '-o', out, ...keepAll])).code).toBe(0);
    expect([...readTree(out).keys()]).toEqual(['a.gz', 'a.gz.gz']);
    expect((await runCli(['-C', dir, '**/*', '-t', 'gzip', '-o', dir])).code).toBe(0);
  });

  it('two branches on one output: leave --ext out when it made them one; separate runs otherwise', async () => {
    const dir = writeTree({ 'a.js': 'a' });
    const ext = await runCli(['-C', dir, '-t', 'gzip,brotli', '--ext', '.z', '-o', tempDir()]);
    expect(ext.code).toBe(2);
    expect(ext.stderr).toBe(
      'globpipe: Two transforms of `a.js` write the same output `a.js.z`; --ext .z gives them one name: leave --ext out\n',
    );
    expect((await runCli(['-C', dir, '-t', 'gzip,brotli', '-o', tempDir()])).code).toBe(0);
    const out = join(tempDir(), 'out');
    const copies = await runCli(['-C', dir, '-t', 'copy,copy', '-o', out]);
    expect(copies.code).toBe(2);
    expect(copies.stderr).toBe(
      'globpipe: Two transforms of `a.js` write the same output `a.js`; run them one at a time, each with its own --out\n',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('branches whose outputs meet across inputs (-t copy,gzip over a and a.gz) are refused, not written twice', async () => {
    const dir = writeTree({ a: 'a', 'a.gz': 'b' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', dir, '**/*', '**/*.gz', '-t', 'copy,gzip', '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('globpipe: `a` and `a.gz` would both be written to `a.gz`\n');
    expect(existsSync(out)).toBe(false);
  });
});

describe('absolute patterns inside --cwd', () => {
  it('"$PWD/legacy/*.txt" with -C legacy is the pattern *.txt', async () => {
    const parent = writeTree({ 'legacy/a.txt': 'a', 'legacy/b.md': 'b', 'legacy/sub/c.txt': 'c' });
    const result = await runCli(['-C', 'legacy', `${parent}/legacy/*.txt`, '-o', 'out'], { cwd: parent });
    expect(result.code, result.stderr).toBe(0);
    expect(readTree(join(parent, 'out'))).toEqual(new Map([['a.txt', Buffer.from('a')]]));
  });

  it('a cwd whose path holds glob characters, written raw or escaped', async () => {
    const base = tempDir();
    const cwd = join(base, 'build (1) [x] {y}');
    mkdirSync(join(cwd, 'sub'), { recursive: true });
    writeFileSync(join(cwd, 'sub', 'a.txt'), 'a');
    const escaped = cwd.replace(/[()[\]{}]/g, (c) => `\\${c}`);
    for (const pattern of [`${cwd}/sub/*.txt`, `${escaped}/sub/*.txt`, `${cwd}/**/*.txt`]) {
      const out = tempDir();
      const result = await runCli(['-C', cwd, pattern, '-o', out]);
      expect(result.code, `${pattern}: ${result.stderr}`).toBe(0);
      expect([...readTree(out).keys()]).toEqual(['sub/a.txt']);
    }
  });

  it('cwd through a symlink and the pattern by its real path, and the other way round', async () => {
    const real = realpathSync(writeTree({ 'a.txt': 'a', 'd/b.txt': 'b' }));
    const link = join(tempDir(), 'link');
    symlinkSync(real, link);
    for (const [cwd, pattern] of [
      [link, `${real}/**/*.txt`],
      [real, `${link}/**/*.txt`],
      [real, `${link}/d/*.txt`],
    ] as const) {
      const out = tempDir();
      const result = await runCli(['-C', cwd, pattern, '-o', out]);
      expect(result.code, `${cwd} ${pattern}: ${result.stderr}`).toBe(0);
      expect([...readTree(out).keys()]).toEqual(
        pattern.endsWith('d/*.txt') ? ['d/b.txt'] : ['a.txt', 'd/b.txt'],
      );
    }
  });

  it('a pattern that really leaves --cwd is refused, naming it, and nothing is written', async () => {
    const parent = writeTree({ 'src/a.txt': 'a', 'other/b.txt': 'b' });
    const cwd = join(parent, 'src');
    const out = join(parent, 'out');
    for (const pattern of [`${parent}/other/*.txt`, '../other/*.txt', `${cwd}/../other/*.txt`]) {
      const result = await runCli(['-C', cwd, pattern, '-o', out]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `globpipe: Pattern \`${pattern}\` reaches outside cwd \`${cwd}\`, so its outputs would escape \`${out}\`; set --cwd to a common parent instead\n`,
      );
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('patterns that match nothing', () => {
  const noMatch = (what: string, cwd: string, them = false) =>
    `globpipe: No files match ${what} in \`${cwd}\`; check ${them ? 'them' : 'it'} for typos, or pass --no-error-on-unmatched-pattern if matching nothing is fine\n`;

  it('exit 2, naming the pattern; nothing written', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', cwd, '**/*.nomatch', '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(noMatch('the pattern `**/*.nomatch`', cwd));
    expect(existsSync(out)).toBe(false);
  });

  it('with several patterns, each one that matched nothing is named, and not one file is written', async () => {
    const cwd = writeTree({ 'a.txt': 'a', 'docs/b.md': 'b' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', cwd, '*.txt', '**/*.nomatch', 'docs/*.md', 'missing.md', '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(noMatch('the patterns `**/*.nomatch`, `missing.md`', cwd, true));
    expect(existsSync(out)).toBe(false);
  });

  it('a negated pattern does not count; an empty tree with the default pattern does', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const ok = await runCli(['-C', cwd, '*.txt', '!**/nothing', '-o', tempDir()]);
    expect(ok.code, ok.stderr).toBe(0);
    const empty = tempDir();
    const none = await runCli(['-C', empty, '-o', join(tempDir(), 'out')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(noMatch('the pattern `**/*`', empty));
  });

  it('a pattern that matches only directories says what matches the files in them', async () => {
    const cwd = writeTree({ 'docs/a.md': 'a' });
    const result = await runCli(['-C', cwd, 'docs', '-o', tempDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `globpipe: No files match the pattern \`docs\` in \`${cwd}\` (\`docs\` matches only directories: \`docs/**\` matches the files in them); check it for typos, or pass --no-error-on-unmatched-pattern if matching nothing is fine\n`,
    );
  });

  it('--no-error-on-unmatched-pattern: matching nothing is fine, the other patterns run', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const none = await runCli([
      '-C',
      cwd,
      '**/*.nomatch',
      '--no-error-on-unmatched-pattern',
      '-o',
      tempDir(),
    ]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr.trimEnd()).toMatch(summary('0 matched, 0 written, 0 skipped, 0 failed'));
    const out = tempDir();
    const some = await runCli(['-C', cwd, '*.txt', 'x/*', '--no-error-on-unmatched-pattern', '-o', out]);
    expect(some.code, some.stderr).toBe(0);
    expect([...readTree(out).keys()]).toEqual(['a.txt']);
  });

  it('thousands of matches held back while another pattern waits: the walk finishes, nothing is written', async () => {
    // Many small directories: the glob's readdir calls are held once 8192 matches wait (discover.ts).
    const cwd = tempDir();
    for (let d = 0; d < 300; d += 1) {
      mkdirSync(join(cwd, `d${d}`));
      for (let f = 0; f < 30; f += 1) writeFileSync(join(cwd, `d${d}`, `f${d * 30 + f}.txt`), 'x');
    }
    const out = join(tempDir(), 'out');
    const refused = await runCli(['-C', cwd, '**/*.txt', '**/*.nomatch', '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(noMatch('the pattern `**/*.nomatch`', cwd));
    expect(existsSync(out)).toBe(false);
    const both = await runCli(['-C', cwd, '**/*.txt', 'd*/f8999.txt', '-o', out]);
    expect(both.code, both.stderr).toBe(0);
    expect(readTree(out).size).toBe(9000);
  }, 180_000);
});

describe('unpaired braces and brackets', () => {
  it('is a usage error that says so', async () => {
    const cwd = writeTree({ 'a.js': 'a' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', cwd, '**/*.{js', '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'globpipe: Pattern `**/*.{js` has a `{` (character 6) that is never closed: close it (`{js,css}`), or put a backslash before it to match it literally\n',
    );
    const ignore = await runCli(['-C', cwd, '-i', 'a[', '-o', out]);
    expect(ignore.code).toBe(2);
    expect(ignore.stderr).toBe(
      'globpipe: Ignore pattern `a[` has a `[` (character 2) that is never closed: close it (`[abc]`), or put a backslash before it to match it literally\n',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('escaped, they match literally', async () => {
    const cwd = writeTree({ '{x}.txt': 'x', 'y.txt': 'y' });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '\\{x\\}.txt', '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect([...readTree(out).keys()]).toEqual(['{x}.txt']);
  });
});

describe('a file named twice', () => {
  it('`sub/../f1.css` and `*.css` are one file, written once', async () => {
    const dir = writeTree({ 'f1.css': 'a', 'sub/x.css': 'b' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', dir, 'sub/../f1.css', '*.css', '-o', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as {
      matched: number;
      written: number;
    };
    expect(summary).toMatchObject({ matched: 1, written: 1 });
    expect([...readTree(out).keys()]).toEqual(['f1.css']);
  });
});

describe('patterns as the user wrote them', () => {
  it('a pattern whose directory does not exist matches nothing (exit 2), not a failed directory', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', cwd, 'nonexist/*.txt', '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No files match the pattern `nonexist/*.txt`');
    const quiet = await runCli(['-C', cwd, 'nonexist/*.txt', '-o', out, '--no-error-on-unmatched-pattern']);
    expect(quiet.code, quiet.stderr).toBe(0);
  });

  it('doubled slashes, relative or in an absolute pattern inside --cwd, are one slash', async () => {
    const cwd = writeTree({ 'a.txt': 'a', 'sub/b.txt': 'b' });
    for (const pattern of ['.//*.txt', `${cwd}//*.txt`, 'sub//*.txt']) {
      const out = join(tempDir(), 'out');
      const result = await runCli(['-C', cwd, pattern, '-o', out, '-q']);
      expect(result.code, `${pattern}: ${result.stderr}`).toBe(0);
      expect(readTree(out).size).toBe(1);
    }
  });

  it('--out reached through a symlink inside --cwd is not globbed: a rerun does not nest', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    expect((await runCli(['-C', cwd, '-o', join(cwd, 'out'), '-q'])).code).toBe(0);
    symlinkSync('out', join(cwd, 'outlink'));
    const rerun = await runCli(['-C', cwd, '-o', join(cwd, 'outlink'), '-q']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect([...readTree(join(cwd, 'out')).keys()]).toEqual(['a.txt']);
  });
});
