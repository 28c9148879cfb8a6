import { lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { IoPort } from '../io/port.js';
import { fsPath } from '../paths.js';
import type { OutputRecord } from './manifest.js';

/** An output still as globpipe left it: a regular file (never a link) with the size and mtime recorded. */
export function asWritten(outBase: string, [path, size, mtimeMs]: OutputRecord): boolean {
  const now = lstatSync(fsPath(outBase + path), { throwIfNoEntry: false });
  return now?.isFile() === true && now.size === size && now.mtimeMs === mtimeMs;
}

/**
 * Removes what globpipe wrote and nobody changed since: a regular file beneath --out (the
 * io port's unlink never follows a symlink there), with the size and mtime recorded. Each is
 * added to `removed`, or to `kept` with the reason.
 */
export async function removeOutputs(
  outputs: readonly OutputRecord[],
  where: { outBase: string; out: string; port: IoPort },
  into: { removed: string[]; kept: { path: string; reason: string }[] },
): Promise<void> {
  for (const output of outputs) {
    const path = output[0];
    if (lstatSync(fsPath(where.outBase + path), { throwIfNoEntry: false }) === undefined) continue;
    if (!asWritten(where.outBase, output)) {
      into.kept.push({ path, reason: 'changed since globpipe wrote it: kept' });
      continue;
    }
    try {
      await where.port.unlink(join(where.out, path), where.out);
      into.removed.push(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      into.kept.push({ path, reason: `cannot remove: ${code}` });
    }
  }
}

/**
 * After outputs were removed (`removed`, relative to `out`), the directories that held them
 * and are empty now go too, deepest first, so that a parent emptied by its child's removal
 * follows: rmdir only, beneath --out through the port, never --out itself. A directory that
 * holds anything stays. Resolves with how many went.
 */
export async function removeEmptiedDirs(
  removed: readonly string[],
  out: string,
  port: IoPort,
): Promise<number> {
  const dirs = new Set<string>();
  for (const path of removed) {
    for (
      let dir = posix.dirname(path);
      dir !== '.' && dir !== '/' && !dirs.has(dir);
      dir = posix.dirname(dir)
    )
      dirs.add(dir);
  }
  const depth = (dir: string) => dir.split('/').length;
  let count = 0;
  for (const dir of [...dirs].sort((a, b) => depth(b) - depth(a))) {
    try {
      await port.rmdir(join(out, dir), out);
      count += 1;
    } catch {
      // Not empty (or not ours to remove): it stays, and so do its parents.
    }
  }
  return count;
}
