import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepAllFor, readTree, runCli, tempDir, writeTree } from '../helpers.js';

const encodings = 'utf-8, utf-16le, latin1, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r';
const help = "Run 'globpipe --help' for usage.\n";

/**
 * Each usage error the options can make, as the CLI prints it: flags, not option keys.
 * `withHelp`: found while parsing the command line, so the usage hint follows.
 */
const cases: [string, string[], string, boolean?][] = [
  [
    '--in-place with --out',
    ['--in-place'],
    '--in-place and --out exclude each other: in-place writes each result over its input',
  ],
  ['a gzip level', ['-t', 'gzip', '--level', '12'], '--level 12 is out of range: gzip levels are 1–9'],
  ['a brotli level', ['-t', 'brotli', '--level', '12'], '--level 12 is out of range: brotli levels are 0–11'],
  [
    'a level out of every range',
    ['-t', 'gzip,brotli', '--level', '12'],
    '--level 12 is out of range: gzip levels are 1–9, brotli levels are 0–11',
  ],
  [
    'a level out of one range of a chain',
    ['-t', 'gzip', '-t', 'brotli', '--level', '10'],
    '--level 10 is out of range: gzip levels are 1–9',
  ],
  [
    '--level without a compressor',
    ['-t', 'copy', '--level', '3'],
    '--level is an option of the `gzip`, `brotli` and `zstd` transforms, which this run does not use (add -t gzip, -t brotli or -t zstd)',
  ],
  [
    '--skip-existing with --if-newer',
    ['--skip-existing', '--if-newer'],
    '--skip-existing skips every output that exists, so --if-newer would never rewrite a stale one: give one of them',
  ],
  [
    '--fail-fast with --max-errors',
    ['--fail-fast', '--max-errors', '3'],
    '--fail-fast stops at the first failure, but --max-errors is 3: give one of them',
  ],
  [
    '--sequential with -j',
    ['--sequential', '-j', '4'],
    '--sequential means concurrency 1, but --concurrency is 4',
  ],
  [
    'a concurrency too high',
    ['-j', '200000'],
    'Expected --concurrency to be an integer from 1 to 100000, got 200000',
  ],
  [
    '--resume without --in-place',
    ['--resume'],
    '--resume continues an interrupted in-place run: it needs --in-place',
  ],
  [
    '--to without -t replace',
    ['--to', 'x'],
    '--to is an option of the `replace` transform, which this run does not use (add -t replace)',
  ],
  [
    '--eol without -t eol',
    ['--eol', 'crlf'],
    '--eol is an option of the `eol` transform, which this run does not use (add -t eol)',
  ],
  [
    '--from-encoding without -t encoding',
    ['--from-encoding', 'latin1'],
    '--from-encoding is an option of the `encoding` transform, which this run does not use (add -t encoding)',
  ],
  [
    '-t replace without --to',
    ['-t', 'replace', '--from', 'a'],
    '`replace` needs a pattern and a replacement: give --from and --to',
  ],
  [
    '-t encoding without --from-encoding',
    ['-t', 'encoding'],
    `\`encoding\` needs the input's encoding: give --from-encoding (such as ${encodings})`,
  ],
  [
    'an unknown --to-encoding',
    ['-t', 'encoding', '--from-encoding', 'latin1', '--to-encoding', 'ebcdic'],
    `Unknown encoding \`ebcdic\` for --to-encoding: expected a name such as ${encodings}`,
  ],
  ['an unknown --eol', ['-t', 'eol', '--eol', 'cr'], "Expected --eol to be lf or crlf, got 'cr'"],
  ['a bad --ext', ['--ext', 'a/b'], "Expected --ext to be an extension such as `.html`, got 'a/b'"],
  ['a misspelt flag', ['--dryrun'], 'Unknown option --dryrun: did you mean --dry-run?', true],
  [
    'misspelt flags',
    ['--concurency', '2', '--Skip-Existing', '--frobnicate'],
    'Unknown options: --concurency (did you mean --concurrency?), --Skip-Existing (did you mean --skip-existing?), --frobnicate',
    true,
  ],
];

