import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { namesFor } from './names.js';
import type { Settings } from './settings.js';

/** What the file system is like where a run reads and writes: found before anything is written. */
export interface Site {
  /** `cwd` and `out` with symlinks resolved (`out` as far as it exists), to compare where files really go. */
  readonly realCwd: string;
  readonly realOut: string;
  /** The output file system folds case (`A.txt` is `a.txt`), so collisions are checked case-insensitively. */
  readonly caseInsensitive: boolean;
}

export async function checkDirectory(dir: string, label: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (error) {
    throw new GlobpipeError('ENOCWD', `${label} \`${dir}\` does not exist`, { cause: error, path: dir });
  }
  if (!isDir) throw new GlobpipeError('ENOCWD', `${label} \`${dir}\` is not a directory`, { path: dir });
}

/** `dir`'s real path, resolving the part that exists: `/link/new/dir` -> `/real/new/dir`. */
async function realpathAsFarAsExists(dir: string): Promise<string> {
  const rest: string[] = [];
  let current = dir;
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return dir;
      rest.push(basename(current));
      current = parent;
    }
  }
}

function swapCase(name: string): string {
  return [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

/**
 * Whether the file system that will hold the outputs folds case, found without
 * writing anything: a name that exists there is looked up with its case swapped.
 */
export async function foldsCase(dir: string): Promise<boolean> {
  let current = dir;
  for (;;) {
    const names = await readdir(current).catch(() => undefined);
    if (names !== undefined) {
      const candidates = [...names.slice(0, 50).map((name) => join(current, name)), current];
      for (const path of candidates) {
        const name = basename(path);
        const swapped = swapCase(name);
        if (swapped === name) continue;
        const [a, b] = await Promise.all([
          stat(path).catch(() => undefined),
          stat(join(dirname(path), swapped)).catch(() => undefined),
        ]);
        if (a !== undefined) return b !== undefined && a.ino === b.ino && a.dev === b.dev;
      }
      return false;
    }
    const parent = dirname(current);
    if (parent === current) return false;
    current = parent;
  }
}

/** Checks that `cwd` is a directory and `out` is not a file, and learns the site's real paths and case rule. */
export async function probeSite(settings: Settings): Promise<Site> {
  const { name } = namesFor(settings.naming);
  await checkDirectory(settings.cwd, `Base directory (${name('cwd')})`);
  const outStat = await stat(settings.out).catch(() => undefined);
  if (outStat !== undefined && !outStat.isDirectory()) {
    throw new GlobpipeError(
      'EUSAGE',
      `Output directory (${name('out')}) \`${settings.out}\` exists and is not a directory`,
    );
  }
  const realOut = await realpathAsFarAsExists(settings.out);
  return { realCwd: await realpath(settings.cwd), realOut, caseInsensitive: await foldsCase(realOut) };
}
