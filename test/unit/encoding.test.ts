import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import iconvLite from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { builtin } from '../../src/transforms/builtins.js';
import { alreadyUtf8, encodingTransform } from '../../src/transforms/encoding.js';
import {
  canonicalName,
  displayName,
  editDistance,
  knownNames,
  resolveEncoding,
  suggestEncodings,
} from '../../src/transforms/encoding-names.js';
import { toStream } from '../../src/transforms/execute.js';
import { completeLength, scanUtf8, Utf8Scan } from '../../src/transforms/utf8-scan.js';
import type { FileInfo } from '../../src/types.js';

const file: FileInfo = { path: 'a.txt', absolutePath: '/a.txt', size: 0, mtime: new Date(0) };

describe('encoding names', () => {
  it('takes iconv names in any case and punctuation, aliases included', () => {
    expect(canonicalName('ISO-8859-1:1987')).toBe('iso88591');
    const codec = (name: string) => resolveEncoding('`fromEncoding`', name).codec;
    expect(['Shift_JIS', 'shift-jis', 'SJIS', 'ms_kanji'].map(codec)).toEqual(Array(4).fill('shiftjis'));
    expect(['latin1', 'ISO-8859-1', 'l1', 'CP819'].map(codec)).toEqual(Array(4).fill('iso88591'));
    expect(['UTF-16LE', 'ucs2', 'UCS-2'].map(codec)).toEqual(Array(3).fill('ucs2'));
    expect(['windows-1252', 'cp1252', 'win1252'].map(codec)).toEqual(Array(3).fill('windows1252'));
    expect(resolveEncoding('x', 'utf-16')).toMatchObject({ codec: 'utf16', unicode: true, unit: 2 });
    expect(resolveEncoding('x', 'UTF-32BE')).toMatchObject({ codec: 'utf32be', unicode: true, unit: 4 });
    expect(resolveEncoding('x', 'GB18030')).toMatchObject({ codec: 'gb18030', unicode: true, unit: 1 });
    expect(resolveEncoding('x', 'koi8-r')).toMatchObject({ name: 'koi8-r', unicode: false, unit: 1 });
  });

  it('refuses byte codecs that are not character encodings, and internal keys', () => {
    for (const name of ['base64', 'hex', '_sbcs', '_internal', 'ebcdic', '']) {
      expect(() => resolveEncoding('`fromEncoding` (--from-encoding)', name)).toThrow(
        `Unknown encoding \`${name}\` for \`fromEncoding\` (--from-encoding): `,
      );
    }
    const names = knownNames();
    expect(names).toContain('shiftjis');
    expect(names).toContain('iso885915');
    expect(names).not.toContain('base64');
    expect(names.some((name) => name.startsWith('_'))).toBe(false);
  });

  it('edit distance counts a swap of two neighbours as one edit', () => {
    const cases: [string, string, number][] = [
      ['', '', 0],
      ['', 'abc', 3],
      ['latin1', 'latin1', 0],
      ['latn1', 'latin1', 1],
      ['shiftjsi', 'shiftjis', 1],
      ['kitten', 'sitting', 3],
      ['utf8', 'ftu8', 2],
    ];
    for (const [a, b, distance] of cases) {
      expect([a, b, editDistance(a, b)]).toEqual([a, b, distance]);
      expect(editDistance(b, a)).toBe(distance);
    }
  });

  it('suggests up to three close names, closest first, as people write them', () => {
    expect(suggestEncodings('Shift-JSI')).toEqual(['shift_jis']);
    expect(suggestEncodings('latn1')).toEqual(['latin1']);
    expect(suggestEncodings('utf-8x')).toEqual(['utf-8']);
    expect(suggestEncodings('iso-8859-17')).toEqual(['iso-8859-1', 'iso-8859-10', 'iso-8859-11']);
    expect(suggestEncodings('windows-1259')).toEqual(['windows-1250', 'windows-1251', 'windows-1252']);
    expect(suggestEncodings('KOJ8-R')).toEqual(['koi8-r']);
    expect(suggestEncodings('ebcdic')).toEqual([]);
    expect(suggestEncodings('x')).toEqual([]);
    // Within an edit per three characters: `abcdefgh` is not close to anything.
    expect(suggestEncodings('abcdefgh', ['abcdxyzh', 'abcdefgx'])).toEqual(['abcdefgx']);
  });

  it('shows names in their usual spelling', () => {
    expect(
      ['utf8', 'utf16le', 'utf32be', 'iso885915', 'windows1251', 'koi8r', 'eucjp', 'shiftjis', 'gbk'].map(
        displayName,
      ),
    ).toEqual([
      'utf-8',
      'utf-16le',
      'utf-32be',
      'iso-8859-15',
      'windows-1251',
      'koi8-r',
      'euc-jp',
      'shift_jis',
      'gbk',
    ]);
  });
});

