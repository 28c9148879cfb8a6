import * as fs from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { fsPath, isInside, isNormal } from '../paths.js';
import { retryOnFdExhaustionSync } from './retry.js';

/**
 * Output paths beneath a root (the output directory; the input tree in place),
 * resolved without ever following a symbolic link under it, as openat(2) with
 * O_NOFOLLOW on each component would. Node has no openat, but on Linux a path
 * through /proc/self/fd/<dirfd>/<name> resolves <name> in that open directory:
 * so each directory is opened relative to its parent's descriptor with
 * O_NOFOLLOW, and files are then created (O_EXCL), renamed and removed through
 * their directory's descriptor. A directory swapped for a symlink while the run
 * goes is refused when first reached, and one already open stays the directory
 * it was, wherever it is moved: nothing is ever written through a symlink.
 * Without /proc, each component is checked with lstat first (racy, but the best
 * a path allows). In an IO worker a tree lives for one request: directories are
 * looked at anew by the next one, and no descriptor outlives it. With one file in
 * flight the requests run on the calling thread, and a tree is kept from one to the
 * next (KeptTrees) until the run removes a directory or ends. Twins: the Tree (sync)
 * for the IO workers, makeDirBeneath and removeDirBeneath (async, beneath-main.ts) for the
 * main thread.
 */

export const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | (fs.constants.O_NOFOLLOW ?? 0);
export const viaProc = fs.existsSync('/proc/self/fd');
/**
 * By pid rather than `self`, one symlink fewer for the kernel to follow on every call; but
 * only where /proc is this pid namespace's own (`self` names our pid), else `self`.
 */
export const procFd = (() => {
  try {
    return fs.readlinkSync('/proc/self') === String(process.pid)
      ? `/proc/${process.pid}/fd`
      : '/proc/self/fd';
  } catch {
    return '/proc/self/fd';
  }
})();
/** Directories kept open at once, the most recently used. */
const OPEN_DIRS = 64;

export function outside(path: string, root: string): Error {
  return Object.assign(new Error(`\`${path}\` is not beneath \`${root}\``), { code: 'EOUTSIDE', dest: path });
}

export function symlinkRefused(path: string): Error {
  let link = true;
  try {
    link = fs.lstatSync(fsPath(path)).isSymbolicLink();
  } catch {
    // Gone again: say what it was when refused.
  }
  const what = link
    ? 'it is a symbolic link, which globpipe never follows under its output directory'
    : 'it is not a directory';
  return Object.assign(new Error(what), { code: 'ESYMLINK', dest: path });
}

/** An open directory beneath the root: its descriptor and the prefix that names an entry in it. */
interface OpenDir {
  readonly fd: number;
  /** `/proc/<pid>/fd/<fd>/` (or, without /proc, the directory's own path and a separator). */
  readonly at: string;
  /** Kept trees: the request in which it was last seen still at its place (Tree.begin). */
  checked: number;
  /** Kept trees: its inode, for that check. */
  ino?: number;
}

export class Tree {
  readonly #root: string;
  /** The root with its trailing separator. */
  readonly #prefix: string;
  readonly #rootDir: OpenDir;
  /** Directory (relative to the root) -> its open descriptor, least recently used first. */
  readonly #dirs = new Map<string, OpenDir>();
  #lastRel: string | undefined;
  #last: OpenDir | undefined;
  /** Kept trees count their requests (begin); 0: a tree for one request, nothing to check. */
  #request = 0;

  /**
   * A kept tree's next request: each directory it holds is checked once more before use (lstat
   * through its parent: is the entry still this directory?); one moved away, removed, or
   * swapped for a symlink since is opened anew, so refused as a fresh tree would refuse it.
   */
  begin(): void {
    this.#request += 1;
  }

  constructor(root: string) {
    this.#root = resolve(root);
    this.#prefix = this.#root.endsWith(sep) ? this.#root : this.#root + sep;
    // The root itself is the user's: followed once (made on first use), then held open.
    const open = () =>
      retryOnFdExhaustionSync(() =>
        fs.openSync(fsPath(root), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY),
      );
    let fd: number;
    try {
      fd = open();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      fs.mkdirSync(fsPath(root), { recursive: true });
      fd = open();
    }
    this.#rootDir = { fd, at: viaProc ? `${procFd}/${fd}/` : this.#prefix, checked: 0 };
  }

