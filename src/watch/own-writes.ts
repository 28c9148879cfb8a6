import { lstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, relative, sep } from 'node:path';
import { TEMP_MARKER } from '../io/atomic.js';
import { fsPath, isInside, toPosix } from '../paths.js';
import { isJournalName } from '../run/journal.js';
import { LOCK_NAME } from '../run/lock.js';

/**
 * What the file watcher need not even look at: globpipe's temp files (wherever they are), the
 * in-place journal and lock (and a lock's takeover temp) at the root, `--out` when it lies
 * inside `--cwd` (not when it is `--cwd`: the inputs are there too), and what `pruned` says
 * the glob never enters (plan/selection.ts), and, when symlinks are followed, a link that
 * loops back to a directory holding it. Given to chokidar as `ignored`, which calls it with
 * absolute paths.
 */
export function watchIgnored(
  cwd: string,
  out: string,
  pruned: (path: string) => boolean = () => false,
  followSymlinks = false,
): (path: string) => boolean {
  const outInside = out !== cwd && isInside(out, cwd);
  return (path) => {
    if (basename(path).endsWith(TEMP_MARKER)) return true;
    if (followSymlinks && isLoopLink(path)) return true;
    if (outInside && isInside(path, out)) return true;
    const rel = relative(cwd, path);
    if (!rel.includes(sep) && (isJournalName(rel) || rel.startsWith(LOCK_NAME))) return true;
    return rel !== '' && !rel.startsWith('..') && pruned(toPosix(rel));
  };
}

/**
 * A symlink to a directory that holds it (`up -> ..`, `self -> .`), which the glob refuses to
 * walk (discover.ts guardedReaddir): chokidar, following links, would walk it round and round
 * (`d/up/d/up/…`, doubling with each second loop) until the process runs out of memory.
 */
function isLoopLink(path: string): boolean {
  try {
    if (!lstatSync(fsPath(path)).isSymbolicLink() || !statSync(fsPath(path)).isDirectory()) return false;
    const real = realpathSync(fsPath(path)).toString();
    return isInside(realpathSync(fsPath(dirname(path))).toString(), real);
  } catch {
    return false; // dangling, or gone: not a loop
  }
}

/** What tells a file written by us from one changed since: an edit, even of the same size, moves mtime and ctime. */
export type Identity = string;

export function identityOf(stats: Stats): Identity {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * The outputs globpipe wrote, as they were once written, so that the watch knows its own
 * writes when their events come back: outputs inside the watched tree (`-C dist -o dist`,
 * in-place) would otherwise start a batch of their own, every time. A path is ours while the
 * file there is the very one we wrote (same inode, size and times); once anyone changes it, it
 * is a change like any other.
 */
export class OwnWrites {
  readonly #written = new Map<string, Identity>();

  remember(path: string, stats: Stats): void {
    this.#written.set(path, identityOf(stats));
  }

  forget(path: string): void {
    this.#written.delete(path);
  }

  /** Whether the file at `path`, as `stats` shows it now, is the one we wrote there. */
  isOurs(path: string, stats: Stats): boolean {
    return this.#written.get(path) === identityOf(stats);
  }
}
