import { GlobpipeError } from '../errors.js';
import { Prng } from './prng.js';
import { drawSize, formatSize, parseSize } from './sizes.js';

export { Prng } from './prng.js';
export { drawSize, formatSize, parseBytes, parseSize, type SizeSpec } from './sizes.js';

/**
 * The dataset generator's plan: from the options and a seed, every file's path, size and
 * content kind, and nothing else. Pure: no IO, no clock, no Math.random; the same
 * parameters give the same plan on every machine and every Node version.
 * gen-write.ts writes it.
 */

/** What a file holds: prose-like words (compressible), PRNG bytes (incompressible), zeros. */
export type GenContentKind = 'text' | 'random' | 'zeros';
/** `mixed`: each file one of the three kinds, chosen by the seed. */
export type GenContent = GenContentKind | 'mixed';
export type GenPreset = 'small' | 'web' | 'large';

/** Progress as data: the CLI draws it. */
export interface GenProgress {
  readonly filesDone: number;
  readonly files: number;
  readonly bytesDone: number;
  readonly bytes: number;
}

export interface GenOptions {
  /** Where the dataset goes; created if missing. It must be empty or hold a dataset of `gen`. */
  readonly dir: string;
  /** How many files (default 1,000, or the preset's). */
  readonly files?: number;
  /** Bytes, `4KiB`, `1.5MiB`, `512`, or `lognormal:median=8KiB,max=64MiB[,sigma=1][,min=1]`. */
  readonly size?: string | number;
  /** Directory levels above each file (default 2). */
  readonly depth?: number;
  /** Subdirectories per directory (default 10). */
  readonly fanout?: number;
  readonly content?: GenContent;
  /** `small`: 20,000 files of 4 KiB text; `web`: a web build's mix; `large`: 4 files of 256 MiB. */
  readonly preset?: GenPreset;
  /** Any integer from 0 to 2^53-1 (default 1). The same seed writes the same bytes. */
  readonly seed?: number;
  /** Files written at once (default 16). Does not change a byte. */
  readonly concurrency?: number;
  readonly onProgress?: (progress: GenProgress) => void;
  readonly signal?: AbortSignal;
}

/** Everything that decides the bytes: what the manifest records and a rerun compares. */
export interface GenParameters {
  readonly files: number;
  /** The size as normalised text (`4096`, `lognormal:median=8192,max=2097152,sigma=1,min=1`). */
  readonly size: string;
  readonly depth: number;
  readonly fanout: number;
  /** `web`: by extension, as the web preset mixes them. */
  readonly content: GenContent | 'web';
  readonly preset: GenPreset | null;
  readonly seed: number;
}

export interface GenSummary {
  /** The dataset's directory, absolute. */
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** Files written by this call: 0 when the dataset was already up to date. */
  readonly written: number;
  readonly upToDate: boolean;
  readonly seconds: number;
  readonly parameters: GenParameters;
}

export interface PlannedFile {
  /** Relative, with forward slashes: `d03/d01/f000123.txt`. */
  readonly path: string;
  readonly size: number;
  readonly content: GenContentKind;
  /** Seeds this file's own content stream, so files can be written in any order. */
  readonly seed: readonly [number, number, number, number];
}

interface Preset {
  readonly files: number;
  readonly size: string;
  readonly depth: number;
  readonly fanout: number;
  readonly content: GenContent | 'web';
}

export const PRESETS: Readonly<Record<GenPreset, Preset>> = {
  small: { files: 20_000, size: '4KiB', depth: 2, fanout: 10, content: 'text' },
  web: { files: 2_000, size: 'lognormal:median=8KiB,max=2MiB', depth: 3, fanout: 5, content: 'web' },
  large: { files: 4, size: '256MiB', depth: 0, fanout: 1, content: 'random' },
};

const DEFAULTS: Preset = { files: 1_000, size: '4KiB', depth: 2, fanout: 10, content: 'text' };

