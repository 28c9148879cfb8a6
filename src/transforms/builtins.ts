import { createRequire } from 'node:module';
import { type Duplex, PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type * as Zlib from 'node:zlib';
import { GlobpipeError } from '../errors.js';
import { encodingTransform } from './encoding.js';
import { resolveEncoding } from './encoding-names.js';
import type { ResolvedTransform } from './resolved.js';
import { StreamInstead } from './skip.js';
import { eolTransform, replaceTransform } from './text.js';
import { brotliModeOf } from './web-types.js';

/** `/a(b)+/i` is a pattern with flags; anything else is the pattern's source. */
export function parsePattern(from: string | RegExp): RegExp {
  if (from instanceof RegExp) return from;
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(from);
  try {
    return literal === null ? new RegExp(from, 'g') : new RegExp(literal[1] as string, literal[2]);
  } catch (error) {
    throw new GlobpipeError(
      'EUSAGE',
      `\`--from\` is not a valid regular expression: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export interface BuiltinOptions {
  /** Compression level; each compressor checks its own range. */
  readonly level?: number | undefined;
  /** `replace`: the pattern, as a RegExp or its source (`/a(b)/i` or plain `a(b)`). */
  readonly from?: string | RegExp | undefined;
  /** `replace`: the replacement, with `$1`, `$<name>`, `$&`. */
  readonly to?: string | undefined;
  /** `eol`: the line ending to write. */
  readonly eol?: string | undefined;
  /** `encoding`: what the input is in, and what to write. */
  readonly fromEncoding?: string | undefined;
  readonly toEncoding?: string | undefined;
  /** `encoding`: start the output with a byte-order mark. */
  readonly bom?: boolean | undefined;
  /** `encoding`: convert input that is already UTF-8 too. */
  readonly force?: boolean | undefined;
  /** How the caller names options in reasons it reads (`--force` on the command line). */
  readonly naming?: 'key' | 'flag' | undefined;
}

// zlib is loaded on first use: a copy or a text run never pays for compiling it at startup.
const load = createRequire(import.meta.url);
let loaded: typeof Zlib | undefined;
const zlib = (): typeof Zlib => {
  loaded ??= load('node:zlib') as typeof Zlib;
  return loaded;
};
const gzipAsync = (content: Buffer, options: Zlib.ZlibOptions) => promisify(zlib().gzip)(content, options);
/**
 * Output a decompressor's whole-buffer form may hold. Its input alone cannot tell (a 2 MB
 * gzip can hold 2 GiB), so past this the file is streamed instead (StreamInstead).
 */
export const INFLATE_LIMIT = 32 * 1024 * 1024;

/** Decompresses whole, or asks for the file to be streamed when its output passes INFLATE_LIMIT. */
async function inflate(
  content: Buffer,
  decompress: (content: Buffer, options: Zlib.ZlibOptions) => Promise<Buffer>,
): Promise<Buffer> {
  try {
    return await decompress(content, { maxOutputLength: INFLATE_LIMIT });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new StreamInstead('large output');
    throw error;
  }
}
const gunzipAsync = (content: Buffer) => inflate(content, promisify(zlib().gunzip));
const brotliAsync = (content: Buffer, options: Zlib.BrotliOptions) =>
  promisify(zlib().brotliCompress)(content, options);
const unbrotliAsync = (content: Buffer) => inflate(content, promisify(zlib().brotliDecompress));

const appendExt = (ext: string) => (path: string) => path + ext;
const stripExt = (ext: string) => (path: string) =>
  path.endsWith(ext) && path.length > ext.length && !path.endsWith(`/${ext}`)
    ? path.slice(0, -ext.length)
    : path;

/**
 * Brotli's parameters for a file: its quality, its size (the encoder sizes its window to
 * it), and its mode from the file's type (web-types.ts): the font model for fonts, the
 * UTF-8 text model for html, css, js, json, svg and the like, generic for the rest.
 */
export function brotliParams(level: number | undefined, size: number, path: string): Zlib.BrotliOptions {
  const { constants } = zlib();
  const mode = brotliModeOf(path);
  return {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: level ?? constants.BROTLI_DEFAULT_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: size,
      [constants.BROTLI_PARAM_MODE]:
        mode === 'font'
          ? constants.BROTLI_MODE_FONT
          : mode === 'text'
            ? constants.BROTLI_MODE_TEXT
            : constants.BROTLI_MODE_GENERIC,
    },
  };
}

/** Node's zstd (22.15 and later; not in the types of the Node this builds against). */
interface Zstd {
  zstdCompress(
    content: Buffer,
    options: object,
    callback: (error: Error | null, result: Buffer) => void,
  ): void;
  createZstdCompress(options: object): Duplex;
  constants: { ZSTD_c_compressionLevel: number };
}

/** zlib's zstd, or a usage error on a Node without it: the name is known, the Node is too old. */
function zstd(): Zstd {
  const z = zlib() as unknown as Partial<Zstd>;
  if (typeof z.createZstdCompress !== 'function' || typeof z.zstdCompress !== 'function')
    throw new GlobpipeError(
      'EUSAGE',
      `\`zstd\` needs Node 22.15 or later (this is ${process.version}): its zlib has no zstd`,
    );
  return z as Zstd;
}

function zstdOptions(z: Zstd, level: number | undefined): object {
  return level === undefined ? {} : { params: { [z.constants.ZSTD_c_compressionLevel]: level } };
}

export const builtinNames = [
  'copy',
  'gzip',
  'gunzip',
  'brotli',
  'brotli-decompress',
  'zstd',
  'replace',
  'eol',
  'encoding',
] as const;
export type BuiltinName = (typeof builtinNames)[number];

/**
 * `precompress`: gzip and brotli fanned out from one read, at their highest levels (gzip 9,
 * brotli 11), as precompress and vite-plugin-compression write them: a build step compresses
 * once and the server sends the result a million times, so every byte saved pays; `--level`
 * still sets both. The web defaults (types skipped, minSize, minRatio) are every compressor's.
 */
export const PRECOMPRESS = { name: 'precompress', gzip: 9, brotli: 11 } as const;

/** Every name `transforms` takes for a built-in. */
export const knownNames: readonly string[] = [...builtinNames, PRECOMPRESS.name];

export function isBuiltinName(name: string): name is BuiltinName {
  return (builtinNames as readonly string[]).includes(name);
}

/** Level ranges, checked when options are normalised. */
export const levelRanges = { gzip: [1, 9], brotli: [0, 11], zstd: [1, 22] } as const;

export function builtin(name: BuiltinName, options: BuiltinOptions): ResolvedTransform {
  const { level } = options;
  switch (name) {
    case 'copy':
      return {
        name,
        identity: true,
        cpuBound: false,
        buffer: (content) => content,
        stream: () => new PassThrough(),
      };
    case 'gzip':
      return {
        name,
        cpuBound: true,
        rename: appendExt('.gz'),
        appendsOnly: true,
        buffer: (content) => gzipAsync(content, { level: level ?? zlib().constants.Z_DEFAULT_COMPRESSION }),
        stream: () => zlib().createGzip({ level: level ?? zlib().constants.Z_DEFAULT_COMPRESSION }),
      };
    case 'gunzip':
      return {
        name,
        cpuBound: true,
        rename: stripExt('.gz'),
        buffer: (content) => gunzipAsync(content),
        stream: () => zlib().createGunzip(),
      };
    case 'brotli':
      return {
        name,
        cpuBound: true,
        rename: appendExt('.br'),
        appendsOnly: true,
        buffer: (content, file) => brotliAsync(content, brotliParams(level, content.length, file.path)),
        stream: (file) => zlib().createBrotliCompress(brotliParams(level, file.size, file.path)),
      };
    case 'zstd': {
      const z = zstd();
      return {
        name,
        cpuBound: true,
        rename: appendExt('.zst'),
        appendsOnly: true,
        buffer: (content) => promisify(z.zstdCompress)(content, zstdOptions(z, level)),
        stream: () => z.createZstdCompress(zstdOptions(z, level)),
      };
    }
    case 'replace':
      if (options.from === undefined || options.to === undefined) {
        throw new GlobpipeError(
          'EUSAGE',
          '`replace` needs a pattern and a replacement: --from <regex> --to <replacement>',
        );
      }
      return replaceTransform(parsePattern(options.from), options.to);
    case 'eol': {
      const eol = (options.eol ?? 'lf').toLowerCase();
      if (eol !== 'lf' && eol !== 'crlf') {
        throw new GlobpipeError(
          'EUSAGE',
          `Expected \`eol\` to be \`lf\` or \`crlf\`, got \`${options.eol}\``,
        );
      }
      return eolTransform(eol);
    }
    case 'encoding': {
      if (options.fromEncoding === undefined) {
        throw new GlobpipeError(
          'EUSAGE',
          '`encoding` needs --from-encoding <name>: the encoding the files are in (windows-1252, shift_jis, utf-16le, …)',
        );
      }
      return encodingTransform({
        from: resolveEncoding('`fromEncoding` (--from-encoding)', options.fromEncoding),
        to: resolveEncoding('`toEncoding` (--to-encoding)', options.toEncoding ?? 'utf-8'),
        bom: options.bom === true,
        force: options.force === true,
        forceName: options.naming === 'flag' ? '--force' : '`force`',
      });
    }
    case 'brotli-decompress':
      return {
        name,
        cpuBound: true,
        rename: stripExt('.br'),
        buffer: (content) => unbrotliAsync(content),
        stream: () => zlib().createBrotliDecompress(),
      };
  }
}
