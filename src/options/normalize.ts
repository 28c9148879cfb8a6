import { relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { GlobpipeError } from '../errors.js';
import { isInside, toPosix } from '../paths.js';
import { JOURNAL_GLOB } from '../run/journal.js';
import { LOCK_NAME } from '../run/lock.js';
import { levelRanges } from '../transforms/builtins.js';
import { execTransform } from '../transforms/exec.js';
import { resolveStages } from '../transforms/resolve.js';
import type { ResolvedTransform } from '../transforms/resolved.js';
import type { ReadStrategy, RunOptions } from '../types.js';
import { checkBuiltinOptions } from './builtin-options.js';
import { checkOptions } from './check.js';
import { compressionSettings } from './compression.js';
import { incrementalSettings } from './incremental-options.js';
import { runManifestSettings } from './manifest-option.js';
import { keyNames, type Names, type Naming, namingOf, OptionError, type OptionKey } from './names.js';
import type { Settings } from './settings.js';
import { shardSettings } from './shard-options.js';

/** A usage error naming options through `names`: keys for run(), flags for the CLI (names.ts). */
function usage(render: (names: Names) => string): OptionError {
  return new OptionError(render);
}

function checkInteger(name: OptionKey, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw usage((n) => `Expected ${n.name(name)} to be an integer ${range}, got ${n.value(value)}`);
  }
  return value;
}

function checkLevelInteger(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw usage((n) => `Expected ${n.name('level')} to be an integer, got ${n.value(value)}`);
  return value;
}

function checkBoolean(name: OptionKey, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean')
    throw usage((n) => `Expected ${n.name(name)} to be a boolean, got ${n.value(value)}`);
  return value;
}

const READ_STRATEGIES: readonly ReadStrategy[] = ['auto', 'batch', 'single', 'stream', 'direct'];

function checkRead(value: unknown): ReadStrategy {
  if (value === undefined) return 'auto';
  if (typeof value !== 'string' || !READ_STRATEGIES.includes(value as ReadStrategy)) {
    throw usage(
      (n) => `Expected ${n.name('read')} to be one of ${READ_STRATEGIES.join(', ')}, got ${n.value(value)}`,
    );
  }
  return value as ReadStrategy;
}

function stringList(name: OptionKey, value: unknown, allowEmpty: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    (list.length === 0 && !allowEmpty) ||
    list.some((item) => typeof item !== 'string' || item.length === 0)
  ) {
    throw usage(
      (n) => `Expected ${n.name(name)} to be a non-empty string or a list of them, got ${n.value(value)}`,
    );
  }
  return [...(list as string[])];
}

function product<T>(stages: readonly (readonly T[])[]): T[][] {
  let chains: T[][] = [[]];
  for (const stage of stages) chains = chains.flatMap((chain) => stage.map((t) => [...chain, t]));
  return chains;
}

function normalizeExt(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || /[/\\\0]/.test(value) || value === '.') {
    throw usage(
      (n) => `Expected ${n.name('ext')} to be an extension such as \`.html\`, got ${n.value(value)}`,
    );
  }
  return value.startsWith('.') ? value : `.${value}`;
}

/** `gzip` -> `-t gzip` on the command line, `` `gzip` `` for run(). */
function transformNames(names: readonly string[], n: Names): string {
  return listed(
    names.map((name) => (n.naming === 'flag' ? `-t ${name}` : `\`${name}\``)),
    'or',
  );
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[], word: 'and' | 'or'): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}

/**
 * An option for a built-in that is not in the pipeline is a mistake worth naming: `--level`
 * with `-t copy` compresses nothing, `--from` without `-t replace` replaces nothing.
 */
function checkTextOptions(options: RunOptions, stages: readonly (readonly ResolvedTransform[])[]): void {
  const used = new Set(stages.flat().map((t) => t.name));
  const owners: [OptionKey, readonly string[]][] = [
    ['from', ['replace']],
    ['to', ['replace']],
    ['eol', ['eol']],
    ['fromEncoding', ['encoding']],
    ['toEncoding', ['encoding']],
    ['bom', ['encoding']],
    ['force', ['encoding']],
    ['level', Object.keys(levelRanges)],
  ];
  for (const [key, names] of owners) {
    if (options[key] !== undefined && !names.some((name) => used.has(name))) {
      const what = listed(
        names.map((name) => `\`${name}\``),
        'and',
      );
      throw usage(
        (n) =>
          `${n.name(key)} is an option of the ${what} transform${names.length > 1 ? 's' : ''}, which this run does not use ` +
          (n.naming === 'flag'
            ? `(add ${transformNames(names, n)})`
            : `(add ${transformNames(names, n)} to ${n.name('transforms')})`),
      );
    }
  }
}

