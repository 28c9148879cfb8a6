import type { Argv } from 'yargs';
import yargs from 'yargs';
import type { BenchOptions } from '../bench/bench.js';
import type { ExportPaths } from '../bench/export.js';
import type { CacheState, ReadStrategy, Work } from '../bench/types.js';
import type { ParsedArgs } from './args.js';
import { common, integer, numeric, parseQuietly, single, UsageError } from './flags.js';

/** `globpipe bench [patterns..] -C <dir> [options]`: its own parser, as gen has. */

export interface BenchCliOptions {
  readonly bench: BenchOptions;
  readonly exports: ExportPaths;
  readonly progress: boolean | undefined;
  readonly quiet: boolean;
}

const benchExamples: [string, string][] = [
  ['$0 gen data && $0 bench -C data --quick', '1,000 files of 4 KiB, then the quick matrix (about 20 s)'],
  [
    '$0 bench -C data -j 1,8,64 --cache cold --work read,copy',
    'cold reads and copies at three concurrencies',
  ],
  ['$0 bench -C data --read batch,single,stream,direct --cache warm', 'the read strategies, warm'],
  [
    '$0 bench -C data --export-json b.json --export-svg b.svg',
    'the report for hyperfine scripts, and a chart',
  ],
  ['$0 bench -C data --baseline before.json', "each cell's change against an earlier run"],
];

function buildBench(cli: Argv, version: string, raw: readonly string[]) {
  const list = (describe: string) => ({ type: 'string' as const, describe, requiresArg: true });
  const file = (describe: string) => ({ type: 'string' as const, describe, requiresArg: true });
  return common(
    cli
      .scriptName('globpipe')
      .usage(
        '$0 bench [patterns..] -C <dir> [options]\n\nMeasure how throughput and per-file latency change with concurrency, cache state, read strategy and work, on your disk: globpipe runs over the files in each cell of the matrix, every run a fresh process, the cells taken in turn. Each option takes a comma list.',
      )
      .command('$0 [patterns..]', false, (command) =>
        command.positional('patterns', {
          describe: 'fast-glob patterns relative to --cwd (default **/*)',
          type: 'string',
          array: true,
        }),
      )
      .options({
        cwd: {
          alias: 'C',
          type: 'string',
          describe: 'the dataset (make one with globpipe gen)',
          requiresArg: true,
        },
        concurrency: {
          alias: 'j',
          ...list('files in flight, 1 = --sequential (default 1,4,16,64,256; --quick 1,16,256)'),
        },
        cache: list('warm, cold (default both; cold: evicted before each run, checked with fincore)'),
        read: list('auto, batch, single, stream, direct (default auto)'),
        work: list('read (nothing written), copy, transform (the -t transforms), fsync (default copy)'),
        threadpool: list('UV_THREADPOOL_SIZE values (default globpipe’s own)'),
        transform: {
          alias: 't',
          type: 'string',
          array: true,
          describe: 'for --work transform (default gzip)',
          requiresArg: true,
          nargs: 1,
        },
        runs: { ...numeric, describe: 'measured runs per cell (default 10; --quick 3)', requiresArg: true },
        warmup: { ...numeric, describe: 'runs per cell before measuring (default 1)', requiresArg: true },
        quick: {
          type: 'boolean',
          describe: 'fewer concurrencies and runs: about 20 s on 1,000 files of 4 KiB (globpipe gen data)',
        },
        'cold-method': list('drop-caches (root) or fadvise (default: drop-caches as root, else fadvise)'),
        scratch: {
          type: 'string',
          describe: 'where runs write (default: beside the dataset); removed after',
          requiresArg: true,
        },
        references: {
          type: 'boolean',
          describe: 'the sync-loop and no-IO overhead cells (default; --no-references leaves them out)',
        },
        fio: {
          type: 'boolean',
          describe: "also run fio's reference jobs on the same file system (fio must be installed)",
        },
        baseline: file('an earlier --export-json (or hyperfine JSON): show each cell against it'),
        'export-json': file('the report as JSON, hyperfine-shaped (schema: docs/bench-schema.json)'),
        'export-markdown': file('the table as Markdown'),
        'export-csv': file('one row per cell'),
        'export-svg': file('a chart: throughput and latency against concurrency'),
        progress: {
          type: 'boolean',
          describe: 'a progress bar on stderr (default: when stderr is a terminal)',
        },
        quiet: { alias: 'q', type: 'boolean', describe: 'print only the answer and errors' },
      })
      .example(benchExamples)
      .epilog(
        'Exit codes: 0 measured (every cell verified), 1 a cell did not verify or an export could not be written, 2 usage error (nothing measured), 130 interrupted (128 + the signal: 143 for SIGTERM).',
      ),
    version,
    raw,
  );
}

