import { relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { isInside, toPosix } from '../paths.js';
import type { RunOptions } from '../types.js';
import { OptionError } from './names.js';
import type { Settings } from './settings.js';

/**
 * `manifest`, checked: its path, resolved from the process's directory as `--report` is, and
 * the ignores that keep it (and its temp, `.name.<hex>.tmp`) out of the glob when it lies in
 * `cwd`: a second run, or `verify-shards`, must not take one run's manifest for an input.
 */
export function runManifestSettings(
  options: RunOptions,
  cwd: string,
): Pick<Settings, 'manifest'> & { ignore: string[] } {
  const { manifest } = options;
  if (manifest === undefined) return { manifest: undefined, ignore: [] };
  if (typeof manifest !== 'string' || manifest === '')
    throw new OptionError(
      (n) => `Expected ${n.name('manifest')} to be a file path, got ${n.value(manifest)}`,
    );
  const path = resolve(manifest);
  if (path === cwd || !isInside(path, cwd)) return { manifest: path, ignore: [] };
  const rel = toPosix(relative(cwd, path));
  const slash = rel.lastIndexOf('/');
  return {
    manifest: path,
    ignore: [
      fg.escapePath(rel),
      `${fg.escapePath(`${rel.slice(0, slash + 1)}.${rel.slice(slash + 1)}`)}.*.tmp`,
    ],
  };
}
