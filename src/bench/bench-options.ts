import { resolve } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { checkKeys } from '../options/check.js';
import { type Names, namesFor, namingOf } from '../options/names.js';
import { isBuiltinName } from '../transforms/builtins.js';
import { resolveStages } from '../transforms/resolve.js';
import type { BenchReport, CacheState, Cell, ReadStrategy, Work } from './types.js';

/**
 * bench()'s options checked before anything reads them, as run()'s are (options/check.ts):
 * an unknown key is named with the key it most likely meant, a value of the wrong type names
 * the option and both types (`` Expected `runs` to be a whole number from 1, got `3` (string) ``),
 * an empty list is refused rather than measuring nothing. Messages name keys for a library
 * caller and flags for the command line (which marks its options, options/names.ts).
 */

export interface BenchOptions {
  /** The dataset's directory. */
  readonly cwd: string;
  /** fast-glob patterns relative to `cwd` (default `**\/*`). */
  readonly patterns?: readonly string[];
  /** Default 1, 4, 16, 64, 256 (--quick: 1, 16, 256). */
  readonly concurrency?: readonly number[];
  /** Default warm and cold (cold only where the file system has a colder state). */
  readonly cache?: readonly CacheState[];
  /** Default `auto`. */
  readonly read?: readonly ReadStrategy[];
  /** Default `copy`. */
  readonly work?: readonly Work[];
  /** UV_THREADPOOL_SIZE values (default: globpipe's own). */
  readonly threadpool?: readonly number[];
  /** `-t` stages for the `transform` work (default `gzip`). */
  readonly transforms?: readonly string[];
  /** Measured runs per cell (default 10; --quick 3) and unmeasured ones before (default 1). */
  readonly runs?: number;
  readonly warmup?: number;
  readonly quick?: boolean;
  /** Where runs write: a new directory beside the dataset by default (same file system), removed after. */
  readonly scratch?: string;
  /** An earlier `--export-json` (or hyperfine JSON): each cell's change against it. */
  readonly baseline?: string;
  /** Also run fio's reference jobs (when fio is installed). */
  readonly fio?: boolean;
  readonly coldMethod?: 'drop-caches' | 'fadvise';
  /** The sync-loop and no-IO overhead cells (default true). */
  readonly references?: boolean;
  /** Called once the dataset, machine and cells are known, before the first run. */
  readonly onStart?: (plan: BenchPlan) => void;
  readonly onProgress?: (progress: BenchProgress) => void;
  readonly signal?: AbortSignal;
}

/** What bench will measure, before the first run: the report's header, and its cells' settings. */
export type BenchPlan = Pick<BenchReport, 'machine' | 'dataset' | 'cold' | 'runs' | 'warmup' | 'notes'> & {
  readonly cells: readonly Cell[];
};

export interface BenchProgress {
  readonly phase: 'warmup' | 'measure' | 'fio';
  /** Runs done of all runs (warmup included). */
  readonly done: number;
  readonly total: number;
  readonly cell: string;
}

type Check = (value: unknown) => string | undefined;

/** A list of items that pass `item`: empty only when `empty` (patterns: none means all files). */
const list =
  (what: string, item: (value: unknown) => boolean, empty = false): Check =>
  (value) => {
    if (!Array.isArray(value)) return `a list of ${what}`;
    if (value.length === 0 && !empty) return `a non-empty list of ${what}`;
    return value.every(item) ? undefined : `a list of ${what}`;
  };

const wholeFrom =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

const oneOf = (allowed: readonly string[]) => (value: unknown) =>
  typeof value === 'string' && allowed.includes(value);

const kind =
  (what: string, test: (value: unknown) => boolean): Check =>
  (value) =>
    test(value) ? undefined : what;

/** libuv takes at most 1,024 threads (UV_THREADPOOL_SIZE above it is cut to 1,024). */
const MAX_POOL = 1024;

