import type { FileInfo } from '../types.js';
import type { ResolvedTransform } from './resolved.js';
import { addNote, SkipFile } from './skip.js';

export type Eol = 'lf' | 'crlf';

/** Encodings `encoding` reads and writes. `latin1` is ISO-8859-1 proper (0x80 is U+0080, not the euro sign). */
export const encodings = ['utf-8', 'utf-16le', 'utf-16be', 'latin1', 'windows-1252'] as const;
export type Encoding = (typeof encodings)[number];

const aliases: Record<string, Encoding> = {
  utf8: 'utf-8',
  'utf-8': 'utf-8',
  utf16le: 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16': 'utf-16le',
  ucs2: 'utf-16le',
  utf16be: 'utf-16be',
  'utf-16be': 'utf-16be',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  iso88591: 'latin1',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  win1252: 'windows-1252',
};

export function parseEncoding(name: string): Encoding | undefined {
  return aliases[name.toLowerCase()];
}

/** The bytes git and most editors call binary: a NUL in the first 8000. */
function looksBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 text, or a skip: rewriting anything else would corrupt it. */
function decodeUtf8Text(content: Buffer, name: string): string {
  if (looksBinary(content)) throw new SkipFile(`binary content (${name} works on text)`);
  try {
    return strictUtf8.decode(content);
  } catch {
    throw new SkipFile(`not valid UTF-8 text (${name} works on UTF-8; convert it first with -t encoding)`);
  }
}

/**
 * A replacement string's `$` patterns, as String.prototype.replace expands them:
 * `$$`, `$&`, `` $` ``, `$'`, `$1`..`$99`, `$<name>`. (A function replacer is used
 * only to count matches, so the expansion is done here.)
 */
export function expand(replacement: string, args: readonly unknown[]): string {
  const hasNamed = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== undefined;
  const named = hasNamed ? (args[args.length - 1] as Record<string, string | undefined>) : undefined;
  const tail = hasNamed ? 3 : 2;
  const match = args[0] as string;
  const groups = args.slice(1, args.length - tail) as (string | undefined)[];
  const offset = args[args.length - tail] as number;
  const whole = args[args.length - tail + 1] as string;
  return replacement.replace(
    /\$(\$|&|`|'|\d{1,2}|<([^>]*)>)/g,
    (token, what: string, name: string | undefined) => {
      if (what === '$') return '$';
      if (what === '&') return match;
      if (what === '`') return whole.slice(0, offset);
      if (what === "'") return whole.slice(offset + match.length);
      if (name !== undefined) return named === undefined ? token : (named[name] ?? '');
      // `$12` is group 12 when there are 12 groups, else group 1 followed by `2`.
      const two = Number(what);
      if (what.length === 2 && two >= 1 && two <= groups.length) return groups[two - 1] ?? '';
      const one = Number(what[0]);
      if (one >= 1 && one <= groups.length) return (groups[one - 1] ?? '') + what.slice(1);
      return token;
    },
  );
}

/** `-t replace --from <regex> --to <replacement>`: every match, `$1` groups, the count in the file's result. */
export function replaceTransform(pattern: RegExp, replacement: string): ResolvedTransform {
  const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
  return {
    name: 'replace',
    cpuBound: false,
    buffer(content: Buffer, file: FileInfo) {
      const text = decodeUtf8Text(content, 'replace');
      let count = 0;
      const result = text.replace(global, (...args: unknown[]) => {
        count += 1;
        return expand(replacement, args);
      });
      addNote(file, 'replacements', count);
      return count === 0 ? content : result;
    },
  };
}

/** `-t eol --eol lf|crlf`: line endings rewritten byte-wise (any ASCII-compatible text). */
export function eolTransform(eol: Eol): ResolvedTransform {
  return {
    name: 'eol',
    cpuBound: false,
    buffer(content: Buffer) {
      if (looksBinary(content)) throw new SkipFile('binary content (eol works on text)');
      const text = content.toString('latin1'); // byte-preserving: every byte maps to one char and back
      // `\r\r\n` too: every CR run before a LF goes, so no CRLF survives a conversion to LF.
      const lf = text.replace(/\r+\n/g, '\n');
      return Buffer.from(eol === 'lf' ? lf : lf.replace(/\n/g, '\r\n'), 'latin1');
    },
  };
}

