import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { ResolvedTransform } from './resolved.js';

export interface BuiltinOptions {
  /** Compression level; each compressor checks its own range. */
  readonly level?: number | undefined;
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);
const brotliAsync = promisify(zlib.brotliCompress);
const unbrotliAsync = promisify(zlib.brotliDecompress);

const appendExt = (ext: string) => (path: string) => path + ext;
const stripExt = (ext: string) => (path: string) =>
  path.endsWith(ext) && path.length > ext.length && !path.endsWith(`/${ext}`)
    ? path.slice(0, -ext.length)
    : path;

function brotliParams(level: number | undefined, size?: number): zlib.BrotliOptions {
  const params: Record<number, number> = {
    [zlib.constants.BROTLI_PARAM_QUALITY]: level ?? zlib.constants.BROTLI_DEFAULT_QUALITY,
  };
  if (size !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = size;
  return { params };
}

export const builtinNames = ['copy', 'gzip', 'gunzip', 'brotli', 'brotli-decompress'] as const;
export type BuiltinName = (typeof builtinNames)[number];

export function isBuiltinName(name: string): name is BuiltinName {
  return (builtinNames as readonly string[]).includes(name);
}

/** Level ranges, checked when options are normalised. */
export const levelRanges = { gzip: [1, 9], brotli: [0, 11] } as const;

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
        buffer: (content) => gzipAsync(content, { level: level ?? zlib.constants.Z_DEFAULT_COMPRESSION }),
        stream: () => zlib.createGzip({ level: level ?? zlib.constants.Z_DEFAULT_COMPRESSION }),
      };
    case 'gunzip':
      return {
        name,
        cpuBound: true,
        rename: stripExt('.gz'),
        buffer: (content) => gunzipAsync(content),
        stream: () => zlib.createGunzip(),
      };
    case 'brotli':
      return {
        name,
        cpuBound: true,
        rename: appendExt('.br'),
        appendsOnly: true,
        buffer: (content) => brotliAsync(content, brotliParams(level, content.length)),
        stream: (file) => zlib.createBrotliCompress(brotliParams(level, file.size)),
      };
    case 'brotli-decompress':
      return {
        name,
        cpuBound: true,
        rename: stripExt('.br'),
        buffer: (content) => unbrotliAsync(content),
        stream: () => zlib.createBrotliDecompress(),
      };
  }
}
