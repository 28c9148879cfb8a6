import { createRequire } from 'node:module';
import { GlobpipeError } from '../errors.js';

/**
 * Encoding names for `-t encoding`: whatever iconv-lite knows (Shift_JIS, EUC-JP, GBK,
 * Big5, KOI8-R, ISO-8859-1…16, windows-1250…1258, UTF-16/32 …), spelled as `iconv -l`
 * spells them, in any case and punctuation (`Shift_JIS`, `shift-jis`, `SJIS`).
 */
export type Iconv = typeof import('iconv-lite');

// iconv-lite (and the tables of the encodings used) load with the first encoding run, not at every start.
const load = createRequire(import.meta.url);
let loaded: Iconv | undefined;
export function iconv(): Iconv {
  if (loaded === undefined) {
    loaded = load('iconv-lite') as Iconv;
    loaded.encodingExists('utf8'); // fills `encodings`, the names
  }
  return loaded;
}

export interface EncodingInfo {
  /** As it was given: messages name it so. */
  readonly name: string;
  /** iconv-lite's codec, past every alias: `utf8`, `ucs2` (UTF-16LE), `windows1252`, `shiftjis`. */
  readonly codec: string;
  /** A Unicode encoding (UTF-8/16/32/7, GB18030): every character has one, U+FFFD is a character. */
  readonly unicode: boolean;
  /** Bytes per code unit: 2 for UTF-16, 4 for UTF-32 (whose text holds NUL bytes), else 1. */
  readonly unit: 1 | 2 | 4;
}

const unicodeCodecs = new Set([
  'utf8',
  'cesu8',
  'utf7',
  'utf7imap',
  'ucs2',
  'utf16be',
  'utf16',
  'utf32le',
  'utf32be',
  'utf32',
  'gb18030',
]);
const units: Record<string, 2 | 4> = { ucs2: 2, utf16be: 2, utf16: 2, utf32le: 4, utf32be: 4, utf32: 4 };
/** Byte codecs that iconv-lite also offers, but that are not character encodings. */
const notText = new Set(['base64', 'hex']);

/** iconv-lite's own key for a name: `Shift_JIS` -> `shiftjis`, `ISO-8859-1:1987` -> `iso88591`. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/:\d{4}$|[^0-9a-z]/g, '');
}

type Entries = Readonly<Record<string, unknown>>;

/** The codec a key ends at, following aliases (`latin1` -> `iso88591`); undefined for none. */
function codecOf(key: string, entries: Entries): string | undefined {
  let current = key;
  for (let hops = 0; hops < 10; hops += 1) {
    if (current.startsWith('_') || !Object.hasOwn(entries, current)) return undefined;
    const entry = entries[current];
    if (typeof entry !== 'string') return notText.has(current) ? undefined : current;
    current = entry;
  }
  return undefined;
}

/** Every name iconv-lite takes for a character encoding, aliases included. */
export function knownNames(entries: Entries = iconv().encodings as Entries): string[] {
  return Object.keys(entries).filter((key) => codecOf(key, entries) !== undefined);
}

/**
 * Edit distance with transpositions (optimal string alignment): `shfit` is one edit from
 * `shift`, not two.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (rows[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** A key as people write it: `iso88592` -> `iso-8859-2`, `shiftjis` -> `shift_jis`. */
export function displayName(key: string): string {
  return key
    .replace(/^(utf|ucs)(\d+)(le|be|imap)?$/, (_m, family: string, bits: string, tail = '') => {
      return `${family}-${bits}${tail}`;
    })
    .replace(/^iso8859(\d+)$/, 'iso-8859-$1')
    .replace(/^windows(\d+)$/, 'windows-$1')
    .replace(/^(koi8|euc)(\w+)$/, '$1-$2')
    .replace(/^shiftjis$/, 'shift_jis');
}

/**
 * Up to three known names close to `name` (an edit for every three characters, at least
 * one), closest first: `shift-jsi` -> `shift_jis`, `windows-1259` -> `windows-1250`, ….
 */
export function suggestEncodings(name: string, names: readonly string[] = knownNames()): string[] {
  const wanted = canonicalName(name);
  const most = Math.max(1, Math.floor(wanted.length / 3));
  const close = names
    .map((key) => ({ key, distance: editDistance(wanted, key) }))
    .filter(({ distance }) => distance <= most)
    .sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return [...new Set(close.map(({ key }) => displayName(key)))].slice(0, 3);
}

export const encodingExamples =
  'utf-8, utf-16le, latin1, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r';

/** Why `name` is no encoding iconv-lite knows (close names, or examples), or undefined when it is one. */
export function unknownEncoding(name: string): string | undefined {
  if (codecOf(canonicalName(name), iconv().encodings as Entries) !== undefined) return undefined;
  const close = suggestEncodings(name);
  return close.length > 0
    ? `did you mean ${close.map((n) => `\`${n}\``).join(', ')}?`
    : `expected a name such as ${encodingExamples}`;
}

/** The encoding a user named, or a usage error that names close ones; `option` names the option in it. */
export function resolveEncoding(option: string, name: string): EncodingInfo {
  const codec = codecOf(canonicalName(name), iconv().encodings as Entries);
  if (codec === undefined) {
    throw new GlobpipeError('EUSAGE', `Unknown encoding \`${name}\` for ${option}: ${unknownEncoding(name)}`);
  }
  return { name, codec, unicode: unicodeCodecs.has(codec), unit: units[codec] ?? 1 };
}