function commaList(flag: string, values: unknown): string[] | undefined {
  if (values === undefined) return undefined;
  const items = (Array.isArray(values) ? values : [values])
    .flatMap((value) => String(value).split(','))
    .map((item) => item.trim());
  if (items.some((item) => item === ''))
    throw new UsageError(`${flag} has an empty item in '${String(values)}'`);
  return items;
}

function choices<T extends string>(flag: string, values: unknown, allowed: readonly T[]): T[] | undefined {
  const items = commaList(flag, values);
  for (const item of items ?? [])
    if (!(allowed as readonly string[]).includes(item))
      throw new UsageError(`${flag} expects ${allowed.join(', ')}, got '${item}'`);
  return items as T[] | undefined;
}

function numbers(flag: string, values: unknown): number[] | undefined {
  return commaList(flag, values)?.map((item) => integer(flag, item, 1) as number);
}

/** The arguments after `bench`, into bench()'s options and the exports to write. */
export async function parseBenchArgs(argv: readonly string[], version: string): Promise<ParsedArgs> {
  const { args, output, failure } = await parseQuietly(buildBench(yargs([...argv]), version, argv), argv);
  if (failure !== undefined) throw new UsageError(`bench: ${failure}`);
  if (args.help === true || args.version === true) return { kind: 'exit', code: 0, output };
  const cwd = single('-C/--cwd', args.cwd);
  if (cwd === undefined)
    throw new UsageError('bench needs -C <dir>, the dataset to measure (make one with globpipe gen <dir>)');
  // Words after `--` are patterns too, even one that starts with a dash (`-- -draft.md`).
  const patterns = [...(Array.isArray(args.patterns) ? args.patterns : []), ...(args._ ?? [])].map(String);
  const coldMethod = choices('--cold-method', args['cold-method'], ['drop-caches', 'fadvise'] as const);
  if ((coldMethod?.length ?? 0) > 1) throw new UsageError('--cold-method takes one method');
  const bench: BenchOptions = {
    cwd,
    patterns,
    concurrency: numbers('-j/--concurrency', args.concurrency),
    cache: choices<CacheState>('--cache', args.cache, ['warm', 'cold']),
    read: choices<ReadStrategy>('--read', args.read, ['auto', 'batch', 'single', 'stream', 'direct']),
    work: choices<Work>('--work', args.work, ['read', 'copy', 'transform', 'fsync']),
    threadpool: numbers('--threadpool', args.threadpool),
    transforms: args.transform as string[] | undefined,
    runs: integer('--runs', single('--runs', args.runs), 1),
    warmup: integer('--warmup', single('--warmup', args.warmup), 0),
    quick: args.quick === true,
    scratch: single('--scratch', args.scratch),
    baseline: single('--baseline', args.baseline),
    fio: args.fio === true,
    coldMethod: coldMethod?.[0],
    references: args.references !== false,
  };
  return {
    kind: 'bench',
    options: {
      bench: Object.fromEntries(
        Object.entries(bench).filter(([, value]) => value !== undefined),
      ) as BenchOptions,
      exports: {
        json: single('--export-json', args['export-json']),
        markdown: single('--export-markdown', args['export-markdown']),
        csv: single('--export-csv', args['export-csv']),
        svg: single('--export-svg', args['export-svg']),
      },
      progress: args.progress,
      quiet: args.quiet === true,
    },
  };
}
