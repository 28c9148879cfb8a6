import { GlobpipeError } from '../errors.js';

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

export type SizeSpec =
  | { readonly kind: 'fixed'; readonly bytes: number }
  | {
      readonly kind: 'lognormal';
      readonly median: number;
      readonly max: number;
      readonly min: number;
      readonly sigma: number;
    };

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

/** splitmix32: turns any 32-bit seed into well-spread state words. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128**: a small, fast, well-tested PRNG; 32-bit unsigned outputs. */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(state: readonly [number, number, number, number]) {
    [this.#a, this.#b, this.#c, this.#d] = state.map((word) => word >>> 0) as [
      number,
      number,
      number,
      number,
    ];
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** From a seed of up to 53 bits, and an optional stream number (a file's index). */
  static from(seed: number, stream = 0): Prng {
    const low = seed % 0x100000000;
    const high = Math.floor(seed / 0x100000000);
    const mix = splitmix32(low ^ Math.imul(high + 1, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1));
    return new Prng([mix(), mix(), mix(), mix()]);
  }

  next(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** In [0, 1). */
  float(): number {
    return this.next() / 0x100000000;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Four words for another generator's state. */
  state(): [number, number, number, number] {
    return [this.next(), this.next(), this.next(), this.next()];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
};

/** Bytes from `512`, `4KiB`, `1.5 MiB`, `2GB` (IEC units are 1024, SI units 1000); `name` is the option, for errors. */
export function parseBytes(text: string, name = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match === null ? undefined : UNITS[(match[2] as string).toLowerCase() || 'b'];
  if (match === null || unit === undefined) {
    throw usage(`${name} expects bytes such as 512, 4KiB, 1.5MiB or 2GiB, got '${text}'`);
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw usage(`${name} is too large: '${text}'`);
  return bytes;
}

/** A fixed size or `lognormal:median=8KiB,max=64MiB[,sigma=1][,min=1]`. */
export function parseSize(value: string | number, name = 'size'): SizeSpec {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw usage(`${name} expects a whole number of bytes >= 0, got ${value}`);
    }
    return { kind: 'fixed', bytes: value };
  }
  const distribution = /^\s*([a-z]+)\s*:(.*)$/is.exec(value);
  if (distribution === null) return { kind: 'fixed', bytes: parseBytes(value, name) };
  if ((distribution[1] as string).toLowerCase() !== 'lognormal') {
    throw usage(`${name}: unknown distribution '${distribution[1]}' (known: lognormal), in '${value}'`);
  }
  const fields = new Map<string, string>();
  for (const part of (distribution[2] as string).split(',')) {
    const field = /^\s*([a-z]+)\s*=\s*(.+?)\s*$/i.exec(part);
    const key = field?.[1]?.toLowerCase();
    if (field === null || key === undefined || !['median', 'max', 'min', 'sigma'].includes(key)) {
      throw usage(`${name}: '${part.trim()}' is not one of median=, max=, min=, sigma= in '${value}'`);
    }
    if (fields.has(key)) throw usage(`${name}: ${key}= is given twice in '${value}'`);
    fields.set(key, field[2] as string);
  }
  const median = fields.get('median');
  const max = fields.get('max');
  if (median === undefined || max === undefined) {
    throw usage(`${name}: lognormal needs median= and max=, e.g. lognormal:median=8KiB,max=64MiB`);
  }
  const spec = {
    kind: 'lognormal' as const,
    median: parseBytes(median, `${name} median`),
    max: parseBytes(max, `${name} max`),
    min: fields.has('min') ? parseBytes(fields.get('min') as string, `${name} min`) : 1,
    sigma: fields.has('sigma') ? Number(fields.get('sigma')) : 1,
  };
  if (!(spec.sigma > 0 && spec.sigma <= 10)) {
    throw usage(`${name}: sigma= expects a number in (0, 10], got '${fields.get('sigma')}'`);
  }
  if (spec.median < 1) throw usage(`${name}: median= must be at least 1 byte, in '${value}'`);
  if (spec.min > spec.median || spec.median > spec.max) {
    throw usage(`${name}: needs min <= median <= max, in '${value}'`);
  }
  return spec;
}

/** The size as the manifest records it: bytes, so `4KiB` and `4096` are the same dataset. */
export function formatSize(spec: SizeSpec): string {
  return spec.kind === 'fixed'
    ? String(spec.bytes)
    : `lognormal:median=${spec.median},max=${spec.max},sigma=${spec.sigma},min=${spec.min}`;
}

/** One size from the spec: log-normal by Box–Muller, rounded, clamped to [min, max]. */
export function drawSize(spec: SizeSpec, prng: Prng): number {
  if (spec.kind === 'fixed') return spec.bytes;
  const u1 = 1 - prng.float(); // (0, 1]: log is finite
  const u2 = prng.float();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  const size = Math.round(Math.exp(Math.log(spec.median) + spec.sigma * z));
  return Math.min(spec.max, Math.max(spec.min, size));
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
