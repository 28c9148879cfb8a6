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

  it('an unknown encoding is a usage error', async () => {
    const result = await runCli([
      '-C',
      tree({ 'a.txt': 'a' }),
      '-t',
      'encoding',
      '--from-encoding',
      'ebcdic',
      '-o',
      tempDir(),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "Expected --from-encoding to be one of utf-8, utf-16le, utf-16be, latin1, windows-1252, got 'ebcdic'",
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
    const human = await runCli(['-C', cwd, '-t', name, ...args, '-o', tempDir()]);
    expect(human.stderr).toContain(`skipped: img.png: ${reason}`);
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