const checks: Readonly<Record<string, Check>> = {
  cwd: kind('a string', (value) => typeof value === 'string' && value !== ''),
  patterns: list('strings', (value) => typeof value === 'string' && value !== '', true),
  concurrency: list('whole numbers from 1', wholeFrom(1)),
  cache: list('warm, cold', oneOf(['warm', 'cold'])),
  read: list('auto, batch, single, stream, direct', oneOf(['auto', 'batch', 'single', 'stream', 'direct'])),
  work: list('read, copy, transform, fsync', oneOf(['read', 'copy', 'transform', 'fsync'])),
  threadpool: list(`whole numbers from 1 to ${MAX_POOL}`, wholeFrom(1, MAX_POOL)),
  transforms: list('transform names or module paths', (value) => typeof value === 'string' && value !== ''),
  runs: kind('a whole number from 1', wholeFrom(1)),
  warmup: kind('a whole number from 0', wholeFrom(0)),
  quick: kind('a boolean', (value) => typeof value === 'boolean'),
  scratch: kind('a string', (value) => typeof value === 'string' && value !== ''),
  baseline: kind('a string', (value) => typeof value === 'string' && value !== ''),
  fio: kind('a boolean', (value) => typeof value === 'boolean'),
  coldMethod: kind('drop-caches or fadvise', oneOf(['drop-caches', 'fadvise'])),
  references: kind('a boolean', (value) => typeof value === 'boolean'),
  onStart: kind('a function', (value) => typeof value === 'function'),
  onProgress: kind('a function', (value) => typeof value === 'function'),
  signal: kind('an AbortSignal', (value) => value instanceof AbortSignal),
};

/** bench's own flags where they are not `--` + the key in kebab case. */
const FLAGS: Readonly<Record<string, string>> = {
  cwd: '-C/--cwd',
  concurrency: '-j/--concurrency',
  transforms: '-t/--transform',
  patterns: 'the patterns',
  references: '--no-references',
};

/** How messages name bench's options: `` `runs` `` for the library, `--runs` for the command line. */
export function benchNames(options: object): Names {
  const names = namesFor(namingOf(options));
  if (names.naming === 'key') return names;
  return { ...names, name: (key) => FLAGS[key] ?? names.name(key) };
}

/** A value as its option was given: a list as typed after its flag (`1,2000`), else as run()'s messages show it. */
function shown(names: Names, value: unknown): string {
  return names.naming === 'flag' && Array.isArray(value) ? `'${value.join(',')}'` : names.value(value);
}

/** Throws EUSAGE for the first problem: an unknown key, a missing `cwd`, a value of the wrong kind. */
export function checkBenchOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new GlobpipeError('EUSAGE', `Expected bench() options to be an object, got ${String(options)}`);
  const names = benchNames(options);
  checkKeys(Object.keys(options), Object.keys(checks), names.name);
  const given = options as Record<string, unknown>;
  if (given.cwd === undefined)
    throw new GlobpipeError('EUSAGE', `${names.name('cwd')} is missing: the dataset's directory`);
  for (const [key, value] of Object.entries(given)) {
    const wanted = value === undefined ? undefined : checks[key]?.(value);
    if (wanted !== undefined)
      throw new GlobpipeError(
        'EUSAGE',
        `Expected ${names.name(key)} to be ${wanted}, got ${shown(names, value)}`,
      );
  }
}

/**
 * The `-t` values of the transform work, each checked as a run would check it (a built-in
 * name or a module that loads, `gzip,brotli` a fan-out), so that a typo fails before the
 * first run rather than in every run; a module's path made absolute, so that the recorded
 * command reruns from any directory.
 */
export async function checkedTransforms(values: readonly string[], flag: string): Promise<string[]> {
  const stages = values.map((value) => value.split(',').map((spec) => spec.trim()));
  try {
    await resolveStages(stages, {});
  } catch (error) {
    throw new GlobpipeError('EUSAGE', `${flag}: ${(error as Error).message}`, { cause: error });
  }
  return stages.map((stage) => stage.map((spec) => (isBuiltinName(spec) ? spec : resolve(spec))).join(','));
}
