import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { DiscoverHooks, Entry, EntryKind } from './discover.js';
import { describeType } from './io/file-type.js';
import type { Settings } from './options/settings.js';
import { fsPath, isNormal } from './paths.js';
import { compressedSkip } from './plan/matching.js';
import { selection } from './plan/selection.js';

/**
 * The entries of a run over given paths (`only`: a watch's changed files) instead of a walk:
 * each path the user's patterns and ignores select (plan/selection.ts) is looked up with one
 * lstat, and handed over as discover() would hand it, with the same skips (plan/matching.ts).
 * A path that is gone, or is a directory, is no entry: a watch hands over the files in a new
 * directory one by one, and deals with removed ones itself. One that cannot be looked up
 * (EACCES on its directory) is handed over as a file, so that its read names the cause.
 */
export async function* discoverPaths(
  settings: Settings,
  only: readonly string[],
  hooks: DiscoverHooks,
): AsyncGenerator<Entry[]> {
  const selects = selection(settings);
  const skip = compressedSkip(settings);
  const base = settings.cwd.endsWith('/') ? settings.cwd : `${settings.cwd}/`;
  const entries: Entry[] = [];
  for (const path of new Set(only)) {
    if (!isNormal(path) || path.startsWith('../') || !selects(path)) continue;
    const absolutePath = base + path;
    const found = await kindOf(absolutePath, settings.followSymlinks);
    if (found === undefined) continue;
    const entry: Entry = { path, absolutePath, ...found };
    hooks.onMatch(entry);
    const reason = skip?.(path);
    if (reason === undefined) entries.push(entry);
    else hooks.onSkip(entry, reason);
  }
  hooks.onEnd();
  if (entries.length > 0) yield entries;
}

async function kindOf(
  path: string,
  follow: boolean,
): Promise<{ kind: EntryKind; special?: string } | undefined> {
  let stats: Stats;
  try {
    stats = await fsp.lstat(fsPath(path));
    // A followed symlink is what it leads to, as the walk sees it; a dangling one stays a symlink.
    if (follow && stats.isSymbolicLink()) stats = await fsp.stat(fsPath(path)).catch(() => stats);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : { kind: 'file' };
  }
  if (stats.isDirectory()) return undefined;
  if (stats.isFile()) return { kind: 'file' };
  if (stats.isSymbolicLink()) return { kind: 'symlink' };
  return { kind: 'other', special: describeType(stats) };
}
