import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bin,
  hasScript,
  keepAll,
  shellQuote as quote,
  runCli,
  site,
  tempDir,
  writeTree,
} from '../helpers.js';

/**
 * globpipe in a build: off a terminal, and on one that asks for no escapes (NO_COLOR,
 * TERM=dumb), every output path prints plain lines. Each case runs the real CLI.
 */

function module(source: string): string {
  const path = join(tempDir(), 'transform.mjs');
  writeFileSync(path, source);
  return path;
}

/** Slow enough for a bar to draw; fails every file named `bad*`. */
const slowFailing = () =>
  module(
    "export default { name: 'slow', async buffer(c, f) { await new Promise((r) => setTimeout(r, 30)); if (f.path.includes('bad')) throw new Error('no good'); return c; } };\n",
  );

/** Every output path a build meets: runs, skips, failures, dry runs, usage errors, gen, bench. */
function commands(): { name: string; args: string[]; code: number }[] {
  const tree = writeTree({ 'a.txt': 'one\r\n', 'bad.txt': 'two\n', 'img.bin': Buffer.from([0, 1, 2, 3]) });
  const slow = slowFailing();
  return [
    { name: 'run', args: ['-C', site, '-t', 'gzip', '-o', tempDir()], code: 0 },
    { name: 'progress', args: ['-C', tree, '-t', slow, '-j', '1', '-o', tempDir(), '--progress'], code: 1 },
    { name: 'failures', args: ['-C', tree, '-t', slow, '-o', tempDir()], code: 1 },
    { name: 'skips', args: ['-C', tree, '-t', 'eol', '-o', tempDir()], code: 0 },
    { name: 'dry run', args: ['-C', site, '-t', 'brotli', '-o', tempDir(), '--dry-run'], code: 0 },
    { name: 'usage', args: ['-C', site, '-t', 'gzpi', '-o', tempDir()], code: 2 },
    { name: 'gen', args: ['gen', join(tempDir(), 'd'), '--files', '20', '--progress'], code: 0 },
    {
      name: 'bench',
      args: [
        'bench',
        '-C',
        site,
        '-j',
        '1,4',
        '--cache',
        'warm',
        '--runs',
        '1',
        '--warmup',
        '0',
        '--progress',
      ],
      code: 0,
    },
  ];
}

describe('off a terminal', () => {
  it.each([
    ['a pipe', {}],
    ['FORCE_COLOR=1', { FORCE_COLOR: '1' }],
    ['FORCE_COLOR=3 and TERM=xterm-256color', { FORCE_COLOR: '3', TERM: 'xterm-256color' }],
  ])('%s: no escape sequence on any output path, and the exit codes a build expects', async (_, env) => {
    for (const { name, args, code } of commands()) {
      const result = await runCli(args, { env });
      expect(result.code, `${name}: ${result.stderr}`).toBe(code);
      expect(result.stderr, name).not.toContain('\x1b');
      expect(result.stdout, name).not.toContain('\x1b');
      expect(result.stderr.length + result.stdout.length, name).toBeGreaterThan(0);
    }
  });

  it('a clean run says one line; a run with --progress still ends with its summary line', async () => {
    const { code, stdout, stderr } = await runCli(['-C', site, '-t', 'gzip', '-o', tempDir(), ...keepAll]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^globpipe: 16 matched, 16 written, 0 skipped, 0 failed \| /),
    ]);
    const progress = await runCli(['-C', site, '-t', 'gzip', '-o', tempDir(), ...keepAll, '--progress']);
    expect(progress.code).toBe(0);
    expect(progress.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^globpipe: 16 matched, 16 written, 0 skipped, 0 failed \| /,
    );
  });

  it('a build with the web defaults says one line too: skips and dropped outputs are counts in it', async () => {
    const { code, stdout, stderr } = await runCli(['-C', site, '-t', 'gzip', '-o', tempDir()]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^globpipe: 16 matched, 2 written, 14 skipped \(12 smaller than 1 KiB, 1 not worth compressing, 1 compressing saves too little\), 0 failed, 1 output dropped \| [^|]+ \| [^|]+ \| -j \d+$/,
      ),
    ]);
    // --verbose: each reason on its line above the summary line, as on a terminal.
    const verbose = await runCli(['-C', site, '-t', 'gzip', '-o', tempDir(), '--verbose']);
    expect(verbose.stderr.trimEnd().split('\n')).toEqual([
      '  skipped: img/pixel.png: not worth compressing (image/png); a pattern ending in .png selects it (--all-types: every type)',
      expect.stringMatching(
        /^ {2}skipped 12 files: smaller than 1024 bytes \(--min-size\) \(.+ and 9 more\)$/,
      ),
      '  skipped: assets/random.bin: compressing saves too little: output/input above --min-ratio 0.8',
      '  dropped: assets/random.bin.gz: output/input above --min-ratio 0.8',
      expect.stringMatching(/^globpipe: 16 matched, 2 written, 14 skipped, 0 failed \| /),
    ]);
  });
});

