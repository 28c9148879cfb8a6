import type { Argv } from 'yargs';
import yargs from 'yargs';
import { type GenContent, type GenOptions, type GenPreset, parseSize } from '../bench/gen.js';
import { GlobpipeError } from '../errors.js';
import type { ParsedArgs } from './args.js';
import { common, integer, numeric, parseQuietly, single, UsageError } from './flags.js';

/** `globpipe gen <dir> [options]`: its own parser, so the default command's flags stay as they are. */

export interface GenCliOptions {
  readonly gen: GenOptions;
  readonly progress: boolean | undefined;
  readonly quiet: boolean;
  readonly json: boolean;
}

const genExamples: [string, string][] = [
  ['$0 gen data --files 2000 --size 4KiB', '2,000 files of 4 KiB of text under data/ (seed 1)'],
  ['$0 gen data --size lognormal:median=8KiB,max=64MiB --seed 7', 'sizes drawn log-normally, seed 7'],
  ['$0 gen web --preset web', "a web build's mix of js/css/html/svg/png/woff2"],
  ['$0 gen big --preset large --content zeros', 'the large preset, but all zeros'],
];

function buildGen(cli: Argv, version: string, raw: readonly string[]) {
  return common(
    cli
      .scriptName('globpipe')
      .usage(
        '$0 gen <dir> [options]\n\nWrite a synthetic dataset into <dir>, deterministic from --seed: the same parameters write the same bytes. A rerun with the same parameters does nothing; a directory that is not empty and holds no dataset of these parameters is refused.',
      )
      .command('$0 [dir]', false, (command) =>
        command.positional('dir', {
          describe: 'where the dataset goes (created if missing)',
          type: 'string',
        }),
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
      ),
    version,
    raw,
  );
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
export async function parseGenArgs(argv: readonly string[], version: string): Promise<ParsedArgs> {
  const { args, output, failure } = await parseQuietly(buildGen(yargs([...argv]), version, argv), argv);
  if (failure !== undefined) {
    throw new UsageError(
      /^Not enough non-option arguments/.test(failure)
        ? 'gen needs <dir>, the directory to write the dataset into: globpipe gen <dir> [options]'
        : `gen: ${failure}`,
    );
  }
  if (args.help === true || args.version === true) return { kind: 'exit', code: 0, output };
  // `gen -- -data`: a directory that starts with a dash comes after `--`.
  const dirs = [...(args.dir === undefined ? [] : [args.dir]), ...(args._ ?? [])].map(String);
  if (dirs.length === 0)
    throw new UsageError(
      'gen needs <dir>, the directory to write the dataset into: globpipe gen <dir> [options]',
    );
  if (dirs.length > 1) throw new UsageError(`gen takes one <dir>, got ${dirs.length}: ${dirs.join(' ')}`);
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
    dir: dirs[0] as string,
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
