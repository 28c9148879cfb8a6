import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import iconvLite from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, tempDir, writeTree } from '../helpers.js';

const tree = writeTree;

const binary = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x00, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x0d, 0x0a,
]);

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('replace', () => {
  it('replaces every match with $1 groups and reports the count per file', async () => {
    const text = Array.from({ length: 500 }, (_, i) => `user${i}@host${i % 7}.example`).join(', ');
    const cwd = tree({ 'list.txt': text, 'none.txt': 'nothing to see', 'ü.txt': 'café@bar.example' });
    const out = tempDir();
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'replace',
      '--from',
      '([\\wé]+)@([\\w.]+)',
      '--to',
      '$2 <- $1',
      '-o',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const written = readTree(out);
    expect(written.get('list.txt')?.toString()).toBe(text.replace(/([\wé]+)@([\w.]+)/g, '$2 <- $1'));
    expect(written.get('ü.txt')?.toString()).toBe('bar.example <- café');
    expect(written.get('none.txt')?.toString()).toBe('nothing to see');
    const files = jsonLines(result.stdout).filter((line) => line.type === 'file');
    const details = Object.fromEntries(files.map((f) => [f.input, f.details]));
    expect(details).toEqual({
      'list.txt': { replacements: 500 },
      'none.txt': { replacements: 0 },
      'ü.txt': { replacements: 1 },
    });
  });

  it('takes /source/flags, and an empty replacement', async () => {
    const cwd = tree({ 'a.txt': 'Foo foo FOO' });
    const out = tempDir();
    expect(
      (await runCli(['-C', cwd, '-t', 'replace', '--from', '/foo\\s?/i', '--to', '', '-o', out])).code,
    ).toBe(0);
    expect(readTree(out).get('a.txt')?.toString()).toBe('');
  });

  it('needs --from and --to, and a valid regex: exit 2', async () => {
    const cwd = tree({ 'a.txt': 'a' });
    const missing = await runCli(['-C', cwd, '-t', 'replace', '--from', 'a', '-o', tempDir()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('`replace` needs a pattern and a replacement: give --from and --to');
    const bad = await runCli([
      '-C',
      cwd,
      '-t',
      'replace',
      '--from',
      '(unclosed',
      '--to',
      'x',
      '-o',
      tempDir(),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from is not a valid regular expression: .*Unterminated group/);
    const stray = await runCli(['-C', cwd, '--from', 'a', '-o', tempDir()]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain(
      '--from is an option of the `replace` transform, which this run does not use (add -t replace)',
    );
  });
});

describe('eol', () => {
  const mixed = 'one\r\ntwo\nthree\r\r\nfour';
  it('CRLF -> LF', async () => {
    const out = tempDir();
    expect((await runCli(['-C', tree({ 'a.txt': mixed }), '-t', 'eol', '--eol', 'lf', '-o', out])).code).toBe(
      0,
    );
    expect(readTree(out).get('a.txt')).toEqual(Buffer.from('one\ntwo\nthree\nfour'));
  });

  it('LF -> CRLF, never doubling an existing CR, bytes of other encodings untouched', async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x78, 0x0d, 0x0a]); // "café\nx\r\n" in latin1
    const out = tempDir();
    const result = await runCli([
      '-C',
      tree({ 'a.txt': mixed, 'l.txt': latin1 }),
      '-t',
      'eol',
      '--eol',
      'crlf',
      '-o',
      out,
    ]);
    expect(result.code).toBe(0);
    expect(readTree(out).get('a.txt')).toEqual(Buffer.from('one\r\ntwo\r\nthree\r\nfour'));
    expect(readTree(out).get('l.txt')).toEqual(
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a, 0x78, 0x0d, 0x0a]),
    );
  });
});

