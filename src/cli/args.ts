import yargs, { type Argv } from 'yargs';
import { type GenContent, type GenOptions, type GenPreset, parseSize } from '../bench/gen.js';
import { GlobpipeError } from '../errors.js';
import { checkKeys } from '../options/check.js';
import { withNaming } from '../options/names.js';
import { builtinNames } from '../transforms/builtins.js';
import type { RunOptions, TransformStage } from '../types.js';

/** Bad command-line usage: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliOptions {
  readonly run: RunOptions;
  readonly progress: boolean | undefined;
  readonly quiet: boolean;
  readonly json: boolean;
}

export interface GenCliOptions {
  readonly gen: GenOptions;
  readonly progress: boolean | undefined;
  readonly quiet: boolean;
  readonly json: boolean;
}

export type ParsedArgs =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'gen'; options: GenCliOptions }
  | { kind: 'exit'; code: number; output: string };

/**
 * A number option: yargs keeps its text (a string option is never coerced), so `-j many` is
 * named as typed, and --help labels it [number] (yargs shows the number type last).
 */
const numeric = { string: true, number: true } as const;

const examples: [string, string][] = [
  [
    "$0 -C fixtures/site '**/*' -t gzip -o out",
    'gzip every file of fixtures/site into out/ (a.css -> out/a.css.gz)',
  ],
  [
    "$0 -C dist '**/*.{js,css,html,svg}' -t gzip,brotli -o dist",
    'write .gz and .br beside each asset (fan-out: one read)',
  ],
  [
    "$0 -C src '**/*.md' -t ./md-to-html.mjs --ext .html -o site",
    'convert Markdown with your own transform module',
  ],
  ["$0 -C backup '**/*.gz' -t gunzip -o restored", 'decompress (a.txt.gz -> restored/a.txt)'],
  ["$0 -C photos '**/*' -o /mnt/copy --sequential", 'copy one file at a time, to compare with the default'],
  [
    "$0 -C logs '**/*.log' -t gzip -o archive --json > report.ndjson",
    'one JSON line per file, then a summary',
  ],
];