/** A web build's files: extension, share of the files (in %), and what they hold. */
const WEB_MIX: readonly (readonly [string, number, GenContentKind])[] = [
  ['js', 35, 'text'],
  ['css', 10, 'text'],
  ['html', 15, 'text'],
  ['svg', 15, 'text'],
  ['png', 20, 'random'],
  ['woff2', 5, 'random'],
];

const EXTENSIONS: Record<GenContentKind, string> = { text: 'txt', random: 'bin', zeros: 'dat' };
const CONTENTS: readonly GenContent[] = ['text', 'random', 'zeros', 'mixed'];
const MAX_FILES = 100_000_000;
const MAX_DEPTH = 16;
const MAX_FANOUT = 10_000;

function usage(message: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', message);
}

function integerOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usage(
      `${name} expects an integer from ${min} to ${max.toLocaleString('en')}, got ${String(value)}`,
    );
  }
  return value;
}

/** The options checked, a preset applied under the explicit ones: the parameters that decide every byte. */
export function resolveParameters(options: Omit<GenOptions, 'dir'>): GenParameters {
  const { preset } = options;
  if (preset !== undefined && !Object.hasOwn(PRESETS, preset)) {
    throw usage(`preset expects small, web or large, got '${String(preset)}'`);
  }
  if (options.content !== undefined && !CONTENTS.includes(options.content)) {
    throw usage(`content expects text, random, zeros or mixed, got '${String(options.content)}'`);
  }
  const base = preset === undefined ? DEFAULTS : PRESETS[preset];
  return {
    files: integerOption('files', options.files ?? base.files, 1, MAX_FILES),
    size: formatSize(parseSize(options.size ?? base.size)),
    depth: integerOption('depth', options.depth ?? base.depth, 0, MAX_DEPTH),
    fanout: integerOption('fanout', options.fanout ?? base.fanout, 1, MAX_FANOUT),
    content: options.content ?? base.content,
    preset: preset ?? null,
    seed: integerOption('seed', options.seed ?? 1, 0, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * Every file, in order. File i lands in leaf directory i mod fanout^depth (round robin, so
 * every directory fills evenly): with depth 2 and fanout 10, `d03/d07/f000073.txt`. Sizes
 * and kinds come from one stream of the seed; each file's content from its own stream.
 */
export function planDataset(parameters: GenParameters): PlannedFile[] {
  const { files, depth, fanout, content, seed } = parameters;
  const size = parseSize(parameters.size);
  const prng = Prng.from(seed);
  const leaves = fanout ** depth;
  const dirDigits = Math.max(2, String(fanout - 1).length);
  const fileDigits = Math.max(6, String(files - 1).length);
  const plan: PlannedFile[] = [];
  for (let index = 0; index < files; index += 1) {
    let kind: GenContentKind;
    let extension: string;
    if (content === 'web') {
      const pick = prng.below(100);
      let entry = WEB_MIX[0] as (typeof WEB_MIX)[0];
      for (let i = 0, total = 0; i < WEB_MIX.length; i += 1) {
        total += (WEB_MIX[i] as (typeof WEB_MIX)[0])[1];
        if (pick < total) {
          entry = WEB_MIX[i] as (typeof WEB_MIX)[0];
          break;
        }
      }
      kind = entry[2];
      extension = entry[0];
    } else {
      kind =
        content === 'mixed' ? ((['text', 'random', 'zeros'] as const)[prng.below(3)] ?? 'text') : content;
      extension = EXTENSIONS[kind as GenContentKind];
    }
    const parts: string[] = [];
    let leaf = leaves > 1 ? index % leaves : 0;
    for (let level = 0; level < depth; level += 1) {
      parts.unshift(`d${String(leaf % fanout).padStart(dirDigits, '0')}`);
      leaf = Math.floor(leaf / fanout);
    }
    parts.push(`f${String(index).padStart(fileDigits, '0')}.${extension}`);
    plan.push({
      path: parts.join('/'),
      size: drawSize(size, prng),
      content: kind as GenContentKind,
      seed: prng.state(),
    });
  }
  return plan;
}