describe('encoding', () => {
  // Every byte from 0x80 to 0xff once, then ASCII.
  const high = Buffer.from([...Array.from({ length: 128 }, (_, i) => 0x80 + i), 0x21]);

  it('latin1 -> utf-8: 0x80-0xff become U+0080-U+00FF, exactly', async () => {
    const out = tempDir();
    expect(
      (
        await runCli([
          '-C',
          tree({ 'l.txt': high }),
          '-t',
          'encoding',
          '--from-encoding',
          'latin1',
          '-o',
          out,
        ])
      ).code,
    ).toBe(0);
    const expected = Buffer.concat([
      ...Array.from({ length: 128 }, (_, i) => {
        const cp = 0x80 + i;
        return Buffer.from([0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)]);
      }),
      Buffer.from('!'),
    ]);
    expect(readTree(out).get('l.txt')).toEqual(expected);
  });

  it('windows-1252 -> utf-8: the euro sign and curly quotes, exactly', async () => {
    const out = tempDir();
    const input = Buffer.from([0x80, 0x20, 0x93, 0x68, 0x69, 0x94, 0x20, 0xe9, 0x20, 0x9f]);
    expect(
      (
        await runCli([
          '-C',
          tree({ 'w.txt': input }),
          '-t',
          'encoding',
          '--from-encoding',
          'windows-1252',
          '-o',
          out,
        ])
      ).code,
    ).toBe(0);
    expect(readTree(out).get('w.txt')).toEqual(
      Buffer.from([
        0xe2, 0x82, 0xac, 0x20, 0xe2, 0x80, 0x9c, 0x68, 0x69, 0xe2, 0x80, 0x9d, 0x20, 0xc3, 0xa9, 0x20, 0xc5,
        0xb8,
      ]),
    );
  });

  it('utf-16le with a BOM -> utf-8 without one; --bom writes one; back to windows-1252', async () => {
    const text = 'Grüße €5';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const cwd = tree({ 'u.txt': utf16 });
    const plain = tempDir();
    expect(
      (await runCli(['-C', cwd, '-t', 'encoding', '--from-encoding', 'utf-16le', '-o', plain])).code,
    ).toBe(0);
    expect(readTree(plain).get('u.txt')).toEqual(Buffer.from(text, 'utf8'));
    const marked = tempDir();
    expect(
      (await runCli(['-C', cwd, '-t', 'encoding', '--from-encoding', 'utf-16le', '--bom', '-o', marked]))
        .code,
    ).toBe(0);
    expect(readTree(marked).get('u.txt')).toEqual(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
    );
    const legacy = tempDir();
    expect(
      (
        await runCli([
          '-C',
          plain,
          '-t',
          'encoding',
          '--from-encoding',
          'utf-8',
          '--to-encoding',
          'windows-1252',
          '-o',
          legacy,
        ])
      ).code,
    ).toBe(0);
    expect(readTree(legacy).get('u.txt')).toEqual(
      Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x20, 0x80, 0x35]),
    );
  });

  it('a character the target cannot hold fails that file, named', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      tree({ 'j.txt': '日本', 'ok.txt': 'fine' }),
      '-t',
      'encoding',
      '--from-encoding',
      'utf-8',
      '--to-encoding',
      'latin1',
      '-o',
      out,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed: j.txt: encoding: j.txt: `日` (U+65E5) has no latin1 encoding');
    expect([...readTree(out).keys()]).toEqual(['ok.txt']);
  });

  it('an unknown encoding is a usage error, naming close names when there are some', async () => {
    const cwd = tree({ 'a.txt': 'a' });
    const out = join(tempDir(), 'out');
    const unknown = await runCli(['-C', cwd, '-t', 'encoding', '--from-encoding', 'ebcdic', '-o', out]);
    expect(unknown).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'globpipe: Unknown encoding `ebcdic` for --from-encoding: expected a name such as utf-8, utf-16le, latin1, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r\n',
    });
    const typo = await runCli(['-C', cwd, '-t', 'encoding', '--from-encoding', 'Shift-JSI', '-o', out]);
    expect(typo).toMatchObject({
      code: 2,
      stderr: 'globpipe: Unknown encoding `Shift-JSI` for --from-encoding: did you mean `shift_jis`?\n',
    });
    const target = await runCli([
      '-C',
      cwd,
      '-t',
      'encoding',
      '--from-encoding',
      'utf-8',
      '--to-encoding',
      'windows-1259',
      '-o',
      out,
    ]);
    expect(target).toMatchObject({
      code: 2,
      stderr:
        'globpipe: Unknown encoding `windows-1259` for --to-encoding: did you mean `windows-1250`, `windows-1251`, `windows-1252`?\n',
    });
    expect(existsSync(out)).toBe(false);
  });
});

/** glibc's iconv, where the machine has it: the reference conversions are checked against. */
const glibcIconv = spawnSync('iconv', ['--version']).status === 0;

function iconvBytes(from: string, to: string, input: Buffer): Buffer {
  const done = spawnSync('iconv', ['-f', from, '-t', to], { input, maxBuffer: 256 * 1024 * 1024 });
  if (done.status !== 0) throw new Error(`iconv -f ${from} -t ${to}: ${done.stderr.toString()}`);
  return done.stdout;
}

