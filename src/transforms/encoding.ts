import { Transform } from 'node:stream';
import { GlobpipeError } from '../errors.js';
import type { FileInfo } from '../types.js';
import { type EncodingInfo, type Iconv, iconv } from './encoding-names.js';
import type { ResolvedTransform } from './resolved.js';
import { SkipFile } from './skip.js';
import { Utf8Scan } from './utf8-scan.js';

/**
 * `-t encoding --from-encoding <enc> [--to-encoding <enc>] [--bom] [--force]`, through
 * iconv-lite. One conversion serves both forms: the whole file (buffer) and, past the
 * stream threshold, chunk by chunk at constant memory (a character split between two
 * chunks waits for its last bytes). The rules, the same in both:
 *
 * - a BOM on the input (U+FEFF as its first character) is removed; one is written when
 *   `--bom` asks, and always for `utf-16` and `utf-32`, whose byte order only it tells
 *   (UTF-16LE/UTF-32LE then, as `iconv` writes them);
 * - input that is not what `--from-encoding` says is skipped, not written: a NUL in the
 *   first 8000 bytes (binary, for byte encodings), invalid UTF-8, a sequence the encoding
 *   does not define, a UTF-16/32 byte count that does not divide;
 * - input that is already UTF-8 is skipped when converting to UTF-8 (unless `--force`), so
 *   a second run over the same files never encodes them twice (`café` -> `cafÃ©`): valid
 *   UTF-8 with a byte of 0x80 or more (pure ASCII reads the same in both, and is converted:
 *   its bytes stay as they are), or, from UTF-16/32, valid UTF-8 without a NUL byte;
 * - a character the target has no encoding for fails the file, naming it (iconv-lite
 *   would write `?`).
 */
export interface EncodingOptions {
  readonly from: EncodingInfo;
  readonly to: EncodingInfo;
  readonly bom: boolean;
  readonly force: boolean;
  /** How the caller names the force option in a skip reason: `--force` (CLI) or `` `force` `` (run()). */
  readonly forceName?: string;
}

/** Bytes looked at for a NUL, as git does to tell binary files. */
const BINARY_WINDOW = 8000;
const QUESTION = 0x3f;

function countChar(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at !== -1; at = text.indexOf(char, at + 1)) count += 1;
  return count;
}

function countByte(bytes: Buffer, byte: number): number {
  let count = 0;
  for (let at = bytes.indexOf(byte); at !== -1; at = bytes.indexOf(byte, at + 1)) count += 1;
  return count;
}

/**
 * Input that reads as UTF-8 whatever `from` says: valid UTF-8 with a byte of 0x80 or more
 * (pure ASCII is the same text in both), or for UTF-16/32, whose text has NUL bytes (`a` is
 * `61 00`), valid UTF-8 without one.
 */
export function alreadyUtf8(scan: Utf8Scan, from: EncodingInfo): boolean {
  if (!scan.valid) return false;
  return from.unit === 1 ? scan.nonAscii : !scan.nul && scan.bytes > 0;
}

/** Decodes, checks and encodes one file, chunk by chunk. */
class Conversion {
  readonly #options: EncodingOptions;
  readonly #file: FileInfo;
  readonly #decoder: ReturnType<Iconv['getDecoder']>;
  readonly #encoder: ReturnType<Iconv['getEncoder']>;
  /** Converting to UTF-8 from an encoding that reads UTF-8 otherwise: the rerun guard. */
  readonly #guard: boolean;
  readonly #scan: Utf8Scan | undefined;
  #bytes = 0;
  #firstText = true;
  #bomPending: boolean;
  /** Found a sequence the source does not define (kept until the end while the input may be UTF-8). */
  #invalid = false;
  /** `?` given to the encoder, and `?` bytes out of it: more out means a character was replaced. */
  #questionsIn = 0;
  #questionsOut = 0;
  #tail = '';

  constructor(options: EncodingOptions, file: FileInfo) {
    const { from, to, force } = options;
    this.#options = options;
    this.#file = file;
    this.#decoder = iconv().getDecoder(from.codec, { stripBOM: false });
    this.#encoder = iconv().getEncoder(to.codec, { addBOM: false });
    this.#guard = !force && to.codec === 'utf8' && from.codec !== 'utf8' && from.codec !== 'cesu8';
    this.#scan = this.#guard || from.codec === 'utf8' ? new Utf8Scan() : undefined;
    this.#bomPending = options.bom || to.codec === 'utf16' || to.codec === 'utf32';
  }

