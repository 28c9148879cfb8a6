import { isUtf8 } from 'node:buffer';
import { sep } from 'node:path';

/** Whether `path` is `root` itself or lies below it (both absolute and normalised). */
export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** A relative path with no `.`, `..` or empty segment: `a/b.txt`, `.env`; not `./a`, `a//b`, `../a`, `/a`. */
export function isNormal(path: string): boolean {
  return (
    path !== '' &&
    path[0] !== '/' &&
    !path.endsWith('/') &&
    !path.includes('//') &&
    !/(^|\/)\.\.?(\/|$)/.test(path)
  );
}

/** `a/b` with forward slashes, from a path of this platform. */
export function toPosix(path: string): string {
  return path.split(sep).join('/');
}

/**
 * File names are bytes; JavaScript strings are not. A name that is valid UTF-8 is its
 * string; in one that is not, each byte that does not decode stands as the lone surrogate
 * U+DC80 + (byte - 0x80) (Python's surrogateescape). Such a string round-trips to the very
 * bytes through fsPath, so names that are not UTF-8 are globbed, planned and written exactly,
 * never merged (Node's own decoding would turn `a\xff` and `a\xfe` into one `a\ufffd`).
 */
const strict = new TextDecoder('utf-8', { fatal: true });

export function decodeName(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : decodeEscaping(bytes);
}

/** Byte by byte: each well-formed UTF-8 sequence as its character, each other byte escaped. */
function decodeEscaping(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] as number;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte <= 0xdf
          ? 2
          : byte >= 0xe0 && byte <= 0xef
            ? 3
            : byte >= 0xf0 && byte <= 0xf4
              ? 4
              : 0;
    if (length === 1) {
      out += String.fromCharCode(byte);
      i += 1;
      continue;
    }
    if (length > 0 && i + length <= bytes.length) {
      try {
        out += strict.decode(bytes.subarray(i, i + length));
        i += length;
        continue;
      } catch {
        // Not a well-formed sequence: its first byte is escaped below.
      }
    }
    out += String.fromCharCode(0xdc00 + byte);
    i += 1;
  }
  return out;
}

const surrogate = /[\uD800-\uDFFF]/;

/** A path for the fs module: the string itself, or, when it holds escaped bytes, those bytes. */
export function fsPath(path: string): string | Buffer {
  if (!surrogate.test(path)) return path;
  const bytes: number[] = [];
  for (let i = 0; i < path.length; i += 1) {
    const unit = path.charCodeAt(i);
    if (unit >= 0xdc80 && unit <= 0xdcff) {
      bytes.push(unit - 0xdc00);
      continue;
    }
    const next = path.charCodeAt(i + 1);
    const pair = unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    for (const byte of Buffer.from(pair ? path.slice(i, i + 2) : (path[i] as string), 'utf8'))
      bytes.push(byte);
    if (pair) i += 1;
  }
  return Buffer.from(bytes);
}

/** Whether a name holds bytes that are not UTF-8 (escaped as above). */
export function hasRawBytes(path: string): boolean {
  return /(?:^|[^\uD800-\uDBFF])[\uDC80-\uDCFF]/.test(path);
}

/** The exact bytes of a path, in base64: how --json carries a name that is not UTF-8. */
export function pathBase64(path: string): string {
  const bytes = fsPath(path);
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64');
}