/** `-t gzip --level 12`: `--level 12 is out of range: gzip levels are 1–9`; each range it misses, named. */
function checkLevel(level: number | undefined, stages: readonly (readonly ResolvedTransform[])[]): void {
  if (level === undefined) return;
  const used = new Set(stages.flat().map((t) => t.name));
  const missed = Object.entries(levelRanges).filter(
    ([name, [min, max]]) => used.has(name) && (level < min || level > max),
  );
  if (missed.length > 0) {
    const ranges = missed.map(([name, [min, max]]) => `${name} levels are ${min}–${max}`).join(', ');
    throw usage((n) => `${n.name('level')} ${level} is out of range: ${ranges}`);
  }
}

/**
 * Options that contradict or cancel each other are usage errors (exit 2), never warnings:
 * each asks for something the run would not do, and a warning scrolls past in a build log
 * while the run does the other thing; the error costs one edit, before anything is written.
 * So are options of a transform the run does not use (checkTextOptions). Options that only
 * repeat each other (`sequential` with concurrency 1, `failFast` with maxErrors 1) are fine.
 */
function checkCombinations(options: RunOptions): void {
  if (options.failFast === true && options.maxErrors !== undefined && options.maxErrors !== 1) {
    throw usage(
      (n) =>
        `${n.name('failFast')} stops at the first failure, but ${n.name('maxErrors')} is ${n.value(options.maxErrors)}: give one of them`,
    );
  }
  if (options.skipExisting === true && options.ifNewer === true) {
    throw usage(
      (n) =>
        `${n.name('skipExisting')} skips every output that exists, so ${n.name('ifNewer')} would never rewrite a stale one: give one of them`,
    );
  }
  if (options.deleteOriginal === true && options.deleteStale === true) {
    // Every input deleted after its run is, to the next run, an input that is gone.
    throw usage(
      (n) =>
        `${n.name('deleteOriginal')} removes each input once it is written, and ${n.name('deleteStale')} would then remove its outputs on the next run: give one of them`,
    );
  }
  for (const other of ['dryRun', 'inPlace'] as const) {
    if (options.discard === true && options[other] === true) {
      throw usage(
        (n) =>
          `${n.name('discard')} reads every file and writes nothing, ${n.name(other)} ${other === 'dryRun' ? 'reads nothing' : 'writes over the inputs'}: give one of them`,
      );
    }
  }
}

async function normalizeStages(options: RunOptions, naming: Naming): Promise<ResolvedTransform[][]> {
  const level = options.level === undefined ? undefined : checkLevelInteger(options.level);
  checkBuiltinOptions(options);
  const exec = options.exec === undefined ? [] : stringList('exec', options.exec, false);
  // `--exec` alone is the whole pipeline; with -t, it runs after the transforms.
  const onlyExec = options.transforms === undefined && exec.length > 0;
  const stages = [
    ...(onlyExec
      ? []
      : await resolveStages(options.transforms, {
          level,
          from: options.from,
          to: options.to,
          eol: options.eol,
          fromEncoding: options.fromEncoding,
          toEncoding: options.toEncoding,
          bom: options.bom,
          force: options.force === undefined ? undefined : checkBoolean('force', options.force),
          naming,
        })),
    ...exec.map((command) => [execTransform(command, resolve(options.cwd ?? '.'))]),
  ];
  checkTextOptions(options, stages);
  checkLevel(level, stages);
  return stages;
}

function normalizeConcurrency(options: RunOptions): number | undefined {
  const sequential = checkBoolean('sequential', options.sequential);
  if (sequential && options.concurrency !== undefined && options.concurrency !== 1) {
    throw usage(
      (n) =>
        `${n.name('sequential')} means concurrency 1, but ${n.name('concurrency')} is ${n.value(options.concurrency)}`,
    );
  }
  if (options.concurrency !== undefined) checkInteger('concurrency', options.concurrency, 1, 100_000);
  return sequential ? 1 : options.concurrency;
}