describe('UTF-8 detection', () => {
  const text = Buffer.from('a é € 😀 z', 'utf8');

  it('judges a character split between chunks whole, at every split point', () => {
    for (let cut = 0; cut <= text.length; cut += 1) {
      const scan = new Utf8Scan();
      scan.push(text.subarray(0, cut));
      scan.push(text.subarray(cut));
      expect([cut, scan.end().valid]).toEqual([cut, true]);
    }
    const bytewise = new Utf8Scan();
    for (const byte of text) bytewise.push(Buffer.from([byte]));
    expect(bytewise.end()).toMatchObject({ valid: true, nonAscii: true, nul: false, bytes: text.length });
  });

  it('finds what is not UTF-8, wherever the chunks break', () => {
    const invalid = [
      [0xc0, 0x80], // overlong NUL
      [0x61, 0x80], // a continuation byte with no lead
      [0xed, 0xa0, 0x80], // a surrogate
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xe2, 0x82], // the end comes before the character's last byte
      [0x63, 0x61, 0x66, 0xe9], // `café` in latin1
      [0xff, 0xfe, 0x61, 0x00], // UTF-16LE with its BOM
    ];
    for (const bytes of invalid) {
      expect([bytes, scanUtf8(Buffer.from(bytes)).valid]).toEqual([bytes, false]);
      const bytewise = new Utf8Scan();
      for (const byte of bytes) bytewise.push(Buffer.from([byte]));
      expect([bytes, bytewise.end().valid]).toEqual([bytes, false]);
    }
  });

  it('tells ASCII and NUL bytes apart', () => {
    expect(scanUtf8(Buffer.from('plain'))).toMatchObject({ valid: true, nonAscii: false, nul: false });
    expect(scanUtf8(Buffer.from('a\0b'))).toMatchObject({ valid: true, nonAscii: false, nul: true });
    expect(scanUtf8(Buffer.alloc(0))).toMatchObject({ valid: true, nonAscii: false, bytes: 0 });
  });

  it('cuts before an unfinished character only', () => {
    const cases: [number[], number][] = [
      [[0x61], 1],
      [[0x61, 0xc3], 1],
      [[0x61, 0xc3, 0xa9], 3],
      [[0xe2, 0x82], 0],
      [[0xe2, 0x82, 0xac], 3],
      [[0xf0, 0x9f, 0x98], 0],
      [[0xf0, 0x9f, 0x98, 0x80], 4],
      [[0x80, 0x80, 0x80], 3],
    ];
    for (const [bytes, whole] of cases)
      expect([bytes, completeLength(Buffer.from(bytes))]).toEqual([bytes, whole]);
  });

  it('input already UTF-8: valid with a byte of 0x80 or more; from UTF-16/32, valid without a NUL', () => {
    const byteEncoding = resolveEncoding('x', 'windows-1252');
    const wide = resolveEncoding('x', 'utf-16le');
    const cases: [string | Buffer, boolean, boolean][] = [
      ['café', true, true],
      ['plain', false, true],
      [Buffer.from([0x63, 0x61, 0x66, 0xe9]), false, false],
      [Buffer.from('a', 'utf16le'), false, false],
      [Buffer.from('日本', 'utf16le'), false, false],
      ['', false, false],
    ];
    for (const [input, fromBytes, fromWide] of cases) {
      const scan = scanUtf8(Buffer.from(input));
      expect([input, alreadyUtf8(scan, byteEncoding), alreadyUtf8(scan, wide)]).toEqual([
        input,
        fromBytes,
        fromWide,
      ]);
    }
  });
});