describe('encoding: a rerun never encodes twice', () => {
  const again = (from: string) => `already UTF-8 (not converted from ${from}; --force converts it anyway)`;

  it('in place from windows-1252: the second run leaves every byte as it is; --force converts again', async () => {
    const cwd = tree({
      'w.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80, 0x0a]), // `café €\n` in windows-1252
      'u.txt': 'naïve ☕\n', // UTF-8 already
      'a.txt': 'plain\n',
    });
    const args = ['-C', cwd, '-t', 'encoding', '--from-encoding', 'windows-1252', '--in-place', '--json'];
    const converted = new Map([
      ['a.txt', Buffer.from('plain\n')],
      ['u.txt', Buffer.from('naïve ☕\n')],
      ['w.txt', Buffer.from('café €\n')],
    ]);
    const outcomes = (stdout: string) =>
      Object.fromEntries(
        jsonLines(stdout)
          .filter((line) => line.type === 'file')
          .map((line) => [line.input, [line.status, line.reason]]),
      );
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(readTree(cwd)).toEqual(converted);
    expect(outcomes(first.stdout)).toEqual({
      'a.txt': ['written', undefined],
      'u.txt': ['skipped', again('windows-1252')],
      'w.txt': ['written', undefined],
    });
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(readTree(cwd)).toEqual(converted);
    // Pure ASCII is the same text in both: converted, to the same bytes.
    expect(outcomes(second.stdout)).toEqual({
      'a.txt': ['written', undefined],
      'u.txt': ['skipped', again('windows-1252')],
      'w.txt': ['skipped', again('windows-1252')],
    });
    const human = await runCli([...args.filter((arg) => arg !== '--json'), '--verbose']);
    expect(human.stderr).toContain(`  skipped 2 files: ${again('windows-1252')} (u.txt, w.txt)\n`);
    expect(readTree(cwd)).toEqual(converted);
    const forced = await runCli([...args, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readTree(cwd).get('w.txt')).toEqual(Buffer.from('cafÃ© â‚¬\n'));
  });

  it('in place from utf-16le: what the first run made UTF-8 is skipped, ASCII included', async () => {
    const cwd = tree({
      'le.txt': Buffer.from('line one\nline two\n', 'utf16le'),
      'jp.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('日本語\n', 'utf16le')]),
    });
    const args = ['-C', cwd, '-t', 'encoding', '--from-encoding', 'utf-16le', '--in-place', '--json'];
    expect((await runCli(args)).code).toBe(0);
    const converted = new Map([
      ['jp.txt', Buffer.from('日本語\n')],
      ['le.txt', Buffer.from('line one\nline two\n')],
    ]);
    expect(readTree(cwd)).toEqual(converted);
    const second = await runCli(args);
    expect(jsonLines(second.stdout).at(-1)).toMatchObject({ written: 0, skipped: 2 });
    expect(readTree(cwd)).toEqual(converted);
  });

  it('--force belongs to -t encoding, and --help says what it does', async () => {
    const stray = await runCli(['-C', tree({ 'a.txt': 'a' }), '--force', '-o', tempDir()]);
    expect(stray).toMatchObject({
      code: 2,
      stderr:
        'globpipe: --force is an option of the `encoding` transform, which this run does not use (add -t encoding)\n',
    });
    const help = await runCli(['--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--force encoding: convert files that are already UTF-8 too (skipped by default, so a rerun never encodes twice) [boolean]',
    );
  });
});

describe('encoding: the names iconv knows', () => {
  // Each text in its encoding, byte for byte (glibc's iconv writes the same, checked below where it is).
  const cases: [string, string, string][] = [
    ['KOI8-R', 'Привет', 'f0d2c9d7c5d4'],
    ['ISO-8859-2', 'Łódź', 'a3f364bc'],
    ['ISO-8859-15', 'œuvre €', 'bd7576726520a4'],
    ['windows-1250', 'Żółw', 'aff3b377'],
    ['windows-1253', 'Ελλάδα', 'c5ebebdce4e1'],
    ['windows-1252', '€ “quotes”', '80209371756f74657394'],
    ['Shift_JIS', '日本語', '93fa967b8cea'],
    ['EUC-JP', '日本語', 'c6fccbdcb8ec'],
    ['GBK', '中文', 'd6d0cec4'],
    ['BIG5', '中文', 'a4a4a4e5'],
    ['EUC-KR', '한국어', 'c7d1b1b9beee'],
    ['UTF-16BE', 'Grüße', '0047007200fc00df0065'],
  ];

  it('converts to each and back, exactly', async () => {
    const files = Object.fromEntries(cases.map(([name, text]) => [`${name}.txt`, text]));
    const cwd = tree(files);
    for (const [name, text, hex] of cases) {
      const there = tempDir();
      const to = await runCli([
        '-C',
        cwd,
        `${name}.txt`,
        '-t',
        'encoding',
        '--from-encoding',
        'utf-8',
        '--to-encoding',
        name,
        '-o',
        there,
      ]);
      expect(to.code, to.stderr).toBe(0);
      const bytes = readTree(there).get(`${name}.txt`);
      expect([name, bytes?.toString('hex')]).toEqual([name, hex]);
      if (glibcIconv) expect(iconvBytes('UTF-8', name, Buffer.from(text))).toEqual(bytes);
      const back = tempDir();
      const from = await runCli([
        '-C',
        there,
        '-t',
        'encoding',
        '--from-encoding',
        name.toLowerCase(),
        '-o',
        back,
      ]);
      expect(from.code, from.stderr).toBe(0);
      expect(readTree(back).get(`${name}.txt`)?.toString()).toBe(text);
    }
  });

  it('windows-1252: a byte it does not define (0x81) is not windows-1252 text: skipped, not guessed', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      tree({ 'odd.txt': Buffer.from([0x61, 0x81, 0x62]), 'ok.txt': Buffer.from([0x80]) }),
      '-t',
      'encoding',
      '--from-encoding',
      'windows-1252',
      '-o',
      out,
      '--json',
    ]);
    expect(jsonLines(result.stdout).find((line) => line.input === 'odd.txt')).toMatchObject({
      status: 'skipped',
      reason: 'not valid windows-1252 (check --from-encoding)',
    });
    expect(readTree(out)).toEqual(new Map([['ok.txt', Buffer.from([0xe2, 0x82, 0xac])]]));
  });

  it('utf-16 output starts with a BOM (little-endian after it); utf-16le only with --bom', async () => {
    const cwd = tree({ 'a.txt': '\uFEFFhi' }); // a UTF-8 BOM on the input goes
    const expected: [string[], number[]][] = [
      [
        ['--to-encoding', 'utf-16'],
        [0xff, 0xfe, 0x68, 0x00, 0x69, 0x00],
      ],
      [
        ['--to-encoding', 'utf-16le'],
        [0x68, 0x00, 0x69, 0x00],
      ],
      [
        ['--to-encoding', 'utf-16le', '--bom'],
        [0xff, 0xfe, 0x68, 0x00, 0x69, 0x00],
      ],
      [
        ['--to-encoding', 'utf-32be'],
        [0, 0, 0, 0x68, 0, 0, 0, 0x69],
      ],
      [
        ['--to-encoding', 'utf-8'],
        [0x68, 0x69],
      ],
      [
        ['--to-encoding', 'utf-8', '--bom'],
        [0xef, 0xbb, 0xbf, 0x68, 0x69],
      ],
    ];
    for (const [options, bytes] of expected) {
      const out = tempDir();
      const result = await runCli([
        '-C',
        cwd,
        '-t',
        'encoding',
        '--from-encoding',
        'utf-8',
        ...options,
        '-o',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect([options, readTree(out).get('a.txt')]).toEqual([options, Buffer.from(bytes)]);
    }
    const noMark = await runCli([
      '-C',
      cwd,
      '-t',
      'encoding',
      '--from-encoding',
      'utf-8',
      '--to-encoding',
      'koi8-r',
      '--bom',
      '-o',
      tempDir(),
    ]);
    expect(noMark).toMatchObject({
      code: 2,
      stderr:
        'globpipe: `bom` (--bom) writes a byte-order mark, which only the Unicode encodings have (utf-8, utf-16, utf-32): `koi8-r` has none\n',
    });
  });

  it('a 20 MiB file, past the stream threshold, converts exactly both ways, as glibc iconv does', async () => {
    // Starts with one ASCII byte, so two-byte characters fall across every even chunk border.
    const words = [
      '日本語の',
      'テキスト',
      '、',
      'ひらがな',
      '漢字',
      '。',
      'abc ',
      '123 ',
      'ｶﾀｶﾅ',
      '「引用」',
      '\n',
    ];
    const parts: string[] = ['a'];
    let size = 1;
    for (let i = 0; size < 20 * 1024 * 1024; i += 1) {
      const word = words[(i * 7 + (i >> 3)) % words.length] as string;
      parts.push(word);
      size += Buffer.byteLength(word);
    }
    const text = Buffer.from(parts.join(''));
    const sjis = glibcIconv
      ? iconvBytes('UTF-8', 'SHIFT_JIS', text)
      : iconvLite.encode(text.toString(), 'shift_jis');
    const cwd = tree({ 'big.txt': sjis });
    const out = tempDir();
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'encoding',
      '--from-encoding',
      'Shift_JIS',
      '-o',
      out,
      '-q',
    ]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const converted = readTree(out).get('big.txt') as Buffer;
    expect(converted.length).toBe(text.length);
    expect(converted.equals(text)).toBe(true);
    if (glibcIconv) expect(converted.equals(iconvBytes('SHIFT_JIS', 'UTF-8', sjis))).toBe(true);
    // And back: UTF-8 to Shift_JIS, streamed too.
    const back = tempDir();
    const reverse = await runCli([
      '-C',
      out,
      '-t',
      'encoding',
      '--from-encoding',
      'utf-8',
      '--to-encoding',
      'sjis',
      '-o',
      back,
      '-q',
    ]);
    expect(reverse).toMatchObject({ code: 0, stderr: '' });
    expect((readTree(back).get('big.txt') as Buffer).equals(sjis)).toBe(true);
    // The converted file is UTF-8 now: converting it again is skipped, nothing written.
    const rerun = tempDir();
    const again = await runCli([
      '-C',
      out,
      '-t',
      'encoding',
      '--from-encoding',
      'shift_jis',
      '-o',
      rerun,
      '--verbose',
    ]);
    expect(again.stderr).toContain(
      '  skipped: big.txt: already UTF-8 (not converted from shift_jis; --force converts it anyway)',
    );
    expect(readTree(rerun).size).toBe(0);
    // A character Shift_JIS has no encoding for fails the streamed file too, named.
    const cyrillic = tree({ 'big.txt': Buffer.concat([text, Buffer.from('Ѣ')]) });
    const failed = await runCli([
      '-C',
      cyrillic,
      '-t',
      'encoding',
      '--from-encoding',
      'utf-8',
      '--to-encoding',
      'shift_jis',
      '-o',
      tempDir(),
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      'failed: big.txt: encoding: big.txt: `Ѣ` (U+0462) has no shift_jis encoding',
    );
  });
});

describe('binary files and text transforms', () => {
  it.each([
    ['replace', ['--from', 'a', '--to', 'b'], 'binary content (replace works on text)'],
    ['eol', ['--eol', 'lf'], 'binary content (eol works on text)'],
    ['encoding', ['--from-encoding', 'latin1'], 'binary content (encoding works on text)'],
  ])('%s leaves a binary file untouched and reports it as skipped', async (name, args, reason) => {
    const cwd = tree({ 'img.png': binary, 'a.txt': 'a\r\n' });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', name, ...args, '-o', out, '--json']);
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.find((line) => line.input === 'img.png')).toMatchObject({
      status: 'skipped',
      reason,
      outputs: [],
    });
    expect(lines.at(-1)).toMatchObject({ type: 'summary', skipped: 1, written: 1 });
    expect([...readTree(out).keys()]).toEqual(['a.txt']);
    const human = await runCli(['-C', cwd, '-t', name, ...args, '-o', tempDir(), '--verbose']);
    expect(human.stderr).toContain(`skipped: img.png: ${reason}`);
    const brief = await runCli(['-C', cwd, '-t', name, ...args, '-o', tempDir()]);
    expect(brief.stderr).toMatch(
      /^globpipe: 2 matched, 1 written, 1 skipped \(binary content\), 0 failed \| /,
    );
  });

  it('replace skips text that is not UTF-8 instead of mangling it', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      tree({ 'l.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9]) }),
      '-t',
      'replace',
      '--from',
      'c',
      '--to',
      'C',
      '-o',
      out,
      '--json',
    ]);
    expect(jsonLines(result.stdout)[0]).toMatchObject({
      status: 'skipped',
      reason: 'not valid UTF-8 text (replace works on UTF-8; convert it first with -t encoding)',
    });
  });
});
