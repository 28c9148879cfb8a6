import yargs, { type Argv } from 'yargs';
import { withNaming } from '../options/names.js';
import { knownNames } from '../transforms/builtins.js';
import type { RunOptions, TransformStage } from '../types.js';
import { type BenchCliOptions, parseBenchArgs } from './bench-args.js';
import { common, integer, numeric, parseQuietly, ratio, single, UsageError } from './flags.js';
import { type GenCliOptions, parseGenArgs } from './gen-args.js';

export interface CliOptions {
  readonly run: RunOptions;
  readonly progress: boolean | undefined;
  readonly quiet: boolean;
  readonly json: boolean;
  /** `--verbose`: the end of a run lists each skip, dropped output and kept file off a terminal too. */
  readonly verbose: boolean;
  /** `--report <file>`: the summary as JSON, with the process's figures. */
  readonly report: string | undefined;
  /** `--config <file>`: this config file instead of a search (config-runs.ts). */
  readonly config: string | undefined;
  /** `--pipeline <name>` as often as given: the config's pipelines to run, in this order. */
  readonly pipelines: readonly string[];
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
          // No yargs default: a config file's `cwd` must win over a flag nobody typed.
          defaultDescription: '.',
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
          describe: `built-in (${knownNames.join(', ')}) or module path; repeat to chain, comma list to fan out (default: copy)`,
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
          describe:
            'compression level: gzip 1-9 (default 6), brotli 0-11 (default 11), zstd 1-22 (default 3); precompress: gzip 9 and brotli 11',
          requiresArg: true,
        },
        'min-size': {
          ...numeric,
          describe:
            'skip inputs smaller than this many bytes (default: 1024 when every output is compressed, else 0)',
          requiresArg: true,
        },
        'min-ratio': {
          ...numeric,
          describe:
            "compressors: keep an output only if output/input <= this (default 0.8); a dropped output's stale file is removed",
          requiresArg: true,
        },
        'all-types': {
          type: 'boolean',
          describe: 'compressors: compress every type (by default png, jpg, woff2, zip, mp4… are skipped)',
        },
        'delete-original': {
          type: 'boolean',
          describe: 'remove each input once all its outputs are safely written',
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
        incremental: {
          type: 'string',
          describe:
            'process only inputs and outputs changed since the last run; the manifest goes to the path given, else to node_modules/.cache/globpipe',
        },
        'delete-stale': {
          type: 'boolean',
          describe:
            'with --incremental (or --watch): remove outputs whose input is gone (only files globpipe wrote)',
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
        config: {
          type: 'string',
          describe:
            'options from this file (default: globpipe.config.{ts,mts,js,mjs,cjs,json} or a "globpipe" key in package.json, from the current directory upward); flags override it',
          requiresArg: true,
        },
        pipeline: {
          type: 'string',
          array: true,
          describe: "run this pipeline of the config's (repeatable, in order; default: all)",
          requiresArg: true,
          nargs: 1,
        },
        progress: {
          type: 'boolean',
          describe: 'progress bar on stderr (default: when stderr is a terminal)',
        },
        quiet: { alias: 'q', type: 'boolean', describe: 'print only errors' },
        json: { type: 'boolean', describe: 'NDJSON on stdout: one object per file, then a summary' },
        verbose: {
          type: 'boolean',
          describe: 'list every skip, dropped output and kept file at the end (default: only on a terminal)',
        },
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

/**
 * `--incremental` alone keeps the manifest in the cache directory; a word after it is its path.
 * A word that is a glob (`--incremental '**\/*'`) was meant as a pattern: said, not guessed.
 */
function incrementalFlag(value: unknown): string | true | undefined {
  const given = single('--incremental', value);
  if (given === '') return true;
  if (given !== undefined && /[*?{[]/.test(given))
    throw new UsageError(
      `--incremental took '${given}' as its manifest path: put patterns before --incremental, or write --incremental=<manifest>`,
    );
  return given;
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
    minSize: integer('--min-size', single('--min-size', args['min-size']), 0),
    minRatio: ratio('--min-ratio', single('--min-ratio', args['min-ratio'])),
    allTypes: args['all-types'],
    deleteOriginal: args['delete-original'],
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
    // `--incremental` alone: the manifest in the cache directory.
    incremental: incrementalFlag(args.incremental),
    deleteStale: args['delete-stale'],
  };
  // A missing -o/--out is named once the config file, which may give `out`, is known (config-runs.ts).
  return {
    kind: 'run',
    options: {
      run: withNaming(run, 'flag'),
      progress: args.progress,
      quiet: args.quiet === true,
      json: args.json === true,
      verbose: args.verbose === true,
      report: single('--report', args.report),
      config: single('--config', args.config),
      pipelines: args.pipeline ?? [],
      watch: args.watch === true,
    },
  };
}

export type { BenchCliOptions } from './bench-args.js';
export { UsageError } from './flags.js';
export type { GenCliOptions } from './gen-args.js';
