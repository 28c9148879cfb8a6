import { GlobpipeError } from '../errors.js';
import type { Prng } from './prng.js';

/* Sizes as gen takes them: `512`, `4KiB`, `1.5GiB`, `2KB`, or a log-normal distribution. */

function usage(message: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', message);
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
