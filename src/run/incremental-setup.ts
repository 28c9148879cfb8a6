import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDirectory } from '../io/file-type.js';
import { OptionError } from '../options/names.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';

/**
 * Where a run's incremental manifest lives, and the hash of its pipeline: what must be
 * settled before the first file, from the settings and the file system.
 */

/** globpipe's own version: a new release may write other bytes for the same input. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('base64url');

/**
 * Everything that decides an output's bytes: the options that feed the transforms (`level`,
 * `from`/`to`, `eol`, the encodings, `ext`, `exec`, and any other that is not about which
 * files or how fast: settings.ts keeps them as `incremental.options`, with a transform object's
 * function source), each module's file content and globpipe's version.
 */
export function pipelineHash(settings: Settings): string {
  const parts: string[] = [version(), settings.incremental?.options ?? ''];
  for (const stage of settings.stages) {
    for (const t of stage) {
      let module = '';
      if (t.modulePath !== undefined) {
        try {
          module = sha256(readFileSync(t.modulePath));
        } catch {
          module = 'unreadable';
        }
      }
      // A transform object's function source is in the options (incremental-options.ts); a
      // built-in's is not hashed: its bytes are the version's and its options', however bundled.
      parts.push(t.name, module);
    }
    parts.push('|');
  }
  return sha256(JSON.stringify(parts));
}

/**
 * The cache directory find-cache-dir would pick: `$CACHE_DIR/globpipe` when set, else
 * `node_modules/.cache/globpipe` in the nearest directory from `start` upward that has a
 * node_modules; undefined when there is none.
 */
export function defaultCacheDir(start: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cacheDir = env.CACHE_DIR;
  if (cacheDir !== undefined && cacheDir !== '' && !['true', 'false', '1', '0'].includes(cacheDir))
    return join(cacheDir, 'globpipe');
  for (let dir = start; ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules');
    if (statSync(modules, { throwIfNoEntry: false })?.isDirectory() === true)
      return join(modules, '.cache', 'globpipe');
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The manifest's path: the one given, or a file in the cache directory named from what
 * identifies the run (real cwd and out, patterns, ignores, the transforms), so that two runs
 * never share one. No cache directory and no path: a usage error naming what to pass.
 */
export function manifestPath(settings: Settings, site: Site): string {
  const given = settings.incremental?.manifest;
  if (given !== undefined) return given;
  const dir = defaultCacheDir(settings.cwd) ?? defaultCacheDir(process.cwd());
  if (dir === undefined) {
    throw new OptionError(
      (n) =>
        `${n.name('incremental')} keeps its manifest in node_modules/.cache/globpipe, but there is no node_modules in ${settings.cwd} or above it: ` +
        (n.naming === 'flag'
          ? 'give a path (--incremental .globpipe-manifest.json)'
          : "give a path (`incremental: '.globpipe-manifest.json'`)"),
    ).in(settings.naming);
  }
  const identity = JSON.stringify([
    site.realCwd,
    site.realOut,
    settings.patterns,
    settings.ignore,
    settings.dot,
    settings.followSymlinks,
    settings.inPlace,
    settings.stages.map((stage) => stage.map((t) => t.modulePath ?? t.name)),
    // A shard keeps a manifest of its own files (added only when sharded: unsharded names stay as they were).
    ...(settings.shard === undefined
      ? []
      : [`shard ${settings.shard.index}/${settings.shard.count} ${settings.shard.strategy}`]),
  ]);
  return join(dir, `${sha256(identity).slice(0, 24)}.json`);
}

/**
 * A manifest that could not be saved would leave the next run to process everything again, and
 * the run would learn it only at its end: where it cannot go (its directory, or the nearest one
 * that exists, is a file or not writable; the path itself a directory) is a usage error before
 * anything is written.
 */
export function checkManifestPlace(path: string, settings: Settings): void {
  // A directory at the path itself: the rename that saves the manifest would fail at the end.
  if (isDirectory(path))
    throw new OptionError(
      (n) => `${n.name('incremental')} cannot save its manifest ${path}: it is a directory`,
    ).in(settings.naming);
  let dir = dirname(path);
  for (let stats = statSync(dir, { throwIfNoEntry: false }); stats === undefined && dirname(dir) !== dir; ) {
    dir = dirname(dir);
    stats = statSync(dir, { throwIfNoEntry: false });
  }
  let why: string | undefined;
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) why = `${dir} is not a directory`;
  else {
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
      why = `${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
  }
  if (why !== undefined)
    throw new OptionError((n) => `${n.name('incremental')} cannot save its manifest ${path}: ${why}`).in(
      settings.naming,
    );
}
