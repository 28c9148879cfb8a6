import { resolve } from 'node:path';
import { findConfig } from '../config/find.js';
import { checkConfigCwds, resolveConfig } from '../config/resolve.js';
import { checkConfig } from '../config/shape.js';
import { withNaming } from '../options/names.js';
import { escapeName } from '../report/format.js';
import type { RunOptions } from '../types.js';
import type { CliOptions } from './args.js';
import { UsageError } from './flags.js';

/** One run of the command: a config's named pipeline, or the one unnamed run. */
export interface CliRun {
  readonly name: string | undefined;
  readonly run: RunOptions;
}

/**
 * The runs the command line asks for: `--config`, else the config file found from the current
 * directory upward, resolved with the flags the user typed over it (only those: parseArgs leaves
 * the others undefined) and the pipelines `--pipeline` picks. Without a config file, the flags
 * alone are the run, as they always were. Throws a usage error (exit 2) for a bad config.
 */
export async function configRuns(options: CliOptions): Promise<CliRun[]> {
  const from = process.cwd();
  const found = await findConfig(from, options.config);
  const config = found === undefined ? undefined : await checkConfig(found);
  const request = { overrides: options.run, naming: 'flag', pipelines: options.pipelines, from } as const;
  if (config === undefined) {
    await resolveConfig(undefined, request); // names a --pipeline that has no config to pick from
    if (options.run.out === undefined && options.run.inPlace !== true)
      throw new UsageError('missing -o/--out <dir> (or --in-place to replace the inputs)');
    return [{ name: undefined, run: options.run }];
  }
  const pipelines = await resolveConfig(config, request);
  await checkConfigCwds(config, request, pipelines);
  checkSharedFiles(pipelines, config.shown, from);
  // Errors found once files are planned (run()) name options as flags.
  return pipelines.map(({ name, options: run }) => ({ name, run: withNaming({ ...run }, 'flag') }));
}

/**
 * Pipelines that would write one file each run writes whole (a run `manifest`, an `incremental`
 * manifest path) would overwrite each other's, the last one winning: refused, naming both.
 * The default incremental manifests are named from each run's own inputs and transforms.
 */
function checkSharedFiles(
  pipelines: readonly { name: string | undefined; options: RunOptions }[],
  shown: string,
  from: string,
): void {
  for (const [key, flag] of [
    ['manifest', '--manifest'],
    ['incremental', '--incremental'],
  ] as const) {
    const seen = new Map<string, string>();
    for (const { name, options } of pipelines) {
      const value = options[key];
      if (typeof value !== 'string' || value === '') continue;
      const path = resolve(from, value);
      const other = seen.get(path);
      if (other !== undefined) {
        throw new UsageError(
          `${shown}: pipelines \`${other}\` and \`${name}\` would both write the ${flag} file ${escapeName(path)}, ` +
            `each over the other's: give each pipeline its own \`${key}\` path, or run one with --pipeline <name>`,
        );
      }
      seen.set(path, name ?? '');
    }
  }
}

/** `globpipe: 3 matched, …` -> `globpipe: images: 3 matched, …`: the summary line names its pipeline. */
export function namedSummary(text: string, name: string | undefined): string {
  if (name === undefined) return text;
  const lines = text.split('\n');
  const last = lines.length - 1;
  lines[last] = (lines[last] as string).replace(/^globpipe: /, `globpipe: ${escapeName(name)}: `);
  return lines.join('\n');
}
