import { GlobpipeError } from '../errors.js';
import { type Kind, type Names, type Naming, namesFor, type OptionInfo, optionTable } from './names.js';

/** `dry-run`, `dryRun`, `DRY_RUN` -> `dryrun`: spellings of one name compare equal. */
function fold(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function usage(message: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', message);
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`: Damerau-Levenshtein, OSA form. */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const d = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number) => d[i * width + j] as number;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name `name` was most likely meant as, if any: the same name in another case or
 * spelling (`dryrun` -> `dryRun`), else the nearest within two edits (one for short names:
 * `concurency` -> `concurrency`), else one it starts or ends with (`conc` -> `concurrency`).
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const wanted = fold(name);
  const folded = known.map((candidate) => [candidate, fold(candidate)] as const);
  const same = folded.find(([, f]) => f === wanted);
  if (same !== undefined) return same[0];
  const limit = wanted.length <= 4 ? 1 : 2;
  let nearest: string | undefined;
  let nearestDistance = limit + 1;
  for (const [candidate, f] of folded) {
    const distance = editDistance(wanted, f);
    if (distance < nearestDistance) [nearest, nearestDistance] = [candidate, distance];
  }
  if (nearest !== undefined) return nearest;
  if (wanted.length < 3) return undefined;
  return folded.find(([, f]) => f.startsWith(wanted) || (f.length >= 3 && wanted.startsWith(f)))?.[0];
}

/**
 * Throws a usage error naming every key of `given` that is not in `known`, each with the
 * known name it most likely meant (from `suggest`, default `known`):
 * ``Unknown option `concurency`: did you mean `concurrency`?``. `show` writes a name as
 * the user wrote it: a key in backticks, or a flag.
 */
export function checkKeys(
  given: Iterable<string>,
  known: readonly string[],
  show: (name: string) => string,
  suggest: readonly string[] = known,
): void {
  const knownSet = new Set(known);
  const unknown = [...given].filter((key) => !knownSet.has(key));
  const guesses = unknown.map((key) => [key, didYouMean(key, suggest)] as const);
  const [only, ...more] = guesses;
  if (only === undefined) return;
  if (more.length === 0) {
    const [key, meant] = only;
    throw usage(`Unknown option ${show(key)}${meant === undefined ? '' : `: did you mean ${show(meant)}?`}`);
  }
  const list = guesses.map(([key, meant]) =>
    meant === undefined ? show(key) : `${show(key)} (did you mean ${show(meant)}?)`,
  );
  throw usage(`Unknown options: ${list.join(', ')}`);
}

const kinds: Record<Kind, readonly [string, (value: unknown) => boolean]> = {
  boolean: ['a boolean', (v) => typeof v === 'boolean'],
  number: ['a number', (v) => typeof v === 'number'],
  string: ['a string', (v) => typeof v === 'string'],
  strings: [
    'a string or a list of strings',
    (v) => typeof v === 'string' || (Array.isArray(v) && v.every((item) => typeof item === 'string')),
  ],
  pattern: ['a string or a RegExp', (v) => typeof v === 'string' || v instanceof RegExp],
  transforms: [
    'a transform (a name, a module path or an object) or a list of them',
    (v) => typeof v === 'string' || (typeof v === 'object' && v !== null),
  ],
  function: ['a function', (v) => typeof v === 'function'],
  'switch-or-string': ['a boolean or a string', (v) => typeof v === 'boolean' || typeof v === 'string'],
  signal: ['an AbortSignal', (v) => v instanceof AbortSignal],
  object: ['an object', (v) => typeof v === 'object' && v !== null],
};

const table = optionTable as Readonly<Record<string, OptionInfo>>;
const keys = Object.keys(table);
const publicKeys = keys.filter((key) => table[key]?.internal !== true);

/**
 * Checks an object of run options before anything reads it: every key must be an option
 * (internal ones too), and every value given the kind its option takes. Errors name options
 * as `naming` says: `` `concurrency` `` (run(), a config file) or `--concurrency` (the CLI).
 */
export function checkOptions(options: object, naming: Naming = 'key'): void {
  const names = namesFor(naming);
  checkKeys(Object.keys(options), keys, names.name, publicKeys);
  checkKinds(options, names);
}

/** Every value of `options` (whose keys are options) is of the kind its option takes. */
export function checkKinds(options: object, names: Names): void {
  for (const [key, value] of Object.entries(options)) {
    const [what, test] = kinds[(table[key] as OptionInfo).kind];
    if (value !== undefined && !test(value)) {
      throw usage(`Expected ${names.name(key)} to be ${what}, got ${names.value(value)}`);
    }
  }
}