describe('usage errors name flags: exit 2, the message on stderr, nothing written', () => {
  it.each(cases)('%s', async (_name, args, message, withHelp = false) => {
    const cwd = writeTree({ 'a.txt': 'a\r\n', 'b.txt': 'b' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', cwd, '-o', out, ...args]);
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `globpipe: ${message}\n${withHelp ? help : ''}`,
    });
    expect(existsSync(out)).toBe(false);
  });

  it('a --from that does not compile names the flag and the reason', async () => {
    const out = join(tempDir(), 'out');
    const result = await runCli(['-t', 'replace', '--from', '(a', '--to', 'b', '-C', tempDir(), '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^globpipe: --from is not a valid regular expression: .*Unterminated group\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a --cwd that is missing, an --out that is a file', async () => {
    const parent = tempDir();
    const file = join(parent, 'file');
    writeFileSync(file, 'x');
    const missing = await runCli(['-C', join(parent, 'nope'), '-o', join(parent, 'out')]);
    expect(missing).toMatchObject({
      code: 2,
      stderr: `globpipe: Base directory (--cwd) \`${join(parent, 'nope')}\` does not exist\n`,
    });
    const onFile = await runCli(['-C', writeTree({ 'a.txt': 'a' }), '-o', file]);
    expect(onFile).toMatchObject({
      code: 2,
      stderr: `globpipe: Output directory (--out) \`${file}\` exists and is not a directory\n`,
    });
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('options that only repeat each other run', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-o', out, '--fail-fast', '--max-errors', '1', '-q']);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readTree(out)).toEqual(readTree(cwd));
  });
});

describe('-t eol without --eol', () => {
  it('writes LF, as --help says, and takes --eol in any case as run() does', async () => {
    const cwd = writeTree({ 'a.txt': 'one\r\ntwo\r\n' });
    const lf = tempDir();
    expect((await runCli(['-C', cwd, '-t', 'eol', '-o', lf, '-q'])).code).toBe(0);
    expect(readFileSync(join(lf, 'a.txt'), 'utf8')).toBe('one\ntwo\n');
    const crlf = tempDir();
    expect((await runCli(['-C', cwd, '-t', 'eol', '--eol', 'CRLF', '-o', crlf, '-q'])).code).toBe(0);
    expect(readFileSync(join(crlf, 'a.txt'), 'utf8')).toBe('one\r\ntwo\r\n');
  });
});

describe('--help', () => {
  it('labels number options [number], and shows --eol defaulting to lf', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    // An option's entry: from its flag to the next flag's line (a description may wrap).
    const entry = (flag: string) => {
      const match = new RegExp(`\\n[^\\n]*${flag}\\s[\\s\\S]*?(?=\\n\\s+(?:-\\w, )?--|\\n\\n)`).exec(
        result.stdout,
      );
      return match?.[0].replace(/\s+/g, ' ').trim() ?? '';
    };
    for (const flag of ['--concurrency', '--level', '--max-errors']) {
      expect(entry(flag)).toMatch(/ \[number\]$/);
    }
    expect(entry('--eol')).toMatch(/lf or crlf \[string\] \[default: lf\]$/);
    // No number shown as a string: not as a default, not as a type.
    expect(result.stdout).not.toMatch(/\[default: "\d/);
    expect(entry('--concurrency')).not.toContain('[string]');
  });
});

describe('flags as typed', () => {
  it('a switch given a value is refused, not read as false (which would write files)', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const out = join(tempDir(), 'out');
    const result = await runCli(['-C', cwd, '-o', out, '--dry-run=1']);
    expect(result).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "globpipe: --dry-run is a switch and takes no value, got '1': write --dry-run, or --no-dry-run\n",
      ),
    });
    expect(existsSync(out)).toBe(false);
    expect((await runCli(['-C', cwd, '-o', out, '--dry-run=true'])).code).toBe(0);
    expect(existsSync(out)).toBe(false);
  });

  it('a misspelt --no- flag is named as typed, with the --no- flag it meant', async () => {
    const result = await runCli(['-o', tempDir(), '--no-error-on-unmatched-patern']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Unknown option --no-error-on-unmatched-patern: did you mean --no-error-on-unmatched-pattern?',
    );
  });

  it('a pattern after -t, --exec or -i stays a pattern: each takes one value', async () => {
    const cwd = writeTree({ 'a.js': 'a', 'b.css': 'b' });
    for (const [flag, value, expected] of [
      ['-t', 'gzip', ['a.js.gz']],
      ['--exec', 'cat', ['a.js']],
      ['-i', 'x/**', ['a.js']],
    ] as const) {
      const out = join(tempDir(), 'out');
      const result = await runCli(['-C', cwd, flag, value, '**/*.js', '-o', out, '-q', ...keepAllFor(value)]);
      expect(result.code, `${flag}: ${result.stderr}`).toBe(0);
      expect([...readTree(out).keys()]).toEqual(expected);
    }
  });
});
