import type { ResolvedTransform } from '../transforms/resolved.js';
import { isCompressor } from '../transforms/web-types.js';
import type { RunOptions } from '../types.js';
import { OptionError } from './names.js';

/**
 * Inputs below this are not compressed (when every output of the run is compressed): a response under ~1 KiB fits in one TCP packet
 * either way, and the `Content-Encoding` header eats most of what it would save. Express's
 * `compression` (threshold `1kb`) and vite-plugin-compression (1025 bytes) draw the line here.
 */
export const DEFAULT_MIN_SIZE = 1024;

/**
 * An output is kept only when it is at most 80% of its input, compression-webpack-plugin's
 * `minRatio`: a file that saves less than a fifth is not worth a second file on disk that the
 * server must choose between, and that a later run could leave stale.
 */
export const DEFAULT_MIN_RATIO = 0.8;

export interface CompressionSettings {
  readonly minSize: number;
  readonly minRatio: number | undefined;
  readonly allTypes: boolean;
  readonly deleteOriginal: boolean;
}

function flag(options: RunOptions, key: 'allTypes' | 'deleteOriginal'): boolean {
  const value = options[key];
  if (value !== undefined && typeof value !== 'boolean')
    throw new OptionError((n) => `Expected ${n.name(key)} to be a boolean, got ${n.value(value)}`);
  return value === true;
}

/**
 * The web defaults of a compressing run, and their checks: `minRatio` and `allTypes` mean
 * nothing without a compressor (usage errors, as `level` is); `minSize` is a plain filter
 * any run may use. `deleteOriginal` never goes with `inPlace` (each input is its output)
 * nor with a run that writes nothing (`discard`).
 */
export function compressionSettings(
  options: RunOptions,
  stages: readonly (readonly ResolvedTransform[])[],
): CompressionSettings {
  const compresses = stages.some((stage) => stage.some(isCompressor));
  // Every output compressed: a small file is then skipped whole. With an output that is not
  // (`-t gzip,copy`), that one is wanted for every file, so no floor unless asked.
  const compressesAll = stages.some((stage) => stage.every(isCompressor));
  const { minSize, minRatio } = options;
  if (minSize !== undefined && (typeof minSize !== 'number' || !Number.isSafeInteger(minSize) || minSize < 0))
    throw new OptionError(
      (n) => `Expected ${n.name('minSize')} to be a number of bytes >= 0, got ${n.value(minSize)}`,
    );
  if (minRatio !== undefined && (typeof minRatio !== 'number' || !(minRatio > 0)))
    throw new OptionError(
      (n) =>
        `Expected ${n.name('minRatio')} to be a ratio > 0 (output/input: 0.8 keeps outputs that save a fifth, Infinity keeps all), got ${n.value(minRatio)}`,
    );
  for (const key of ['minRatio', 'allTypes'] as const) {
    if (options[key] !== undefined && !compresses)
      throw new OptionError(
        (n) =>
          `${n.name(key)} is an option of the compressors (gzip, brotli, zstd, precompress), which this run does not use`,
      );
  }
  const deleteOriginal = flag(options, 'deleteOriginal');
  for (const other of ['inPlace', 'discard'] as const) {
    if (deleteOriginal && options[other] === true)
      throw new OptionError(
        (n) =>
          `${n.name('deleteOriginal')} removes each input once its outputs are written, ${n.name(other)} ${other === 'inPlace' ? 'writes each output over its input' : 'writes no output'}: give one of them`,
      );
  }
  return {
    minSize: minSize ?? (compressesAll ? DEFAULT_MIN_SIZE : 0),
    minRatio: compresses ? (minRatio ?? DEFAULT_MIN_RATIO) : undefined,
    allTypes: flag(options, 'allTypes'),
    deleteOriginal,
  };
}
