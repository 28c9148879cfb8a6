import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type CliResult, readTree, runCli, tempDir, writeTree } from '../helpers.js';

const isRoot = process.getuid?.() === 0;

/** The summary line with its timings (which vary from run to run) replaced by `<time>`. */
function timeless(text: string): string {
  return text
    .replace(/\| \d[\d.m]* s, [\d.,]+ files\/s, [\d.]+ (?:B|KiB|MiB|GiB)\/s \|/g, '| <time> |')
    .replace(/\| \d[\d.m]* s \|/g, '| <time> |');
}

/**
 * Runs the CLI where modes bind: as root nothing is unreadable, so as `nobody` then, in trees
 * it may enter (`dirs` are opened to everyone).
 */
function runLimited(args: string[], dirs: string[]): Promise<CliResult> {
  if (isRoot) for (const dir of dirs) chmodSync(dir, 0o777);
  return runCli(args, { cwd: '/', asNobody: isRoot });
}

interface SummaryLine {
  type: 'summary';
  matched: number;
  written: number;
  planned: number;
  skipped: number;
  failed: number;
  notProcessed: number;
  failedDirectories: number;
  failures: { path: string; code: string; message: string }[];
  directoryFailures: { path: string; code: string; message: string }[];
}

function ndjson(stdout: string): { type: string; status?: string }[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; status?: string });
}

describe('5,000 failing files', () => {
  /** 4,998 unreadable files in d/, two readable ones beside it. */
  function lockedTree(): string {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'd'));
    for (let i = 0; i < 4998; i += 1) {
      const file = join(cwd, 'd', `f${String(i).padStart(4, '0')}.txt`);
      writeFileSync(file, 'x\n');
      chmodSync(file, 0o000);
    }
    writeFileSync(join(cwd, 'a.txt'), 'ok\n');
    writeFileSync(join(cwd, 'b.txt'), 'ok\n');
    return cwd;
  }

  it('the first ten as they fail, then one line for the cause, and the summary line last', async () => {
    const cwd = lockedTree();
    const out = tempDir();
    const result = await runLimited(['-C', cwd, '-o', out, '-j', '16'], [cwd, join(cwd, 'd'), out]);
    expect(result.code).toBe(1);
    const lines = timeless(result.stderr).trimEnd().split('\n');
    expect(lines.slice(0, 10)).toEqual(
      Array.from({ length: 10 }, () =>
        expect.stringMatching(/^ {2}failed: (d\/f\d{4}\.txt): cannot read \1: EACCES: permission denied$/),
      ),
    );
    expect(lines.slice(10)).toEqual([
      '  (more than 10 files failed: the rest are counted, and all are grouped by cause at the end)',
      '  failed 4,998 files: cannot read: EACCES: permission denied (d/f0000.txt, d/f0001.txt, d/f0002.txt and 4,995 more)',
      'globpipe: 5,000 matched, 2 written, 0 skipped, 4,998 failed | 6 B -> 6 B | <time> | -j 16',
    ]);
    // Every file bound for d/ failed: no empty d/ is left behind.
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.txt']);
  }, 120_000);

  it('--json keeps every one: a line per file, and each failure in the summary', async () => {
    const cwd = lockedTree();
    const out = tempDir();
    const result = await runLimited(['-C', cwd, '-o', out, '-j', '16', '--json'], [cwd, join(cwd, 'd'), out]);
    expect(result.code).toBe(1);
    const lines = ndjson(result.stdout);
    expect(lines).toHaveLength(5001);
    expect(lines.filter((line) => line.status === 'failed')).toHaveLength(4998);
    const summary = lines.at(-1) as SummaryLine;
    expect(summary).toMatchObject({ type: 'summary', matched: 5000, written: 2, failed: 4998 });
    expect(summary.failures).toHaveLength(4998);
    expect(summary.failures[4997]).toEqual({
      path: 'd/f4997.txt',
      code: 'EREAD',
      message: 'cannot read d/f4997.txt: EACCES: permission denied',
    });
  }, 120_000);
});

