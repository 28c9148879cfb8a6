import yargs, { type Argv } from 'yargs';
import { withNaming } from '../options/names.js';
import type { RunOptions, TransformStage } from '../types.js';
import { type BenchCliOptions, parseBenchArgs } from './bench-args.js';
import { common, integer, parseQuietly, ratio, single, UsageError } from './flags.js';
import { type GenCliOptions, parseGenArgs } from './gen-args.js';
import { runFlags } from './run-flags.js';
import { parseVerifyArgs, type VerifyCliOptions } from './verify-args.js';

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
  | { kind: 'verify'; options: VerifyCliOptions }
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
      .options(runFlags)
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
  if (argv[0] === 'verify-shards') return parseVerifyArgs(argv.slice(1), version);
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
    shard: single('--shard', args.shard),
    shardStrategy: single('--shard-strategy', args['shard-strategy']) as RunOptions['shardStrategy'],
    shardCount: integer('--shard-count', single('--shard-count', args['shard-count']), 1),
    manifest: single('--manifest', args.manifest),
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
export type { VerifyCliOptions } from './verify-args.js';