/** The transform's stream form, fed `chunks`: its output, or what it threw. */
async function streamed(
  transform: ReturnType<typeof encodingTransform>,
  chunks: Buffer[],
): Promise<Buffer | Error> {
  const parts: Buffer[] = [];
  const stream = transform.stream?.(file);
  if (stream === undefined) throw new Error('no stream form');
  stream.on('data', (chunk: Buffer) => parts.push(chunk));
  try {
    await pipeline(Readable.from(chunks), stream);
    return Buffer.concat(parts);
  } catch (error) {
    return error as Error;
  }
}

function buffered(transform: ReturnType<typeof encodingTransform>, content: Buffer): Buffer | Error {
  try {
    return transform.buffer?.(content, file) as Buffer;
  } catch (error) {
    return error as Error;
  }
}

function conversion(from: string, to = 'utf-8', bom = false, force = false) {
  return encodingTransform({
    from: resolveEncoding('x', from),
    to: resolveEncoding('x', to),
    bom,
    force,
  });
}

describe('the encoding transform, whole and streamed', () => {
  const text = 'Grüße, 日本語と「かな」。 abc ½ 😀\n';

  it.each([
    ['shift_jis', 'utf-8', '日本語と「かな」。 ｶﾀｶﾅ abc?\n'],
    ['utf-8', 'euc-jp', '日本語と「かな」。 abc\n'],
    ['utf-8', 'gb18030', text],
    ['utf-16be', 'utf-8', text],
    ['utf-8', 'utf-32le', text],
    ['utf-8', 'utf-16', text],
    ['big5', 'utf-16le', '中文，繁體 abc\n'],
  ])('%s -> %s: the same bytes whole and fed a byte at a time', async (from, to, source) => {
    const input = iconvLite.encode(source, from);
    const transform = conversion(from, to);
    const whole = buffered(transform, input);
    expect(whole).toEqual(
      iconvLite.encode(to === 'utf-16' ? `\uFEFF${source}` : source, to === 'utf-16' ? 'utf-16le' : to),
    );
    expect(
      await streamed(
        transform,
        [...input].map((byte) => Buffer.from([byte])),
      ),
    ).toEqual(whole);
    expect(await streamed(transform, [input])).toEqual(whole);
  });

  it('streams: in the stage a large file goes through, the output of a chunk comes before the input ends', async () => {
    // toStream is what the stream executor pipes a file through (a buffer-only transform would
    // hold the whole file there, and give nothing before its end).
    const stream = toStream(builtin('encoding', { fromEncoding: 'shift_jis' }), file);
    const out: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    stream.write(iconvLite.encode('日本語'.repeat(100_000), 'shift_jis'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(out).toString()).toBe('日本語'.repeat(100_000));
    stream.end();
  });

  it('skips the same input with the same reason either way', async () => {
    const again = (from: string) =>
      `already UTF-8 (not converted from ${from}; \`force\` converts it anyway)`;
    const cases: [ReturnType<typeof encodingTransform>, Buffer, string][] = [
      [conversion('windows-1252'), Buffer.from('café'), again('windows-1252')],
      [conversion('shift_jis'), Buffer.from('日本語'), again('shift_jis')],
      [conversion('utf-16le'), Buffer.from('plain'), again('utf-16le')],
      [conversion('utf-8'), Buffer.from([0x63, 0xe9]), 'not valid UTF-8 (check --from-encoding)'],
      [
        conversion('windows-1252'),
        Buffer.from([0x61, 0x81]),
        'not valid windows-1252 (check --from-encoding)',
      ],
      [conversion('shift_jis'), Buffer.from([0x61, 0x93]), 'not valid shift_jis (check --from-encoding)'],
      [conversion('latin1'), Buffer.from([0x61, 0x00, 0x62]), 'binary content (encoding works on text)'],
      [conversion('utf-16le'), Buffer.from([0x61, 0x00, 0x62]), 'odd byte count: not utf-16le text'],
      [
        conversion('utf-32le'),
        Buffer.from([0x61, 0x00, 0x00, 0x00, 0x62]),
        'byte count not a multiple of 4: not utf-32le text',
      ],
    ];
    for (const [transform, input, reason] of cases) {
      for (const outcome of [
        buffered(transform, input),
        await streamed(
          transform,
          [...input].map((byte) => Buffer.from([byte])),
        ),
      ]) {
        expect(outcome).toBeInstanceOf(Error);
        expect([input, (outcome as Error).name, (outcome as Error).message]).toEqual([
          input,
          'SkipFile',
          reason,
        ]);
      }
    }
  });

  it('--force converts input already UTF-8 all the same', () => {
    expect(buffered(conversion('windows-1252', 'utf-8', false, true), Buffer.from('café'))).toEqual(
      Buffer.from('cafÃ©'),
    );
  });

  it('a character the target has no encoding for fails the file, named, even held back by the encoder', async () => {
    for (const [to, input, named] of [
      ['latin1', 'abc 日本', '`日` (U+65E5)'],
      ['windows-1252', 'a?b?😀', '`😀` (U+1F600)'],
      ['shift_jis', 'かな ½', '`½` (U+00BD)'],
      ['euc-kr', '한국어 x 😀', '`😀` (U+1F600)'],
    ] as const) {
      const transform = conversion('utf-8', to);
      const message = `a.txt: ${named} has no ${to} encoding`;
      expect((buffered(transform, Buffer.from(input)) as Error).message).toBe(message);
      const bytewise = await streamed(
        transform,
        [...Buffer.from(input)].map((byte) => Buffer.from([byte])),
      );
      expect((bytewise as Error).message).toBe(message);
    }
    // A `?` of the text itself is no replacement.
    expect(buffered(conversion('utf-8', 'latin1'), Buffer.from('why? é'))).toEqual(
      Buffer.from([0x77, 0x68, 0x79, 0x3f, 0x20, 0xe9]),
    );
  });

  it('removes an input BOM; writes one with --bom, and always for utf-16 and utf-32', () => {
    const marked = Buffer.concat([Buffer.from([0xfe, 0xff]), iconvLite.encode('hé', 'utf-16be')]);
    expect(buffered(conversion('utf-16be'), marked)).toEqual(Buffer.from('hé'));
    expect(buffered(conversion('utf-16'), marked)).toEqual(Buffer.from('hé'));
    expect(buffered(conversion('utf-8', 'utf-8'), Buffer.from('\uFEFFhé'))).toEqual(Buffer.from('hé'));
    expect(buffered(conversion('utf-8', 'utf-8', true), Buffer.from('\uFEFFhé'))).toEqual(
      Buffer.from('\uFEFFhé'),
    );
    expect(buffered(conversion('utf-8', 'utf-16le'), Buffer.from('a'))).toEqual(Buffer.from([0x61, 0x00]));
    expect(buffered(conversion('utf-8', 'utf-16le', true), Buffer.from('a'))).toEqual(
      Buffer.from([0xff, 0xfe, 0x61, 0x00]),
    );
    expect(buffered(conversion('utf-8', 'utf-16'), Buffer.from('a'))).toEqual(
      Buffer.from([0xff, 0xfe, 0x61, 0x00]),
    );
    expect(buffered(conversion('utf-8', 'utf-32'), Buffer.from('a'))).toEqual(
      Buffer.from([0xff, 0xfe, 0x00, 0x00, 0x61, 0x00, 0x00, 0x00]),
    );
    expect(buffered(conversion('utf-8', 'utf-16be', true), Buffer.alloc(0))).toEqual(
      Buffer.from([0xfe, 0xff]),
    );
    expect(() => conversion('utf-8', 'latin1', true)).toThrow(
      '`bom` (--bom) writes a byte-order mark, which only the Unicode encodings have (utf-8, utf-16, utf-32): `latin1` has none',
    );
  });

  it('windows-1252: 0x80 is the euro sign, 0x80-0x9F as Microsoft defines them', () => {
    expect(buffered(conversion('windows-1252'), Buffer.from([0x80, 0x8a, 0x93, 0x94, 0x99, 0x9f]))).toEqual(
      Buffer.from('€Š“”™Ÿ'),
    );
    expect(buffered(conversion('latin1'), Buffer.from([0x80]))).toEqual(Buffer.from('\u0080'));
  });
});
