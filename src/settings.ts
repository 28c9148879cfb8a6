import { readdir, realpath, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { GlobpipeError } from './errors.js';
import { type Io, nodeIo } from './io/io.js';
import { JOURNAL_NAME } from './journal.js';
import { levelRanges } from './transforms/builtins.js';
import { execTransform } from './transforms/exec.js';
import { resolveStages } from './transforms/resolve.js';
import type { ResolvedTransform } from './transforms/resolved.js';
import type { GlobpipeEvent, RunOptions } from './types.js';

/** Files at least this large are streamed at constant memory; smaller ones are read whole. */
export const STREAM_THRESHOLD = 8 * 1024 * 1024;

/** Everything below the public API works from this: validated, defaults filled, rules derived. */
export interface Settings {
  readonly cwd: string;
  readonly patterns: readonly string[];
  readonly out: string;
  readonly inPlace: boolean;
  /** Each stage: one transform, or several that fan out. */
  readonly stages: readonly (readonly ResolvedTransform[])[];
  /** Every path from the first stage to the last: one output per chain. */
  readonly chains: readonly (readonly ResolvedTransform[])[];
  readonly ext: string | undefined;
  /** User ignores plus the output directory when it lies inside `cwd`. */
  readonly ignore: readonly string[];
  readonly dot: boolean;
  readonly followSymlinks: boolean;
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly maxErrors: number;
  readonly fsync: boolean;
  readonly skipExisting: boolean;
  readonly ifNewer: boolean;
  /** Finish an interrupted in-place run from its journal. */
  readonly resume: boolean;
  /** `cwd` and `out` with symlinks resolved (`out` as far as it exists), to compare where files really go. */
  readonly realCwd: string;
  readonly realOut: string;
  /** The output file system folds case (`A.txt` is `a.txt`), so collisions are checked case-insensitively. */
  readonly caseInsensitive: boolean;
  readonly streamThreshold: number;
  /** Small files go through the worker pool in batches (batches.ts): a plain run, on the real file system. */
  readonly batched: boolean;
  readonly signal: AbortSignal | undefined;
  readonly onEvent: (event: GlobpipeEvent) => void;
  readonly io: Io;
  readonly probe: RunOptions['probe'];
}

function usage(message: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', message);
}

function show(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\` (${typeof value})`;
}

function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw usage(`Expected \`${name}\` to be an integer ${range}, got ${show(value)}`);
  }
  return value;
}

function checkBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw usage(`Expected \`${name}\` to be a boolean, got ${show(value)}`);
  return value;
}

function stringList(name: string, value: unknown, allowEmpty: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    (list.length === 0 && !allowEmpty) ||
    list.some((item) => typeof item !== 'string' || item.length === 0)
  ) {
    throw usage(`Expected \`${name}\` to be a non-empty string or a list of them, got ${show(value)}`);
  }
  return [...(list as string[])];
}

/**
 * Files in flight when the user does not say: fewer for CPU-bound work, many for
 * IO-bound work, and more still where small files go in batches (batches.ts):
 * each of its four batches in flight then carries 64 files. Both IO figures are
 * the knees of `npm run bench -- --only sweep`, on warm tmpfs and on a cold ext4
 * disk alike.
 */
export function defaultConcurrency(
  stages: readonly (readonly ResolvedTransform[])[],
  batched: boolean,
  cores: number = availableParallelism(),
): number {
  const cpuBound = stages.some((stage) => stage.some((t) => t.cpuBound));
  if (cpuBound) return Math.max(2, cores * 2);
  return batched ? 256 : 64;
}

function product<T>(stages: readonly (readonly T[])[]): T[][] {
  let chains: T[][] = [[]];
  for (const stage of stages) chains = chains.flatMap((chain) => stage.map((t) => [...chain, t]));
  return chains;
}

function normalizeExt(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || /[/\\\0]/.test(value) || value === '.') {
    throw usage(`Expected \`ext\` to be an extension such as \`.html\`, got ${show(value)}`);
  }
  return value.startsWith('.') ? value : `.${value}`;
}

async function checkDirectory(dir: string, label: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (error) {
    throw new GlobpipeError('ENOCWD', `${label} \`${dir}\` does not exist`, { cause: error, path: dir });
  }
  if (!isDir) throw new GlobpipeError('ENOCWD', `${label} \`${dir}\` is not a directory`, { path: dir });
}

/** `dir`'s real path, resolving the part that exists: `/link/new/dir` -> `/real/new/dir`. */
async function realpathAsFarAsExists(dir: string): Promise<string> {
  const rest: string[] = [];
  let current = dir;
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return dir;
      rest.push(basename(current));
      current = parent;
    }
  }
}