describe('exit codes in a build', () => {
  it('files skipped for what they are exit 0; a failed file exits 1', async () => {
    const tree = writeTree({
      'a.txt': 'plain ascii\n',
      'utf8.txt': 'déjà vu\n',
      'img.bin': Buffer.from([0, 159, 146, 150, 0]),
    });
    // Binary content for a text transform.
    const eol = await runCli(['-C', tree, '-t', 'eol', '--eol', 'crlf', '-o', tempDir()]);
    expect(eol.code, eol.stderr).toBe(0);
    expect(eol.stderr).toMatch(/ 1 skipped \(binary content\), 0 failed /);
    // Already UTF-8: unchanged, so skipped.
    const utf8 = await runCli([
      '-C',
      tree,
      '*.txt',
      '-t',
      'encoding',
      '--from-encoding',
      'latin1',
      '-o',
      tempDir(),
    ]);
    expect(utf8.code, utf8.stderr).toBe(0);
    expect(utf8.stderr).toMatch(/0 failed/);
    expect(utf8.stderr).toMatch(/[1-9]\d* skipped/);
    // Outputs that exist already.
    const out = tempDir();
    expect((await runCli(['-C', tree, '-t', 'gzip', '-o', out, ...keepAll])).code).toBe(0);
    const again = await runCli(['-C', tree, '-t', 'gzip', '-o', out, '--skip-existing', ...keepAll]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/0 written, 3 skipped \(output exists\), 0 failed/);
    // A real failure is the one thing that fails the build.
    const failed = await runCli(['-C', tree, '-t', 'gunzip', '-o', tempDir()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/3 failed/);
  });
});

// `script` gives the CLI a real pseudo-terminal: stderr is a TTY, as in a user's shell.
describe.runIf(hasScript())('in a terminal that asks for plain output', () => {
  const inTerminal = (args: string[], env: NodeJS.ProcessEnv) => {
    const command = [process.execPath, bin, ...args].map(quote).join(' ');
    try {
      return execFileSync('script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, COLUMNS: '120', ...env },
      });
    } catch (error) {
      // A run that exits 1 or 2: the screen is what matters here.
      return String((error as { stdout?: string }).stdout ?? '');
    }
  };

  it('draws a bar on a plain terminal, so the cases below can fail', () => {
    const screen = inTerminal(['-C', site, '-t', slowFailing(), '-j', '2', '-o', tempDir()], {
      NO_COLOR: '',
      TERM: 'xterm',
    });
    expect(screen).toContain('\x1b[');
  });

  it.each([
    ['NO_COLOR=1', { NO_COLOR: '1', TERM: 'xterm' }],
    ['TERM=dumb', { TERM: 'dumb' }],
  ])('%s: no escape sequence on any output path', (_, env) => {
    for (const { name, args } of commands()) {
      const screen = inTerminal(args, env);
      expect(screen, name).not.toContain('\x1b');
      expect(screen.length, name).toBeGreaterThan(0);
    }
    // With no --progress, a run in such a terminal prints its summary and nothing else.
    const screen = inTerminal(['-C', site, '-t', slowFailing(), '-j', '2', '-o', tempDir()], env);
    expect(screen.trimEnd().split(/\r?\n/)).toEqual([expect.stringMatching(/^globpipe: 16 matched, /)]);
  });

  it('a terminal gets each skip on its line; one that asks for plain output gets the one line', () => {
    const args = ['-C', site, '-t', 'gzip', '-o', tempDir(), '--no-progress'];
    const detailed = inTerminal(args, { NO_COLOR: '', TERM: 'xterm' }).trimEnd().split(/\r?\n/);
    expect(detailed).toContain('  dropped: assets/random.bin.gz: output/input above --min-ratio 0.8');
    expect(detailed.at(-1)).toMatch(/^globpipe: 16 matched, 2 written, 14 skipped, 0 failed \| /);
    const plain = inTerminal(args, { NO_COLOR: '1', TERM: 'xterm' }).trimEnd().split(/\r?\n/);
    expect(plain).toEqual([
      expect.stringMatching(/^globpipe: 16 matched, 2 written, 14 skipped \(12 smaller /),
    ]);
    const verbose = inTerminal([...args, '--verbose'], { TERM: 'dumb' })
      .trimEnd()
      .split(/\r?\n/);
    // The same lines, but for timings, which few paths a group names and the groups' order
    // (both follow which files are done first).
    const stable = (lines: string[]) =>
      lines.map((line) => line.replace(/ \(.+ and \d+ more\)$| \|.*/, '')).sort();
    expect(stable(verbose)).toEqual(stable(detailed));
  });
});
