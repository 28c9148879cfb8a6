import type { Argv } from 'yargs';
import yargs from 'yargs';
import type { ParsedArgs } from './args.js';
import { common, parseQuietly, UsageError } from './flags.js';

/** `globpipe verify-shards <manifest..> [--json]`: its own parser, as `gen` and `bench` have. */

export interface VerifyCliOptions {
  readonly manifests: readonly string[];
  readonly json: boolean;
}

const NEEDS =
  'verify-shards needs the manifests of the runs to check: globpipe verify-shards <manifest..> [--json]';

function buildVerify(cli: Argv, version: string, raw: readonly string[]) {
  return common(
    cli
      .scriptName('globpipe')
      .usage(
        '$0 verify-shards <manifest..> [--json]\n\nCheck that runs over parts of one tree (each written with --manifest) processed every file the glob finds now, none twice, that every output is as written, and that shards i/n are all there. Prints one merged summary.',
      )
      .command('$0 [manifests..]', false, (command) =>
        command.positional('manifests', { describe: 'manifest files', type: 'string', array: true }),
      )
      .options({ json: { type: 'boolean', describe: 'the result as one JSON object on stdout' } })
      .example([
        [
          "$0 -C site 'a*' -o out --manifest a.json && $0 -C site 'b*' -o out --manifest b.json && $0 verify-shards a.json b.json",
          'two runs over halves of site/, checked together',
        ],
        ['$0 verify-shards shard-*.json --json', 'the shards of one run, as JSON'],
      ])
      .epilog(
        'Exit codes: 0 complete and consistent, 1 a file missing, processed twice or an output changed, or a shard missing, 2 usage error (a manifest unreadable or malformed, or manifests that disagree).',
      ),
    version,
    raw,
  );
}

/** The arguments after `verify-shards`. */
export async function parseVerifyArgs(argv: readonly string[], version: string): Promise<ParsedArgs> {
  const { args, output, failure } = await parseQuietly(buildVerify(yargs([...argv]), version, argv), argv);
  if (failure !== undefined) throw new UsageError(`verify-shards: ${failure}`);
  if (args.help === true || args.version === true) return { kind: 'exit', code: 0, output };
  const manifests = [...(Array.isArray(args.manifests) ? args.manifests : []), ...(args._ ?? [])].map(String);
  if (manifests.length === 0) throw new UsageError(NEEDS);
  return { kind: 'verify', options: { manifests, json: args.json === true } };
}
