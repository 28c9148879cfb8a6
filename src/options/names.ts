import { GlobpipeError } from '../errors.js';
import type { RunOptions } from '../types.js';

export type OptionKey = keyof RunOptions;

/** What an option's value must be, checked before anything reads it (check.ts). */
export type Kind =
  | 'boolean'
  | 'number'
  | 'string'
  | 'strings' // a string or a list of strings
  | 'pattern' // a string or a RegExp
  | 'transforms' // a stage or a list of stages (transforms/resolve.ts checks each)
  | 'function'
  | 'switch-or-string' // true/false, or a string (`--incremental [manifest]`)
  | 'signal'
  | 'object';

export interface OptionInfo {
  /** Its command-line flag; none for options only the library takes. */
  readonly flag?: string;
  readonly kind: Kind;
  /** A hook for tests: accepted, never suggested. */
  readonly internal?: true;
}

/**
 * Every key of RunOptions, with its flag and the kind of its value. The type keeps it
 * complete: an option added to RunOptions does not compile until it has a line here.
 */
export const optionTable: { readonly [K in OptionKey]-?: OptionInfo } = {
  cwd: { flag: '--cwd', kind: 'string' },
  patterns: { kind: 'strings' },
  out: { flag: '--out', kind: 'string' },
  inPlace: { flag: '--in-place', kind: 'boolean' },
  transforms: { flag: '--transform', kind: 'transforms' },
  ext: { flag: '--ext', kind: 'string' },
  ignore: { flag: '--ignore', kind: 'strings' },
  dot: { flag: '--dot', kind: 'boolean' },
  followSymlinks: { flag: '--follow-symlinks', kind: 'boolean' },
  concurrency: { flag: '--concurrency', kind: 'number' },
  sequential: { flag: '--sequential', kind: 'boolean' },
  dryRun: { flag: '--dry-run', kind: 'boolean' },
  failFast: { flag: '--fail-fast', kind: 'boolean' },
  maxErrors: { flag: '--max-errors', kind: 'number' },
  fsync: { flag: '--fsync', kind: 'boolean' },
  skipExisting: { flag: '--skip-existing', kind: 'boolean' },
  ifNewer: { flag: '--if-newer', kind: 'boolean' },
  resume: { flag: '--resume', kind: 'boolean' },
  exec: { flag: '--exec', kind: 'strings' },
  from: { flag: '--from', kind: 'pattern' },
  to: { flag: '--to', kind: 'string' },
  eol: { flag: '--eol', kind: 'string' },
  fromEncoding: { flag: '--from-encoding', kind: 'string' },
  toEncoding: { flag: '--to-encoding', kind: 'string' },
  bom: { flag: '--bom', kind: 'boolean' },
  force: { flag: '--force', kind: 'boolean' },
  errorOnUnmatchedPattern: { flag: '--error-on-unmatched-pattern', kind: 'boolean' },
  level: { flag: '--level', kind: 'number' },
  minSize: { flag: '--min-size', kind: 'number' },
  minRatio: { flag: '--min-ratio', kind: 'number' },
  allTypes: { flag: '--all-types', kind: 'boolean' },
  deleteOriginal: { flag: '--delete-original', kind: 'boolean' },
  read: { flag: '--read', kind: 'string' },
  discard: { flag: '--discard', kind: 'boolean' },
  incremental: { flag: '--incremental', kind: 'switch-or-string' },
  deleteStale: { flag: '--delete-stale', kind: 'boolean' },
  shard: { flag: '--shard', kind: 'string' },
  shardStrategy: { flag: '--shard-strategy', kind: 'string' },
  shardCount: { flag: '--shard-count', kind: 'number' },
  manifest: { flag: '--manifest', kind: 'string' },
  signal: { kind: 'signal' },
  onEvent: { kind: 'function' },
  port: { kind: 'object', internal: true },
  executor: { kind: 'string', internal: true },
  probe: { kind: 'object', internal: true },
  only: { kind: 'strings', internal: true },
};

/**
 * How messages name options: by key for run() and config files (`` `inPlace` ``), by flag
 * for the command line (`--in-place`). Values follow suit: `` `4` (string) `` tells a
 * library user the type; the command line shows what was typed (`4`, `'a/b'`).
 */
export type Naming = 'key' | 'flag';

export interface Names {
  readonly naming: Naming;
  /** `inPlace` as `` `inPlace` `` or `--in-place`; a name that is no option (a typo) the same way. */
  readonly name: (key: string) => string;
  readonly value: (value: unknown) => string;
}

/** `` `4` (string) ``, `` `/a/g` (RegExp) ``, `an object`: what a value is, never the whole of it. */
function showValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value instanceof RegExp) return `\`${value}\` (RegExp)`;
  if (Array.isArray(value)) {
    try {
      return `\`${JSON.stringify(value)}\` (array)`;
    } catch {
      return 'an array';
    }
  }
  if (typeof value === 'object' && value !== null) return 'an object';
  return `\`${String(value)}\` (${value === null ? 'null' : typeof value})`;
}

/** `12`, `'a/b'`: a value as it was typed after its flag. */
function showArgument(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? `'${value}'` : showValue(value);
}

/** `dryRun` -> `--dry-run`: what a key that has no flag would be called on the command line. */
function asFlag(key: string): string {
  return key.length === 1 ? `-${key}` : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function flagOf(key: string): string {
  const info = (optionTable as Readonly<Record<string, OptionInfo>>)[key];
  return info === undefined ? asFlag(key) : (info.flag ?? `\`${key}\``);
}

export const keyNames: Names = { naming: 'key', name: (key) => `\`${key}\``, value: showValue };
export const flagNames: Names = { naming: 'flag', name: flagOf, value: showArgument };

export function namesFor(naming: Naming): Names {
  return naming === 'flag' ? flagNames : keyNames;
}

/**
 * The CLI marks the run options it builds with this, so that errors about them name flags.
 * A symbol: no config file or library user can set it by accident, and no key check sees it.
 */
export const NAMING: unique symbol = Symbol('globpipe.naming');

/** `options` marked with how errors about them should name them (run() reads the mark). */
export function withNaming<T extends object>(options: T, naming: Naming): T {
  return Object.assign(options, { [NAMING]: naming });
}

export function namingOf(options: object): Naming {
  return (options as { [NAMING]?: Naming })[NAMING] === 'flag' ? 'flag' : 'key';
}

/**
 * A usage error whose message names options: written once, as a function of the names, and
 * rendered in the caller's naming where options enter (normalizeOptions). Its own message
 * names keys, so it reads right wherever it is caught.
 */
export class OptionError extends GlobpipeError {
  readonly #render: (names: Names) => string;

  constructor(render: (names: Names) => string, cause?: unknown) {
    super('EUSAGE', render(keyNames), { cause });
    this.#render = render;
  }

  /** The same error, its message naming options as `naming` does (or as `names` name them: a config file's keys). */
  in(naming: Naming | Names): GlobpipeError {
    if (naming === 'key') return this;
    const names = typeof naming === 'string' ? namesFor(naming) : naming;
    return new GlobpipeError('EUSAGE', this.#render(names), { cause: this.cause });
  }
}