/**
 * Validates user options once and derives the settings every layer below works from.
 * Errors name options as the caller does: keys for run(), flags when the CLI built them (names.ts).
 */
export async function normalizeOptions(options: RunOptions): Promise<Settings> {
  if (typeof options !== 'object' || options === null)
    throw new GlobpipeError('EUSAGE', `Expected options object, got ${keyNames.value(options)}`);
  const naming = namingOf(options);
  try {
    checkOptions(options, naming);
    return await settingsOf(options, naming);
  } catch (error) {
    throw error instanceof OptionError ? error.in(naming) : error;
  }
}

async function settingsOf(options: RunOptions, naming: Naming): Promise<Settings> {
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd === '')) {
    throw usage((n) => `Expected ${n.name('cwd')} to be a directory path, got ${n.value(options.cwd)}`);
  }
  const cwd = resolve(options.cwd ?? '.');
  const patterns =
    options.patterns === undefined ? ['**/*'] : stringList('patterns', options.patterns, false);
  const inPlace = checkBoolean('inPlace', options.inPlace);
  if (inPlace && options.out !== undefined) {
    throw usage(
      (n) =>
        `${n.name('inPlace')} and ${n.name('out')} exclude each other: in-place writes each result over its input`,
    );
  }
  if (!inPlace && (typeof options.out !== 'string' || options.out === '')) {
    throw usage((n) =>
      options.out === undefined
        ? `Missing output directory: give ${n.name('out')} or ${n.name('inPlace')}`
        : `Expected ${n.name('out')} to be a directory path, got ${n.value(options.out)}`,
    );
  }
  const out = inPlace ? cwd : resolve(options.out as string);
  const concurrency = normalizeConcurrency(options);
  checkCombinations(options);
  const maxErrors =
    options.failFast === true
      ? 1
      : options.maxErrors === undefined
        ? Number.POSITIVE_INFINITY
        : checkInteger('maxErrors', options.maxErrors, 1);
  const stages = await normalizeStages(options, naming);

  const ignore = options.ignore === undefined ? [] : stringList('ignore', options.ignore, true);
  if (out !== cwd && isInside(out, cwd)) {
    // Never glob our own outputs: a second run must not nest them.
    ignore.push(`${fg.escapePath(toPosix(relative(cwd, out)))}/**`);
  }
  const resume = checkBoolean('resume', options.resume);
  if (resume && !inPlace)
    throw usage(
      (n) => `${n.name('resume')} continues an interrupted in-place run: it needs ${n.name('inPlace')}`,
    );
  // Never glob the in-place journal or lock (nor a lock's takeover temp beside it), even with --dot.
  if (inPlace) ignore.push(JOURNAL_GLOB, `${fg.escapePath(LOCK_NAME)}*`);
  const shard = shardSettings(options, process.env);
  const { ignore: manifestIgnore, ...incremental } = incrementalSettings(options, cwd, shard);
  ignore.push(...manifestIgnore);
  const runManifest = runManifestSettings(options, cwd);
  ignore.push(...runManifest.ignore);
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw usage((n) => `Expected ${n.name('onEvent')} to be a function, got ${n.value(options.onEvent)}`);
  }

  return Object.freeze({
    cwd,
    patterns,
    out,
    inPlace,
    stages,
    chains: product(stages),
    ext: normalizeExt(options.ext),
    ignore,
    dot: checkBoolean('dot', options.dot),
    followSymlinks: checkBoolean('followSymlinks', options.followSymlinks),
    errorOnUnmatchedPattern:
      options.errorOnUnmatchedPattern === undefined ||
      checkBoolean('errorOnUnmatchedPattern', options.errorOnUnmatchedPattern),
    concurrency,
    dryRun: checkBoolean('dryRun', options.dryRun),
    read: checkRead(options.read),
    discard: checkBoolean('discard', options.discard),
    maxErrors,
    fsync: checkBoolean('fsync', options.fsync),
    skipExisting: checkBoolean('skipExisting', options.skipExisting),
    ifNewer: checkBoolean('ifNewer', options.ifNewer),
    resume,
    ...incremental,
    manifest: runManifest.manifest,
    ...compressionSettings(options, stages),
    shard,
    only: options.only === undefined ? undefined : stringList('only', options.only, true),
    naming,
    signal: options.signal,
    onEvent: options.onEvent ?? (() => {}),
    port: options.port,
    executor: options.executor,
    probe: options.probe,
  });
}
