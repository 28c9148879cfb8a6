import yargs, { type Argv } from 'yargs';
import { withNaming } from '../options/names.js';
import { builtinNames } from '../transforms/builtins.js';
import type { RunOptions, TransformStage } from '../types.js';
import { type BenchCliOptions, parseBenchArgs } from './bench-args.js';
import { common, integer, numeric, parseQuietly, single, UsageError } from './flags.js';
import { type GenCliOptions, parseGenArgs } from './gen-args.js';

export interface CliOptions {
  readonly run: RunOptions;
  readonly progress: boolean | undefined;
  readonly quiet: boolean;
  readonly json: boolean;
  /** `--report <file>`: the summary as JSON, with the process's figures. */
  readonly report: string | undefined;
  /** `--watch`: after the first run, process changes as they happen (cli/watch-main.ts). */
  readonly watch: boolean;
}

export type ParsedArgs =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'gen'; options: GenCliOptions }
  | { kind: 'bench'; options: BenchCliOptions }
  | { kind: 'exit'; code: number; output: string };

/**
 * A number option: yargs keeps its text (a string option is never coerced), so `-j many` is
 * named as typed, and --help labels it [number] (yargs shows the number type last).
 */

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

function build(cli: Argv, version: string, raw: readonly string[] = []) {
  return common(
    cli
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
        ext: {
          type: 'string',
          describe: "replace the output file's extension, e.g. .html",
          requiresArg: true,
        },
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
        read: {
          type: 'string',
          describe:
            'how files are read, for measuring IO modes: auto, batch (many per request), single, stream, direct (O_DIRECT)',
          defaultDescription: 'auto',
          requiresArg: true,
        },
        discard: {
          type: 'boolean',
          describe: 'read and transform every file, write nothing (measures reads)',
        },
        'delete-stale': {
          type: 'boolean',
          describe: 'remove the outputs globpipe wrote for inputs that are gone (with --watch: as they go)',
        },
        watch: {
          type: 'boolean',
          describe:
            'after the first run, process changed, added and deleted files as they change (Ctrl-C stops)',
        },
        report: {
          type: 'string',
          describe:
            'write the summary as JSON to this file when done, with the process CPU time and peak RSS',
          requiresArg: true,
        },
        progress: {
          type: 'boolean',
          describe: 'progress bar on stderr (default: when stderr is a terminal)',
        },
        quiet: { alias: 'q', type: 'boolean', describe: 'print only errors' },
        json: { type: 'boolean', describe: 'NDJSON on stdout: one object per file, then a summary' },
      })
      .example(examples)
      .epilog(
        'Exit codes: 0 all good, 1 some files failed, 2 usage error (nothing written), 128+n interrupted by signal n (Ctrl-C 130, SIGTERM 143, SIGHUP 129).',
      ),
    version,
    raw,
  );
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
  if (argv[0] === 'bench') return parseBenchArgs(argv.slice(1), version);
  const { args, output, failure } = await parseQuietly(build(yargs([...argv]), version, argv), argv);
  if (failure !== undefined) throw new UsageError(failure);
  if (args.help === true || args.version === true) return { kind: 'exit', code: 0, output };

  // Words after `--` are patterns too, even one that starts with a dash (`-- -draft.md`).
  const patterns = [...(Array.isArray(args.patterns) ? args.patterns : []), ...(args._ ?? [])].map(String);
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
    read: single('--read', args.read) as RunOptions['read'],
    discard: args.discard,
    deleteStale: args['delete-stale'],
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
      report: single('--report', args.report),
      watch: args.watch === true,
    },
  };
}

export type { BenchCliOptions } from './bench-args.js';
export { UsageError } from './flags.js';
export type { GenCliOptions } from './gen-args.js';
