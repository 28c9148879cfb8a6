import { basename, dirname, join, relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { isInside, toPosix } from '../paths.js';
import type { Shard } from '../run/shard.js';
import type { RunOptions } from '../types.js';
import { OptionError, type OptionKey } from './names.js';
import type { Settings } from './settings.js';

/**
 * Options that never change an output's bytes: which files, how fast, how reported. Every
 * other option (`level`, `from`, `to`, `eol`, `ext`, `exec`, the encodings, and options added
 * later) goes into the pipeline hash, so that changing it processes every file again.
 */
const notAboutBytes: ReadonlySet<string> = new Set<OptionKey>([
  'cwd',
  'patterns',
  'out',
  'inPlace',
  'ignore',
  'dot',
  'followSymlinks',
  'errorOnUnmatchedPattern',
  'concurrency',
  'sequential',
  'dryRun',
  'failFast',
  'maxErrors',
  'fsync',
  'skipExisting',
  'ifNewer',
  'resume',
  'read',
  'discard',
  'incremental',
  'deleteStale',
  // Which files a run takes, never what it writes for one.
  'shard',
  'shardStrategy',
  'shardCount',
  'deleteOriginal',
  'only',
  'signal',
  'onEvent',
  'port',
  'executor',
  'probe',
]);

/** `'gzip'`, `['gzip']` (the CLI's `-t gzip`) and `[['gzip']]` are one pipeline: `[['gzip']]`. */
function asStages(transforms: RunOptions['transforms']): unknown {
  if (transforms === undefined) return undefined;
  const stages = Array.isArray(transforms) ? transforms : [transforms];
  return stages.map((stage: unknown) => (Array.isArray(stage) ? stage : [stage]));
}

/** The options that decide outputs' bytes, as JSON with sorted keys; functions by their source, RegExps as `/a/g`. */
export function bytesOptions(options: RunOptions): string {
  const picked = Object.keys(options)
    // A key given as undefined is the key left out: the CLI names every option, run() callers few.
    .filter((key) => !notAboutBytes.has(key) && (options as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => [
      key,
      key === 'transforms' ? asStages(options.transforms) : (options as Record<string, unknown>)[key],
    ]);
  return JSON.stringify(picked, (_key, value: unknown) =>
    typeof value === 'function' || value instanceof RegExp ? String(value) : value,
  );
}

/**
 * A shard's own manifest beside the path given, `inc.2-of-4.json` for `inc.json` (as its
 * journal and lock are named): shards run at once, from one command line (`--shard auto`),
 * and each saves the whole manifest, so one shared file would keep only the last shard's files.
 */
export function shardsOwn(path: string, shard: Shard | undefined): string {
  if (shard === undefined) return path;
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  const tag = `${shard.index}-of-${shard.count}`;
  const sharded = dot > 0 ? `${name.slice(0, dot)}.${tag}${name.slice(dot)}` : `${name}.${tag}`;
  return join(dirname(path), sharded);
}

/**
 * `incremental` and `deleteStale`, checked: the manifest's path (resolved from the process's
 * directory, as `--report` is), and the ignores that keep a manifest inside `cwd` out of the glob.
 */
export function incrementalSettings(
  options: RunOptions,
  cwd: string,
  shard?: Shard,
): Pick<Settings, 'incremental' | 'deleteStale'> & { ignore: string[] } {
  const { incremental, deleteStale } = options;
  if (
    incremental !== undefined &&
    typeof incremental !== 'boolean' &&
    (typeof incremental !== 'string' || incremental === '')
  )
    throw new OptionError(
      (n) =>
        `Expected ${n.name('incremental')} to be a boolean or a manifest path, got ${n.value(incremental)}`,
    );
  const on = incremental !== undefined && incremental !== false;
  if (deleteStale === true && !on)
    throw new OptionError(
      (n) =>
        `${n.name('deleteStale')} removes only outputs the incremental manifest says globpipe wrote: it needs ${n.name('incremental')}`,
    );
  if (on && options.inPlace === true)
    throw new OptionError(
      (n) =>
        `${n.name('incremental')} compares inputs with what they were, and ${n.name('inPlace')} rewrites them: give one of them`,
    );
  if (!on) return { incremental: undefined, deleteStale: false, ignore: [] };
  const manifest = typeof incremental === 'string' ? shardsOwn(resolve(incremental), shard) : undefined;
  const ignore: string[] = [];
  if (manifest !== undefined && isInside(manifest, cwd) && manifest !== cwd) {
    // The manifest and its temps (`.name.<pid>-<n>.tmp`) are never inputs, even with --dot.
    const rel = toPosix(relative(cwd, manifest));
    const slash = rel.lastIndexOf('/');
    ignore.push(
      fg.escapePath(rel),
      `${fg.escapePath(`${rel.slice(0, slash + 1)}.${rel.slice(slash + 1)}`)}.*.tmp`,
    );
  }
  return {
    incremental: { manifest, options: bytesOptions(options) },
    deleteStale: deleteStale === true,
    ignore,
  };
}