describe('the counts add up', () => {
  it('an unreadable directory is counted and shown apart from the files', async () => {
    const cwd = writeTree({ 'a.txt': 'a\n', 'secret.txt': 's\n', 'z.txt': 'z\n', 'locked/h.txt': 'h\n' });
    const out = tempDir();
    chmodSync(join(cwd, 'secret.txt'), 0o000);
    chmodSync(join(cwd, 'locked'), 0o000);
    try {
      const text = await runLimited(['-C', cwd, '-o', out, '-j', '16'], [cwd, out]);
      expect(text.code).toBe(1);
      expect(timeless(text.stderr)).toBe(
        '  failed: secret.txt: cannot read secret.txt: EACCES: permission denied\n' +
          '  failed directory: locked: cannot read: EACCES: permission denied\n' +
          'globpipe: 3 matched, 2 written, 0 skipped, 1 failed | 1 directory failed | 4 B -> 4 B | <time> | -j 16\n',
      );
      const jsonOut = tempDir();
      const json = await runLimited(['-C', cwd, '-o', jsonOut, '--json'], [jsonOut]);
      const summary = ndjson(json.stdout).at(-1) as SummaryLine;
      const { matched, written, planned, skipped, failed, notProcessed } = summary;
      expect(written + planned + skipped + failed + notProcessed).toBe(matched);
      expect(summary).toMatchObject({ matched: 3, failed: 1, failedDirectories: 1 });
      expect(summary.failures.map((f) => f.path)).toEqual(['secret.txt']);
      expect(summary.directoryFailures).toEqual([
        { path: 'locked', code: 'EGLOB', message: 'cannot read: EACCES: permission denied' },
      ]);
    } finally {
      chmodSync(join(cwd, 'locked'), 0o755);
    }
  }, 60_000);

  it('a run stopped by --fail-fast counts the files it never processed', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i += 1) files[`f${String(i).padStart(2, '0')}.gz`] = 'not gzip';
    const result = await runCli([
      '-C',
      writeTree(files),
      '-t',
      'gunzip',
      '-o',
      tempDir(),
      '-j',
      '1',
      '--fail-fast',
    ]);
    expect(result.code).toBe(1);
    expect(timeless(result.stderr)).toMatch(
      /^ {2}failed: f\d\d\.gz: gunzip: incorrect header check\nglobpipe: 20 matched, 0 written, 0 skipped, 1 failed, 19 not processed \| 0 B -> 0 B \| <time> \| -j 1\n$/,
    );
  });
});

describe('empty output directories', () => {
  it('are removed when every file bound for them failed; one that was there before stays', async () => {
    const cwd = writeTree({
      'ok.txt': 'ok\n',
      'bad/a.txt': 'a\n',
      'bad/deep/b.txt': 'b\n',
      'keep/c.txt': 'c\n',
      'half/bad-d.txt': 'd\n',
      'half/e.txt': 'e\n',
    });
    const out = tempDir();
    mkdirSync(join(out, 'keep'));
    const module = join(tempDir(), 'refuse.mjs');
    writeFileSync(
      module,
      "export default { name: 'refuse', buffer(c, file) { if (/(^|\\/)(bad|keep\\/)|bad-/.test(file.path)) throw new Error('refused'); return c; } };\n",
    );
    const result = await runCli(['-C', cwd, '-t', module, '-o', out, '-j', '4']);
    expect(result.code).toBe(1);
    const lines = timeless(result.stderr).trimEnd().split('\n');
    expect(lines.slice(0, 4).sort()).toEqual([
      '  failed: bad/a.txt: refuse: refused',
      '  failed: bad/deep/b.txt: refuse: refused',
      '  failed: half/bad-d.txt: refuse: refused',
      '  failed: keep/c.txt: refuse: refused',
    ]);
    expect(lines.slice(4)).toEqual([
      'globpipe: 6 matched, 2 written, 0 skipped, 4 failed | 5 B -> 5 B | <time> | -j 4',
    ]);
    expect([...readTree(out).keys()]).toEqual(['half/e.txt', 'ok.txt']);
    expect(readdirSync(out).sort()).toEqual(['half', 'keep', 'ok.txt']);
    expect(existsSync(join(out, 'bad'))).toBe(false);
  });
});

