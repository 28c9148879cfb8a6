import type { Dirent } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { decodeName, fsPath } from '../paths.js';

/**
 * The files beneath a directory that appeared, relative to `cwd` (forward slashes), names
 * decoded as the glob decodes them. chokidar reads a new directory before it watches it: a
 * file written into it between the two is never reported. A batch that holds a new directory
 * therefore looks in it itself, once the batch starts (by then chokidar watches it), and what
 * it finds joins the batch. It enters no directory the watch ignores (`--out` inside the tree,
 * pruned ones) and follows symlinks only when the run does (each real directory once).
 */
export async function filesUnder(
  cwd: string,
  rel: string,
  ignored: (absolutePath: string) => boolean,
  follow: boolean,
): Promise<string[]> {
  const files: string[] = [];
  const entered = new Set<string>();
  const visit = async (dirRel: string): Promise<void> => {
    const dir = join(cwd, dirRel);
    if (follow) {
      const real = await fsp.realpath(fsPath(dir)).catch(() => undefined);
      if (real === undefined || entered.has(real.toString())) return;
      entered.add(real.toString());
    }
    let entries: Dirent<Buffer>[];
    try {
      entries = await fsp.readdir(fsPath(dir), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return; // gone again, or unreadable: chokidar reports what it can reach
    }
    for (const entry of entries) {
      const childRel = `${dirRel}/${decodeName(entry.name)}`;
      const child = join(cwd, childRel);
      if (ignored(child)) continue;
      let isDir = entry.isDirectory();
      if (!isDir && follow && entry.isSymbolicLink()) {
        isDir = (await fsp.stat(fsPath(child)).catch(() => undefined))?.isDirectory() === true;
      }
      if (isDir) await visit(childRel);
      else files.push(childRel);
    }
  };
  await visit(rel);
  return files;
}