function swapCase(name: string): string {
  return [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

/**
 * Whether the file system that will hold the outputs folds case, found without
 * writing anything: a name that exists there is looked up with its case swapped.
 */
export async function foldsCase(dir: string): Promise<boolean> {
  let current = dir;
  for (;;) {
    const names = await readdir(current).catch(() => undefined);
    if (names !== undefined) {
      const candidates = [...names.slice(0, 50).map((name) => join(current, name)), current];
      for (const path of candidates) {
        const name = basename(path);
        const swapped = swapCase(name);
        if (swapped === name) continue;
        const [a, b] = await Promise.all([
          stat(path).catch(() => undefined),
          stat(join(dirname(path), swapped)).catch(() => undefined),
        ]);
        if (a !== undefined) return b !== undefined && a.ino === b.ino && a.dev === b.dev;
      }
      return false;
    }
    const parent = dirname(current);
    if (parent === current) return false;
    current = parent;
  }
}

/** An option for a built-in that is not in the pipeline is a mistake worth naming. */
function checkTextOptions(options: RunOptions, stages: readonly (readonly ResolvedTransform[])[]): void {
  const used = new Set(stages.flat().map((t) => t.name));
  const owners: [keyof RunOptions, string, string][] = [
    ['from', 'replace', '--from'],
    ['to', 'replace', '--to'],
    ['eol', 'eol', '--eol'],
    ['fromEncoding', 'encoding', '--from-encoding'],
    ['toEncoding', 'encoding', '--to-encoding'],
    ['bom', 'encoding', '--bom'],
  ];
  for (const [key, owner, flag] of owners) {
    if (options[key] !== undefined && !used.has(owner)) {
      throw usage(
        `\`${key}\` (${flag}) is an option of the \`${owner}\` transform, which this run does not use (-t ${owner})`,
      );
    }
  }
}

/** Validates user options once and derives the settings every layer below works from. */
export async function normalizeOptions(options: RunOptions): Promise<Settings> {
  if (typeof options !== 'object' || options === null)
    throw usage(`Expected options object, got ${show(options)}`);
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd === '')) {
    throw usage(`Expected \`cwd\` to be a directory path, got ${show(options.cwd)}`);
  }
  const cwd = resolve(options.cwd ?? '.');
  await checkDirectory(cwd, 'Base directory (cwd)');

  const patterns =
    options.patterns === undefined ? ['**/*'] : stringList('patterns', options.patterns, false);
  const inPlace = checkBoolean('inPlace', options.inPlace);
  if (inPlace && options.out !== undefined) {
    throw usage('`inPlace` and `out` exclude each other: in-place writes each result over its input');
  }
  if (!inPlace && (typeof options.out !== 'string' || options.out === '')) {
    throw usage(
      options.out === undefined
        ? 'Missing output directory: give `out` (--out <dir>) or `inPlace` (--in-place)'
        : `Expected \`out\` to be a directory path, got ${show(options.out)}`,
    );
  }
  const out = inPlace ? cwd : resolve(options.out as string);
  const outStat = await stat(out).catch(() => undefined);
  if (outStat !== undefined && !outStat.isDirectory()) {
    throw usage(`Output directory \`${out}\` exists and is not a directory`);
  }

  const sequential = checkBoolean('sequential', options.sequential);
  if (sequential && options.concurrency !== undefined && options.concurrency !== 1) {
    throw usage(`\`sequential\` means concurrency 1, but \`concurrency\` is ${show(options.concurrency)}`);
  }
  if (options.concurrency !== undefined) checkInteger('concurrency', options.concurrency, 1, 100_000);
  const maxErrors =
    options.failFast === true
      ? 1
      : options.maxErrors === undefined
        ? Number.POSITIVE_INFINITY
        : checkInteger('maxErrors', options.maxErrors, 1);

  const level = options.level === undefined ? undefined : checkInteger('level', options.level, 0, 11);
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
        })),
    ...exec.map((command) => [execTransform(command)]),
  ];
  checkTextOptions(options, stages);
  if (level !== undefined) {
    for (const [name, [min, max]] of Object.entries(levelRanges)) {
      if (stages.some((stage) => stage.some((t) => t.name === name)) && (level < min || level > max)) {
        throw usage(
          `Expected \`level\` for ${name} to be an integer from ${min} to ${max}, got ${show(level)}`,
        );
      }
    }
  }

  const ignore = options.ignore === undefined ? [] : stringList('ignore', options.ignore, true);
  const outFromCwd = relative(cwd, out);
  if (outFromCwd !== '' && !outFromCwd.startsWith('..') && !isAbsolute(outFromCwd)) {
    // Never glob our own outputs: a second run must not nest them.
    ignore.push(`${fg.escapePath(outFromCwd.split('\\').join('/'))}/**`);
  }
  const resume = checkBoolean('resume', options.resume);
  if (resume && !inPlace)
    throw usage('`resume` continues an interrupted in-place run: it needs `inPlace` (--in-place)');
  // Never glob the in-place journal, even with --dot.
  if (inPlace) ignore.push(fg.escapePath(JOURNAL_NAME));
  const realCwd = await realpath(cwd);
  const realOut = await realpathAsFarAsExists(out);

  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw usage(`Expected \`onEvent\` to be a function, got ${show(options.onEvent)}`);
  }

  const dryRun = checkBoolean('dryRun', options.dryRun);
  const skipExisting = checkBoolean('skipExisting', options.skipExisting);
  const ifNewer = checkBoolean('ifNewer', options.ifNewer);
  const io = options.io ?? nodeIo;
  // In place, each file is journaled between its write and its rename; a dry run and
  // --skip-existing / --if-newer decide file by file; a test's own io is faulted call by call.
  const batched = io === nodeIo && !inPlace && !dryRun && !skipExisting && !ifNewer;

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
    concurrency: sequential ? 1 : (options.concurrency ?? defaultConcurrency(stages, batched)),
    batched,
    dryRun,
    maxErrors,
    fsync: checkBoolean('fsync', options.fsync),
    skipExisting,
    ifNewer,
    resume,
    realCwd,
    realOut,
    caseInsensitive: await foldsCase(realOut),
    streamThreshold: STREAM_THRESHOLD,
    signal: options.signal,
    onEvent: options.onEvent ?? (() => {}),
    io,
    probe: options.probe,
  });
}