  /** A path that names `path` (absolute, beneath the root) in its directory's descriptor. */
  resolve(path: string): fs.PathLike {
    const rel = this.#relative(path);
    if (rel === '') throw outside(path, this.#root);
    // String slicing, not dirname/basename: this runs two or three times for every file.
    const slash = rel.lastIndexOf(sep);
    const dir = slash < 0 ? this.#rootDir : this.#dir(rel.slice(0, slash));
    return fsPath(dir.at + (slash < 0 ? rel : rel.slice(slash + 1)));
  }

  /** The descriptor of the directory `path` (absolute: the root or beneath it). */
  dirFd(path: string): number {
    const rel = this.#relative(path);
    return rel === '' ? this.#rootDir.fd : this.#dir(rel).fd;
  }

  /** `path` relative to the root ('' for the root itself); anything not inside it is refused. */
  #relative(path: string): string {
    // The common case, a plain path below the root, without path.resolve and path.relative.
    if (path.startsWith(this.#prefix)) {
      const rel = path.slice(this.#prefix.length);
      if (isNormal(rel)) return rel;
    }
    const normal = resolve(path);
    if (!isInside(normal, this.#root)) throw outside(path, this.#root);
    return relative(this.#root, normal);
  }

  /**
   * Makes the directory `dir` (beneath the root) and its missing parents, each component made
   * and then opened through its parent's descriptor (O_NOFOLLOW: a symlink is refused, never
   * followed), as makeDirBeneath does on the main thread: the directories made, parents first.
   */
  makeDir(dir: string): string[] {
    const rel = this.#relative(dir);
    const made: string[] = [];
    if (rel === '') return made;
    let sofar = '';
    for (const part of rel.split(sep)) {
      const parent = sofar === '' ? this.#rootDir : this.#dir(sofar);
      sofar = sofar === '' ? part : `${sofar}${sep}${part}`;
      if (this.#dirs.has(sofar)) continue;
      try {
        fs.mkdirSync(fsPath(parent.at + part));
        made.push(this.#prefix + sofar);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR' || code === 'ELOOP') throw symlinkRefused(this.#prefix + sofar);
        if (code !== 'EEXIST') throw Object.assign(error as Error, { dest: this.#prefix + sofar });
      }
      this.#dir(sofar);
    }
    return made;
  }

  close(): void {
    for (const dir of this.#dirs.values()) fs.closeSync(dir.fd);
    this.#dirs.clear();
    this.#lastRel = undefined;
    fs.closeSync(this.#rootDir.fd);
  }

  /** The directory `rel` (beneath the root), opened without following a symlink; it must exist. */
  #dir(rel: string): OpenDir {
    if (rel === '.' || rel === '') return this.#rootDir;
    // The files of a batch mostly share a directory: the last one asked for, without touching the map.
    const last = this.#last as OpenDir;
    if (rel === this.#lastRel && (this.#request === 0 || last.checked === this.#request)) return last;
    let dir = this.#dirs.get(rel);
    if (dir !== undefined) {
      this.#dirs.delete(rel);
      if (this.#request !== 0 && dir.checked !== this.#request && !this.#inPlace(rel, dir)) {
        fs.closeSync(dir.fd);
        dir = this.#open(rel);
      }
      this.#dirs.set(rel, dir);
    } else {
      dir = this.#open(rel);
      this.#dirs.set(rel, dir);
      if (this.#dirs.size > OPEN_DIRS) {
        const [oldest, old] = this.#dirs.entries().next().value as [string, OpenDir];
        this.#dirs.delete(oldest);
        fs.closeSync(old.fd);
      }
    }
    this.#lastRel = rel;
    this.#last = dir;
    return dir;
  }

  /** Whether the entry `rel` (reached through its parent, checked first) is still the directory `dir`. */
  #inPlace(rel: string, dir: OpenDir): boolean {
    const parent = this.#dir(dirname(rel));
    try {
      const now = fs.lstatSync(fsPath(parent.at + basename(rel)));
      dir.ino ??= fs.fstatSync(dir.fd).ino;
      if (!now.isDirectory() || now.ino !== dir.ino) return false;
    } catch {
      return false;
    }
    dir.checked = this.#request;
    return true;
  }

  #open(rel: string): OpenDir {
    const parent = this.#dir(dirname(rel));
    const full = `${this.#prefix}${rel}`;
    const at = fsPath(parent.at + basename(rel));
    let fd: number;
    try {
      if (!viaProc && fs.lstatSync(fsPath(full)).isSymbolicLink()) throw symlinkRefused(full);
      fd = retryOnFdExhaustionSync(() => fs.openSync(at, DIR_FLAGS));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw code === 'ELOOP' || code === 'ENOTDIR' ? symlinkRefused(full) : error;
    }
    return { fd, at: viaProc ? `${procFd}/${fd}/` : `${full}${sep}`, checked: this.#request };
  }
}

/**
 * Trees kept across requests, one per root, for requests run one after another on the
 * calling thread. Each request checks the directories it uses again (Tree.begin), so a
 * kept tree refuses what a fresh one would; the run's own removals (an empty directory of
 * failed files) release the trees.
 */
export class KeptTrees {
  readonly #trees = new Map<string, Tree>();

  get(root: string): Tree {
    let tree = this.#trees.get(root);
    if (tree === undefined) {
      tree = new Tree(root);
      this.#trees.set(root, tree);
    }
    tree.begin();
    return tree;
  }

  /** Closes every descriptor; the next request opens what it needs anew. */
  release(): void {
    for (const tree of this.#trees.values()) tree.close();
    this.#trees.clear();
  }
}

/** Runs `use` with the tree beneath `root`, closing every descriptor it opened afterwards. */
export function withTree<T>(root: string, use: (tree: Tree) => T): T {
  const tree = new Tree(root);
  try {
    return use(tree);
  } finally {
    tree.close();
  }
}
