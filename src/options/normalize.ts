import { relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { GlobpipeError } from '../errors.js';
import { isInside, toPosix } from '../paths.js';
import { JOURNAL_NAME } from '../run/journal.js';
import { LOCK_NAME } from '../run/lock.js';
import { levelRanges } from '../transforms/builtins.js';
import { execTransform } from '../transforms/exec.js';
import { resolveStages } from '../transforms/resolve.js';
import type { ResolvedTransform } from '../transforms/resolved.js';
import type { RunOptions } from '../types.js';
import type { Settings } from './settings.js';

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

function checkLevel(level: number | undefined, stages: readonly (readonly ResolvedTransform[])[]): void {
  if (level === undefined) return;
  for (const [name, [min, max]] of Object.entries(levelRanges)) {
    if (stages.some((stage) => stage.some((t) => t.name === name)) && (level < min || level > max)) {
      throw usage(
        `Expected \`level\` for ${name} to be an integer from ${min} to ${max}, got ${show(level)}`,
      );
    }
  }
}

async function normalizeStages(options: RunOptions): Promise<ResolvedTransform[][]> {
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
    ...exec.map((command) => [execTransform(command, resolve(options.cwd ?? '.'))]),
  ];
  checkTextOptions(options, stages);
  checkLevel(level, stages);
  return stages;
}

function normalizeConcurrency(options: RunOptions): number | undefined {
  const sequential = checkBoolean('sequential', options.sequential);
  if (sequential && options.concurrency !== undefined && options.concurrency !== 1) {
    throw usage(`\`sequential\` means concurrency 1, but \`concurrency\` is ${show(options.concurrency)}`);
  }
  if (options.concurrency !== undefined) checkInteger('concurrency', options.concurrency, 1, 100_000);
  return sequential ? 1 : options.concurrency;
}

/** Validates user options once and derives the settings every layer below works from. */
export async function normalizeOptions(options: RunOptions): Promise<Settings> {
  if (typeof options !== 'object' || options === null)
    throw usage(`Expected options object, got ${show(options)}`);
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd === '')) {
    throw usage(`Expected \`cwd\` to be a directory path, got ${show(options.cwd)}`);
  }
  const cwd = resolve(options.cwd ?? '.');
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
  const concurrency = normalizeConcurrency(options);
  const maxErrors =
    options.failFast === true
      ? 1
      : options.maxErrors === undefined
        ? Number.POSITIVE_INFINITY
        : checkInteger('maxErrors', options.maxErrors, 1);
  const stages = await normalizeStages(options);

  const ignore = options.ignore === undefined ? [] : stringList('ignore', options.ignore, true);
  if (out !== cwd && isInside(out, cwd)) {
    // Never glob our own outputs: a second run must not nest them.
    ignore.push(`${fg.escapePath(toPosix(relative(cwd, out)))}/**`);
  }
  const resume = checkBoolean('resume', options.resume);
  if (resume && !inPlace)
    throw usage('`resume` continues an interrupted in-place run: it needs `inPlace` (--in-place)');
  // Never glob the in-place journal or lock (nor a lock's takeover temp beside it), even with --dot.
  if (inPlace) ignore.push(fg.escapePath(JOURNAL_NAME), `${fg.escapePath(LOCK_NAME)}*`);
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw usage(`Expected \`onEvent\` to be a function, got ${show(options.onEvent)}`);
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
    maxErrors,
    fsync: checkBoolean('fsync', options.fsync),
    skipExisting: checkBoolean('skipExisting', options.skipExisting),
    ifNewer: checkBoolean('ifNewer', options.ifNewer),
    resume,
    signal: options.signal,
    onEvent: options.onEvent ?? (() => {}),
    port: options.port,
    executor: options.executor,
    probe: options.probe,
  });
}
