import type { Argv } from 'yargs';
import { checkKeys } from '../options/check.js';

/** What the command-line parsers share: usage errors, numbers, single values, the flag check. */

/** Bad command-line usage: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const numeric = { string: true, number: true } as const;

interface YargsOptions {
  readonly key: Record<string, unknown>;
  readonly alias: Record<string, readonly string[]>;
  readonly boolean: readonly string[];
}

const asFlag = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

/**
 * Names every unknown flag, each with the one it most likely meant (`--dryrun`: did you mean
 * --dry-run?), by the check run() and config files use. It runs before yargs' own strict
 * check, which stays for what it alone knows (an unknown command).
 */
export function checkFlags(raw: readonly string[], argv: Record<string, unknown>, cli: unknown): void {
  if (argv.version === true) return; // as --help: it answers whatever else was given
  const { key, alias, boolean } = (cli as { getOptions(): YargsOptions }).getOptions();
  // A switch takes no value: yargs would read `--dry-run=1` as false, and the run would write.
  const switches = new Set([...boolean, ...boolean.flatMap((name) => alias[name] ?? [])]);
  for (const arg of raw) {
    if (arg === '--') break;
    const given = /^--(?:no-)?([^=]+)=(.*)$/s.exec(arg);
    if (given !== null && switches.has(given[1] as string) && !/^(true|false)$/.test(given[2] as string)) {
      const flag = `--${given[1]}`;
      throw new UsageError(
        `${flag} is a switch and takes no value, got '${given[2]}': write ${flag}, or --no-${given[1]}`,
      );
    }
  }
  const names = Object.keys(key);
  const long = names.filter((name) => name.length > 1);
  const negatable = long.filter((name) => switches.has(name));
  const known = [
    ...names,
    ...Object.values(alias).flat(),
    ...negatable.map((name) => `no-${name}`),
    '_',
    '$0',
    // What follows `--` (`globpipe -C d -- -x.txt`: a pattern that starts with a dash).
    '--',
  ];
  // `--no-x` reaches argv as x: false; an unknown one is named, and matched, as typed.
  const typed = Object.keys(argv).map((name) =>
    argv[name] === false && raw.some((arg) => arg === `--no-${name}` || arg.startsWith(`--no-${name}=`))
      ? `no-${name}`
      : name,
  );
  try {
    checkKeys(typed, known, asFlag, [...long, ...negatable.map((name) => `no-${name}`)]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < min) {
    throw new UsageError(`${flag} expects an integer >= ${min}, got '${value}'`);
  }
  return number;
}

/** `0.8`, `.75`, `1e-3`, `Infinity` (keep every output, as compression-webpack-plugin spells it): a number > 0. */
export function ratio(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\s*(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)\s*$/.test(value) || !(number > 0)) {
    throw new UsageError(
      `${flag} expects a number > 0 (output/input, such as 0.8; Infinity keeps every output), got '${value}'`,
    );
  }
  return number;
}

export function single(flag: string, value: unknown): string | undefined {
  if (Array.isArray(value)) throw new UsageError(`${flag} may be given once, got ${value.length} values`);
  return value as string | undefined;
}

/** What both parsers (the default command, `gen`) set the same way: the flag check, strictness, help, version. */
export function common<T>(cli: Argv<T>, version: string, raw: readonly string[]): Argv<T> {
  return cli
    .middleware(
      ((argv: Record<string, unknown>, command: unknown) => checkFlags(raw, argv, command)) as (
        argv: Record<string, unknown>,
      ) => void,
      true,
    )
    .strict()
    .strictOptions()
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': true })
    .help()
    .alias('help', 'h')
    .version(version)
    .alias('version', 'V')
    .wrap(Math.min(110, process.stdout.columns || 100));
}

/** Parses without exiting or printing: the arguments, the help or version text, or yargs' failure. */
export async function parseQuietly<T>(parser: Argv<T>, argv: readonly string[]) {
  let output = '';
  let failure: string | undefined;
  const args = await parser
    .exitProcess(false)
    .fail((message, error) => {
      failure = message || error?.message || 'invalid arguments';
    })
    .parseAsync([...argv], {}, (_error, _argv, text) => {
      output = text;
    });
  return { args, output, failure: failure as string | undefined };
}