/** What yargs knows of the flags (not in its types): every declared name, and each one's aliases. */
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
function checkFlags(raw: readonly string[], argv: Record<string, unknown>, cli: unknown): void {
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

function build(cli: Argv, version: string, raw: readonly string[] = []) {
  return cli
    .scriptName('globpipe')
    .usage(
      '$0 [patterns..] [options]\n$0 gen <dir> [options]      write a synthetic dataset (globpipe gen --help)\n\nGlob files, run them through transforms and write the results, many at a time.',
    )
    .command('$0 [patterns..]', 'process files (default command)', (command) =>
      command.positional('patterns', {
        describe: "fast-glob patterns relative to --cwd; '!pattern' excludes (default: '**/*')",
        type: 'string',
        array: true,
      }),
    )
    .options({
      cwd: {
        alias: 'C',
        type: 'string',
        default: '.',
        describe: 'base directory for patterns and mirrored output paths',
        requiresArg: true,
      },
      out: {
        alias: 'o',
        type: 'string',
        describe: 'output directory: each file lands at <out>/<path relative to cwd>',
        requiresArg: true,
      },
      'in-place': { type: 'boolean', describe: 'replace each input with its result (atomically)' },
      resume: {
        type: 'boolean',
        describe: 'with --in-place: finish an interrupted run, skipping the files it completed',
      },
      transform: {
        alias: 't',
        type: 'string',
        array: true,
        describe: `built-in (${builtinNames.join(', ')}) or module path; repeat to chain, comma list to fan out (default: copy)`,
        requiresArg: true,
        // One value an occurrence: a pattern after `-t gzip` stays a pattern.
        nargs: 1,
      },
      exec: {
        type: 'string',
        array: true,
        describe:
          'run a shell command per file: file on stdin, result from stdout; {in} {rel} {out} give paths',
        requiresArg: true,
        nargs: 1,
      },
      ext: { type: 'string', describe: "replace the output file's extension, e.g. .html", requiresArg: true },
      from: {
        type: 'string',
        describe: 'replace: the pattern, a regex (`a(b+)` or `/a(b+)/i`; every match)',
        requiresArg: true,
      },
      to: { type: 'string', describe: 'replace: the replacement, with $1 groups', requiresArg: true },
      // `-t eol` alone writes LF: said here and in the README, not at run time, where a build
      // step would print the same line on every run.
      eol: {
        type: 'string',
        describe: 'eol: the line ending to write, lf or crlf',
        defaultDescription: 'lf',
        requiresArg: true,
      },
      'from-encoding': {
        type: 'string',
        describe:
          'encoding: what the files are in, any iconv-lite name (utf-16le, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r, …)',
        requiresArg: true,
      },
      'to-encoding': {
        type: 'string',
        describe: 'encoding: what to write (default utf-8)',
        requiresArg: true,
      },
      bom: {
        type: 'boolean',
        describe:
          'encoding: start the output with a byte-order mark (input BOMs are removed; utf-16 and utf-32 always get one)',
      },
      force: {
        type: 'boolean',
        describe:
          'encoding: convert files that are already UTF-8 too (skipped by default, so a rerun never encodes twice)',
      },
      level: {
        ...numeric,
        describe: 'compression level: gzip 1-9 (default 6), brotli 0-11 (default 11)',
        requiresArg: true,
      },
      ignore: {
        alias: 'i',
        type: 'string',
        array: true,
        describe: 'glob to exclude (repeatable); --out is always excluded',
        requiresArg: true,
        nargs: 1,
      },
      dot: { type: 'boolean', describe: 'match names that start with a dot' },
      'follow-symlinks': { type: 'boolean', describe: 'follow symbolic links to files and directories' },
      'error-on-unmatched-pattern': {
        type: 'boolean',
        describe:
          'a pattern that matches no file is an error, exit 2 (default; --no-error-on-unmatched-pattern: it is not)',
      },
      concurrency: {
        alias: 'j',
        ...numeric,
        describe: 'files in flight (default: chosen from the machine and the transforms)',
        requiresArg: true,
      },
      sequential: { type: 'boolean', describe: 'one file at a time: the same pipeline as -j 1' },
      'dry-run': { type: 'boolean', describe: 'show what would be written, write nothing' },
      'skip-existing': { type: 'boolean', describe: "don't rewrite outputs that exist" },
      'if-newer': { type: 'boolean', describe: "don't rewrite outputs newer than their input" },
      'fail-fast': { type: 'boolean', describe: 'start nothing new after the first failure' },
      'max-errors': { ...numeric, describe: 'start nothing new after N failures', requiresArg: true },
      fsync: { type: 'boolean', describe: 'flush each output and its directory to disk (durable, slower)' },
      progress: { type: 'boolean', describe: 'progress bar on stderr (default: when stderr is a terminal)' },
      quiet: { alias: 'q', type: 'boolean', describe: 'print only errors' },
      json: { type: 'boolean', describe: 'NDJSON on stdout: one object per file, then a summary' },
    })
    .example(examples)
    .epilog(
      'Exit codes: 0 all good, 1 some files failed, 2 usage error (nothing written), 128+n interrupted by signal n (Ctrl-C 130, SIGTERM 143, SIGHUP 129).',
    )
    .middleware(
      ((argv: Record<string, unknown>, cli: unknown) => checkFlags(raw, argv, cli)) as (
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

const genExamples: [string, string][] = [
  ['$0 gen data --files 2000 --size 4KiB', '2,000 files of 4 KiB of text under data/ (seed 1)'],
  ['$0 gen data --size lognormal:median=8KiB,max=64MiB --seed 7', 'sizes drawn log-normally, seed 7'],
  ['$0 gen web --preset web', "a web build's mix of js/css/html/svg/png/woff2"],
  ['$0 gen big --preset large --content zeros', 'the large preset, but all zeros'],
];

function buildGen(cli: Argv, version: string, raw: readonly string[]) {
  return cli
    .scriptName('globpipe')
    .usage(
      '$0 gen <dir> [options]\n\nWrite a synthetic dataset into <dir>, deterministic from --seed: the same parameters write the same bytes. A rerun with the same parameters does nothing; a directory that is not empty and holds no dataset of these parameters is refused.',
    )
    .command('$0 <dir>', false, (command) =>
      command.positional('dir', { describe: 'where the dataset goes (created if missing)', type: 'string' }),
    )
    .options({
      files: { ...numeric, describe: 'how many files (default 1000)', requiresArg: true },
      size: {
        type: 'string',
        describe:
          "each file's size: 512, 4KiB, 1.5MiB, or lognormal:median=8KiB,max=64MiB[,sigma=1][,min=1] (default 4KiB)",
        requiresArg: true,
      },
      depth: { ...numeric, describe: 'directory levels above each file (default 2)', requiresArg: true },
      fanout: { ...numeric, describe: 'subdirectories per directory (default 10)', requiresArg: true },
      content: {
        type: 'string',
        describe:
          'text (compressible), random (incompressible), zeros, or mixed (each file one of them) (default text)',
        requiresArg: true,
      },
      preset: {
        type: 'string',
        describe:
          "small: 20,000 x 4 KiB text; web: 2,000 files, a web build's mix; large: 4 x 256 MiB random. Options given override it",
        requiresArg: true,
      },
      seed: { ...numeric, describe: 'any integer >= 0 (default 1)', requiresArg: true },
      concurrency: {
        alias: 'j',
        ...numeric,
        describe: 'files written at once (default 16)',
        requiresArg: true,
      },
      progress: {
        type: 'boolean',
        describe: 'a progress line on stderr (default: when stderr is a terminal)',
      },
      quiet: { alias: 'q', type: 'boolean', describe: 'print only errors' },
      json: { type: 'boolean', describe: 'the summary as one JSON line on stdout' },
    })
    .example(genExamples)
    .epilog(
      'Exit codes: 0 written or up to date, 1 a write failed, 2 usage error (nothing written), 130 interrupted.',
    )
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

function choice<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined || (choices as readonly string[]).includes(value)) return value as T | undefined;
  throw new UsageError(`${flag} expects ${choices.join(', ')}, got '${value}'`);
}

/** `globpipe gen <dir> [options]`: the arguments after `gen`, into gen()'s options. */
async function parseGenArgs(argv: readonly string[], version: string): Promise<ParsedArgs> {
  let output = '';
  let failure: string | undefined;
  const parser = buildGen(yargs([...argv]), version, argv)
    .exitProcess(false)
    .fail((message, error) => {
      failure = message || error?.message || 'invalid arguments';
    });
  const args = await parser.parseAsync([...argv], {}, (_error, _argv, text) => {
    output = text;
  });
  if (failure !== undefined) {
    throw new UsageError(
      /^Not enough non-option arguments/.test(failure)
        ? 'gen needs <dir>, the directory to write the dataset into: globpipe gen <dir> [options]'
        : `gen: ${failure}`,
    );
  }
  if (args.help === true || args.version === true) return { kind: 'exit', code: 0, output };
  const size = single('--size', args.size);
  if (size !== undefined) {
    try {
      parseSize(size, '--size');
    } catch (error) {
      if (error instanceof GlobpipeError) throw new UsageError(error.message);
      throw error;
    }
  }
  const gen: GenOptions = {
    dir: single('<dir>', args.dir) as string,
    files: integer('--files', single('--files', args.files), 1),
    size,
    depth: integer('--depth', single('--depth', args.depth), 0),
    fanout: integer('--fanout', single('--fanout', args.fanout), 1),
    content: choice<GenContent>('--content', single('--content', args.content), [
      'text',
      'random',
      'zeros',
      'mixed',
    ]),
    preset: choice<GenPreset>('--preset', single('--preset', args.preset), ['small', 'web', 'large']),
    seed: integer('--seed', single('--seed', args.seed), 0),
    concurrency: integer('-j/--concurrency', single('-j/--concurrency', args.concurrency), 1),
  };
  return {
    kind: 'gen',
    options: {
      gen: Object.fromEntries(Object.entries(gen).filter(([, value]) => value !== undefined)) as GenOptions,
      progress: args.progress,
      quiet: args.quiet === true,
      json: args.json === true,
    },
  };
}

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < min) {
    throw new UsageError(`${flag} expects an integer >= ${min}, got '${value}'`);
  }
  return number;
}

function single(flag: string, value: unknown): string | undefined {
  if (Array.isArray(value)) throw new UsageError(`${flag} may be given once, got ${value.length} values`);
  return value as string | undefined;
}

/** `-t a -t b,c` -> stages `['a', ['b', 'c']]`. */
export function parseTransformFlags(values: readonly string[]): TransformStage[] {
  return values.map((value) => {
    const names = value.split(',').map((name) => name.trim());
    if (names.some((name) => name === ''))
      throw new UsageError(`-t/--transform has an empty name in '${value}'`);
    return names.length === 1 ? (names[0] as string) : names;
  });
}

/** Parses argv into run options, or into output and an exit code (help, version, bad usage). */
export async function parseArgs(argv: readonly string[], version: string): Promise<ParsedArgs> {
  // `gen` as the first word is the subcommand (a pattern named `gen` can be written `./gen`).
  if (argv[0] === 'gen') return parseGenArgs(argv.slice(1), version);
  let output = '';
  let failure: string | undefined;
  const parser = build(yargs([...argv]), version, argv)
    .exitProcess(false)
    .fail((message, error) => {
      failure = message || error?.message || 'invalid arguments';
    });
  const args = await parser.parseAsync([...argv], {}, (_error, _argv, text) => {
    output = text;
  });
  if (failure !== undefined) throw new UsageError(failure);
  if (args.help === true || args.version === true) return { kind: 'exit', code: 0, output };

  const patterns = Array.isArray(args.patterns) ? args.patterns.map(String) : [];
  const transforms = args.transform === undefined ? undefined : parseTransformFlags(args.transform);
  const run: RunOptions = {
    cwd: single('-C/--cwd', args.cwd),
    out: single('-o/--out', args.out),
    inPlace: args['in-place'],
    resume: args.resume,
    patterns: patterns.length === 0 ? undefined : patterns,
    transforms,
    ext: single('--ext', args.ext),
    exec: args.exec,
    from: single('--from', args.from),
    to: single('--to', args.to),
    eol: single('--eol', args.eol) as RunOptions['eol'],
    fromEncoding: single('--from-encoding', args['from-encoding']),
    toEncoding: single('--to-encoding', args['to-encoding']),
    bom: args.bom,
    force: args.force,
    level: integer('--level', single('--level', args.level), 0),
    ignore: args.ignore,
    dot: args.dot,
    followSymlinks: args['follow-symlinks'],
    errorOnUnmatchedPattern: args['error-on-unmatched-pattern'],
    concurrency: integer('-j/--concurrency', single('-j/--concurrency', args.concurrency), 1),
    sequential: args.sequential,
    dryRun: args['dry-run'],
    skipExisting: args['skip-existing'],
    ifNewer: args['if-newer'],
    failFast: args['fail-fast'],
    maxErrors: integer('--max-errors', single('--max-errors', args['max-errors']), 1),
    fsync: args.fsync,
  };
  if (run.out === undefined && run.inPlace !== true) {
    throw new UsageError('missing -o/--out <dir> (or --in-place to replace the inputs)');
  }
  return {
    kind: 'run',
    options: {
      run: withNaming(run, 'flag'),
      progress: args.progress,
      quiet: args.quiet === true,
      json: args.json === true,
    },
  };
}