/**
 * windows-1252 differs from latin1 only in 0x80-0x9F. Node's TextDecoder decodes
 * that range as latin1, so the table is ours (WHATWG's: the five unassigned
 * bytes map to the C1 controls of the same number).
 */
const win1252High = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
];
const win1252Encode = new Map<number, number>();
for (let byte = 0; byte < 256; byte += 1) {
  win1252Encode.set(byte >= 0x80 && byte < 0xa0 ? (win1252High[byte - 0x80] as number) : byte, byte);
}

function decodeWindows1252(bytes: Buffer): string {
  let text = '';
  for (let start = 0; start < bytes.length; start += 8192) {
    const chunk = bytes.subarray(start, start + 8192);
    text += String.fromCharCode(
      ...Array.from(chunk, (b) => (b >= 0x80 && b < 0xa0 ? (win1252High[b - 0x80] as number) : b)),
    );
  }
  return text;
}

const BOMS: Record<string, Buffer> = {
  'utf-8': Buffer.from([0xef, 0xbb, 0xbf]),
  'utf-16le': Buffer.from([0xff, 0xfe]),
  'utf-16be': Buffer.from([0xfe, 0xff]),
};

function decode(content: Buffer, from: Encoding): string {
  const bom = BOMS[from];
  const body =
    bom !== undefined && content.subarray(0, bom.length).equals(bom) ? content.subarray(bom.length) : content;
  switch (from) {
    case 'utf-8':
      if (looksBinary(body)) throw new SkipFile('binary content (encoding works on text)');
      try {
        return strictUtf8.decode(body);
      } catch {
        throw new SkipFile('not valid UTF-8 (check --from-encoding)');
      }
    case 'utf-16le':
    case 'utf-16be':
      if (body.length % 2 !== 0) throw new SkipFile(`odd byte count: not ${from} text`);
      return new TextDecoder(from, { fatal: false, ignoreBOM: true }).decode(body);
    case 'latin1':
      if (looksBinary(body)) throw new SkipFile('binary content (encoding works on text)');
      return body.toString('latin1');
    case 'windows-1252':
      if (looksBinary(body)) throw new SkipFile('binary content (encoding works on text)');
      return decodeWindows1252(body);
  }
}

function encode(text: string, to: Encoding, file: FileInfo): Buffer {
  const unrepresentable = (char: string) =>
    new Error(
      `${file.path}: \`${char}\` (U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}) has no ${to} encoding`,
    );
  switch (to) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-16le':
      return Buffer.from(text, 'utf16le');
    case 'utf-16be':
      return Buffer.from(text, 'utf16le').swap16();
    case 'latin1': {
      for (const char of text) if ((char.codePointAt(0) as number) > 0xff) throw unrepresentable(char);
      return Buffer.from(text, 'latin1');
    }
    case 'windows-1252': {
      const bytes: number[] = [];
      for (const char of text) {
        const byte = win1252Encode.get(char.codePointAt(0) as number);
        if (byte === undefined) throw unrepresentable(char);
        bytes.push(byte);
      }
      return Buffer.from(bytes);
    }
  }
}

/**
 * `-t encoding --from-encoding <enc> [--to-encoding <enc>] [--bom]`. A BOM on
 * the input is always removed; one is written only when `--bom` asks.
 */
export function encodingTransform(from: Encoding, to: Encoding, bom: boolean): ResolvedTransform {
  return {
    name: 'encoding',
    cpuBound: false,
    buffer(content: Buffer, file: FileInfo) {
      const body = encode(decode(content, from), to, file);
      const mark = bom ? BOMS[to] : undefined;
      return mark === undefined ? body : Buffer.concat([mark, body]);
    },
  };
}