describe('a dry run says what it would do', () => {
  it('full output paths, outputs planned in the singular, no bytes and no rates', async () => {
    const parent = tempDir();
    const cwd = writeTree({ 'docs/a.md': '# a\n' });
    const one = await runCli(['-C', cwd, '-o', 'site', '--dry-run'], { cwd: parent });
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`docs/a.md -> ${parent}/site/docs/a.md\n`);
    expect(timeless(one.stderr)).toBe(
      'globpipe: dry run: 1 matched, 1 output planned, 0 skipped, 0 failed | <time> | -j 64\n',
    );
    expect(existsSync(join(parent, 'site'))).toBe(false);
  });

  it('fan-out: each output by its full path, and the files they come from counted', async () => {
    const cwd = writeTree({ 'a.css': 'a{}', 'b/c.js': 'c()' });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', 'gzip,brotli', '-o', out, '-j', '2', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').sort()).toEqual([
      `a.css -> ${out}/a.css.gz, ${out}/a.css.br`,
      `b/c.js -> ${out}/b/c.js.gz, ${out}/b/c.js.br`,
    ]);
    expect(timeless(result.stderr)).toBe(
      'globpipe: dry run: 2 matched, 4 outputs planned (2 files), 0 skipped, 0 failed | <time> | -j 2\n',
    );
  });
});

describe('sizes are IEC', () => {
  it('the summary: KiB for 1,024 bytes; skips grouped above the summary line with --verbose, folded into it without', async () => {
    const cwd = writeTree({ a: 'x'.repeat(1024), b: 'y'.repeat(1024), c: 'z'.repeat(1024) });
    const out = tempDir();
    const first = await runCli(['-C', cwd, '-o', out, '-j', '4']);
    expect(timeless(first.stderr)).toBe(
      'globpipe: 3 matched, 3 written, 0 skipped, 0 failed | 3.0 KiB -> 3.0 KiB | <time> | -j 4\n',
    );
    expect(first.stderr).toMatch(/ \d[\d.]* KiB\/s \| -j 4\n$/);
    const brief = await runCli(['-C', cwd, '-o', out, '-j', '4', '--skip-existing']);
    expect(timeless(brief.stderr)).toBe(
      'globpipe: 3 matched, 0 written, 3 skipped (output exists), 0 failed | 0 B -> 0 B | <time> | -j 4\n',
    );
    const again = await runCli(['-C', cwd, '-o', out, '-j', '4', '--skip-existing', '--verbose']);
    expect(timeless(again.stderr)).toBe(
      '  skipped 3 files: output exists (--skip-existing) (a, b, c)\n' +
        'globpipe: 3 matched, 0 written, 3 skipped, 0 failed | 0 B -> 0 B | <time> | -j 4\n',
    );
  });
});

describe('--quiet with many failures', () => {
  it('the first ten, then the causes; no summary line', async () => {
    const files: Record<string, Buffer | string> = { 'ok.gz': gzipSync('ok') };
    for (let i = 0; i < 12; i += 1) files[`f${String(i).padStart(2, '0')}.gz`] = 'not gzip';
    const result = await runCli(['-C', writeTree(files), '-t', 'gunzip', '-o', tempDir(), '-q']);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines.slice(0, 10)).toEqual(
      Array.from({ length: 10 }, () =>
        expect.stringMatching(/^ {2}failed: f\d\d\.gz: gunzip: incorrect header check$/),
      ),
    );
    expect(lines.slice(10)).toEqual([
      '  (more than 10 files failed: the rest are counted, and all are grouped by cause at the end)',
      '  failed 12 files: gunzip: incorrect header check (f00.gz, f01.gz, f02.gz and 9 more)',
    ]);
  });
});
