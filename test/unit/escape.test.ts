import { describe, expect, it } from 'vitest';
import {
  escapeName,
  formatFailureGroups,
  formatPlanned,
  formatProblems,
  formatSkips,
  formatSummary,
} from '../../src/report/format.js';
import { SummaryBuilder } from '../../src/report/summary.js';
import { expandCommand, pathArgument } from '../../src/transforms/exec.js';
import type { FileInfo } from '../../src/types.js';
import { fileResult } from '../helpers.js';

describe('escapeName', () => {
  it.each([
    ['plain.txt', 'plain.txt'],
    ['docs/a b.md', 'docs/a b.md'],
    ['', ''],
    ['a\nb', 'a\\nb'],
    ['a\rb', 'a\\rb'],
    ['a\tb', 'a\\tb'],
    ['\x1b[31mred', '\\033[31mred'],
    ['nul\0', 'nul\\000'],
    ['bell\x07', 'bell\\007'],
    ['\x01\x1f', '\\001\\037'],
    ['del\x7f', 'del\\177'],
    // A backslash is doubled, so `a\nb` (backslash, n) and `a<LF>b` never look alike.
    ['a\\nb', 'a\\\\nb'],
    // C1 controls as their UTF-8 bytes, as `ls -b` shows them in a UTF-8 locale.
    ['\x85next-line', '\\302\\205next-line'],
    ['\x9b31mcsi', '\\302\\23331mcsi'],
    ['\x80\x9f', '\\302\\200\\302\\237'],
    // A lone surrogate U+DC80..U+DCFF stands for a raw byte 0x80..0xFF.
    ['raw\udcff', 'raw\\377'],
    ['\udc80x\udce9', '\\200x\\351'],
    // Characters that are not controls stay as they are.
    ['café 日本 ü\u00a0', 'café 日本 ü\u00a0'],
    ['emoji 😀', 'emoji 😀'],
    // U+10080 is the pair D800 DC80: its low half is not a raw byte.
    ['\u{10080}', '\u{10080}'],
    // A high surrogate alone does not pair with a later escaped one.
    ['\ud800\ud800\udc80', '\ud800\ud800\udc80'],
    ['\udc80\ud800', '\\200\ud800'],
  ])('%j -> %j', (name, shown) => {
    expect(escapeName(name)).toBe(shown);
  });

  it('leaves nothing that breaks a line or starts an escape sequence', () => {
    let all = '';
    for (let code = 0; code < 0x100; code += 1) all += String.fromCharCode(code);
    for (let code = 0xdc80; code <= 0xdcff; code += 1) all += String.fromCharCode(code);
    const shown = escapeName(all);
    for (const char of shown) {
      const code = char.codePointAt(0) as number;
      expect(code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0xdc80 && code <= 0xdcff)).toBe(false);
    }
    // Every escape is a backslash with a letter or three octal digits, or a doubled backslash.
    expect(shown.replace(/\\([nrt\\]|[0-7]{3})/g, '')).not.toContain('\\');
  });

  it('is a fast path for a clean name: the very same string', () => {
    const name = 'docs/guide/index.html';
    expect(escapeName(name)).toBe(name);
  });
});

const forged = 'a\nglobpipe: 0 matched, 0 failed';
const red = 'red\x1b[31mX';

const result = fileResult;

describe('human-facing lines escape the names they hold', () => {
  const stats = new SummaryBuilder();
  stats.matched = 4;
  stats.add(
    result({ input: forged, status: 'failed', error: { code: 'ETRANSFORM', message: 'gunzip: bad' } }),
  );
  stats.add(
    result({
      input: red,
      status: 'failed',
      error: { code: 'EREAD', message: `cannot read ${red}: ENOENT: no such file or directory` },
    }),
  );
  stats.add(result({ input: 'x\ry', status: 'skipped', reason: 'output exists' }));
  stats.add(result({ input: 'ok', status: 'skipped', reason: 'binary\ncontent' }));
  const summary = stats.build({
    cwd: '/',
    out: '/',
    elapsedMs: 1000,
    concurrency: 4,
    dryRun: false,
    interrupted: false,
  });

  it('failures: one line each, path and message escaped', () => {
    expect(formatProblems(summary)).toEqual([
      '  failed: a\\nglobpipe: 0 matched, 0 failed: gunzip: bad',
      '  failed: red\\033[31mX: cannot read red\\033[31mX: ENOENT: no such file or directory',
    ]);
  });

  it('skips: paths and reasons escaped', () => {
    expect(formatSkips(summary)).toEqual([
      '  skipped: x\\ry: output exists',
      '  skipped: ok: binary\\ncontent',
    ]);
  });

  it('failures of one cause: the cause and the paths escaped', () => {
    const message = (path: string) => `cannot read ${path}: EIO: input/output error\x1b[2J`;
    const failures = [forged, red, 'z'].map((path) => ({
      path,
      code: 'EREAD' as const,
      message: message(path),
    }));
    expect(formatFailureGroups(failures)).toEqual([
      '  failed 3 files: cannot read: EIO: input/output error\\033[2J (a\\nglobpipe: 0 matched, 0 failed, red\\033[31mX, z)',
    ]);
  });

  it('the summary has one line per failure and skip, and one summary line, the last', () => {
    const lines = formatSummary(summary).split('\n');
    expect(lines).toHaveLength(1 + 2 + 2);
    expect(lines.filter((line) => line.startsWith('globpipe:'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^globpipe: 4 matched, 0 written, 2 skipped, 2 failed/);
    expect(lines.join('\n')).not.toContain('\x1b');
    expect(lines.join('\n')).not.toContain('\r');
  });

  it('a dry run line', () => {
    expect(formatPlanned(result({ input: forged, outputs: [`${forged}.gz`, `${red}.br`] }), '/o')).toBe(
      'a\\nglobpipe: 0 matched, 0 failed -> /o/a\\nglobpipe: 0 matched, 0 failed.gz, /o/red\\033[31mX.br',
    );
  });
});

describe('--exec placeholders are never options', () => {
  const file = (path: string): FileInfo => ({
    path,
    absolutePath: `/tree/${path}`,
    size: 1,
    mtime: new Date(0),
  });

  it.each([
    ['-n', "'./-n'"],
    ['--help', "'./--help'"],
    ['-rf x', "'./-rf x'"],
    ['-', "'./-'"],
    ["-it's", `'./-it'\\''s'`],
    ['a-b', "'a-b'"],
    ['dir/-n', "'dir/-n'"],
    ['/abs/-n', "'/abs/-n'"],
  ])('%j -> %s', (path, argument) => {
    expect(pathArgument(path)).toBe(argument);
  });

  it('{rel}, {in} and {out} all go through it', () => {
    expect(expandCommand('cmd {rel} {in} {out}', file('-n'), '-out.tmp')).toBe(
      "cmd './-n' '/tree/-n' './-out.tmp'",
    );
    expect(expandCommand('wc -c {rel}', file('--help'), undefined)).toBe("wc -c './--help'");
  });
});