  write(chunk: Buffer): Buffer {
    const { from } = this.#options;
    if (from.unit === 1 && this.#bytes < BINARY_WINDOW) {
      if (chunk.subarray(0, BINARY_WINDOW - this.#bytes).includes(0))
        throw new SkipFile('binary content (encoding works on text)');
    }
    this.#bytes += chunk.length;
    this.#scan?.push(chunk);
    if (this.#scan?.valid === false && (from.codec === 'utf8' || this.#invalid)) throw this.#notValid();
    return this.#encode(this.#decode(this.#decoder.write(chunk)));
  }

  end(): Buffer {
    const { from } = this.#options;
    const scan = this.#scan?.end();
    if (this.#guard && scan !== undefined && alreadyUtf8(scan, from))
      throw new SkipFile(
        `already UTF-8 (not converted from ${from.name}; ${this.#options.forceName ?? '`force`'} converts it anyway)`,
      );
    if (from.codec === 'utf8' && scan?.valid === false) throw this.#notValid();
    if (this.#bytes % from.unit !== 0)
      throw new SkipFile(
        from.unit === 2
          ? `odd byte count: not ${from.name} text`
          : `byte count not a multiple of 4: not ${from.name} text`,
      );
    const text = this.#encode(this.#decode(this.#decoder.end() ?? ''));
    if (this.#invalid) throw this.#notValid();
    const rest = this.#encoder.end() ?? Buffer.alloc(0);
    this.#checkReplaced(rest, '');
    return text.length === 0 ? rest : Buffer.concat([text, rest]);
  }

  #decode(text: string): string {
    if (this.#firstText && text.length > 0) {
      this.#firstText = false;
      if (text.startsWith('\uFEFF')) return this.#decode(text.slice(1));
    }
    if (!this.#options.from.unicode && !this.#invalid && text.includes('\uFFFD')) {
      // iconv-lite decodes what the encoding does not define as U+FFFD, a character no such encoding has.
      this.#invalid = true;
      // Already UTF-8, perhaps: the guard's reason says more than this one, and the end tells.
      if (!this.#guard || this.#scan?.valid === false) throw this.#notValid();
    }
    return text;
  }

  #encode(decoded: string): Buffer {
    let text = decoded;
    if (this.#bomPending) {
      this.#bomPending = false;
      text = `\uFEFF${text}`;
    }
    if (text.length === 0) return Buffer.alloc(0);
    const bytes = this.#encoder.write(text);
    this.#checkReplaced(bytes, text);
    return bytes;
  }

  /** A target that is not Unicode writes `?` for what it cannot hold: fail the file, naming the character. */
  #checkReplaced(bytes: Buffer, text: string): void {
    if (this.#options.to.unicode) return;
    this.#questionsIn += countChar(text, '?');
    this.#questionsOut += countByte(bytes, QUESTION);
    if (this.#questionsOut > this.#questionsIn) throw this.#unrepresentable(this.#tail + text);
    // The encoder may hold a character back (a surrogate, a sequence's start) and replace it later.
    this.#tail = text.slice(-2);
  }

  #unrepresentable(text: string): Error {
    const { to } = this.#options;
    const path = this.#file.path;
    for (const char of text) {
      if (char !== '?' && iconv().encode(char, to.codec).includes(QUESTION)) {
        const code = (char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
        return new Error(`${path}: \`${char}\` (U+${code}) has no ${to.name} encoding`);
      }
    }
    return new Error(`${path}: a character has no ${to.name} encoding`);
  }

  #notValid(): SkipFile {
    const { from } = this.#options;
    return new SkipFile(`not valid ${from.codec === 'utf8' ? 'UTF-8' : from.name} (check --from-encoding)`);
  }
}

/** The encoding transform, whole-file and streamed. */
export function encodingTransform(options: EncodingOptions): ResolvedTransform {
  const { to, bom } = options;
  if (bom && !to.unicode) {
    throw new GlobpipeError(
      'EUSAGE',
      `\`bom\` (--bom) writes a byte-order mark, which only the Unicode encodings have (utf-8, utf-16, utf-32): \`${to.name}\` has none`,
    );
  }
  return {
    name: 'encoding',
    cpuBound: false,
    buffer(content: Buffer, file: FileInfo) {
      const conversion = new Conversion(options, file);
      const head = conversion.write(content);
      const tail = conversion.end();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    },
    stream(file: FileInfo) {
      const conversion = new Conversion(options, file);
      return new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            const bytes = conversion.write(chunk);
            callback(null, bytes.length === 0 ? undefined : bytes);
          } catch (error) {
            callback(error as Error);
          }
        },
        flush(callback) {
          try {
            const bytes = conversion.end();
            callback(null, bytes.length === 0 ? undefined : bytes);
          } catch (error) {
            callback(error as Error);
          }
        },
      });
    },
  };
}
