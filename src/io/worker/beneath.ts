import * as fs from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { fsPath, isInside } from '../../paths.js';
import { retryOnFdExhaustionSync } from '../retry.js';

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
 * a path allows). A tree lives for one request: directories are looked at anew
 * by the next one, and no descriptor outlives it.
 */

const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | (fs.constants.O_NOFOLLOW ?? 0);
const viaProc = fs.existsSync('/proc/self/fd');
/** Directories kept open at once, the most recently used. */
const OPEN_DIRS = 64;

function symlinkRefused(path: string): Error {
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

export class Tree {
  readonly #root: string;
  readonly #rootFd: number;
  /** Directory (relative to the root) -> descriptor, least recently used first. */
  readonly #dirs = new Map<string, number>();

  constructor(root: string) {
    this.#root = resolve(root);
    // The root itself is the user's: followed once, then held open.
    fs.mkdirSync(fsPath(root), { recursive: true });
    this.#rootFd = retryOnFdExhaustionSync(() =>
      fs.openSync(fsPath(root), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY),
    );
  }

  /** A path that names `path` (absolute, beneath the root) in its directory's descriptor; `create` makes missing directories. */
  resolve(path: string, create: boolean): fs.PathLike {
    const rel = this.#relative(path);
    if (rel === '') throw this.#outside(path);
    const fd = this.#dir(dirname(rel), create);
    return fsPath(viaProc ? `/proc/self/fd/${fd}/${basename(rel)}` : path);
  }

  /** The descriptor of the directory `path` (absolute, the root or beneath it); `create` makes it if missing. */
  dirFd(path: string, create = false): number {
    const rel = this.#relative(path);
    return rel === '' ? this.#rootFd : this.#dir(rel, create);
  }

  /** `path` relative to the root ('' for the root itself); anything not inside it is refused. */
  #relative(path: string): string {
    const normal = resolve(path);
    if (!isInside(normal, this.#root)) throw this.#outside(path);
    return relative(this.#root, normal);
  }

  #outside(path: string): Error {
    return Object.assign(new Error(`\`${path}\` is not beneath \`${this.#root}\``), {
      code: 'EOUTSIDE',
      dest: path,
    });
  }

  close(): void {
    for (const fd of this.#dirs.values()) fs.closeSync(fd);
    this.#dirs.clear();
    fs.closeSync(this.#rootFd);
  }

  #dir(rel: string, create: boolean): number {
    if (rel === '.' || rel === '') return this.#rootFd;
    const cached = this.#dirs.get(rel);
    if (cached !== undefined) {
      this.#dirs.delete(rel);
      this.#dirs.set(rel, cached);
      return cached;
    }
    const parent = this.#dir(dirname(rel), create);
    const name = basename(rel);
    const full = `${this.#root}${sep}${rel}`;
    const at = fsPath(viaProc ? `/proc/self/fd/${parent}/${name}` : full);
    const open = () => {
      if (!viaProc && fs.lstatSync(fsPath(full)).isSymbolicLink()) throw symlinkRefused(full);
      return retryOnFdExhaustionSync(() => fs.openSync(at, DIR_FLAGS));
    };
    let fd: number;
    try {
      fd = open();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR') throw symlinkRefused(full);
      if (code !== 'ENOENT' || !create) throw error;
      try {
        fs.mkdirSync(at);
      } catch (made) {
        if ((made as NodeJS.ErrnoException).code !== 'EEXIST') throw made;
      }
      try {
        fd = open();
      } catch (again) {
        const code = (again as NodeJS.ErrnoException).code;
        throw code === 'ELOOP' || code === 'ENOTDIR' ? symlinkRefused(full) : again;
      }
    }
    this.#dirs.set(rel, fd);
    if (this.#dirs.size > OPEN_DIRS) {
      const [oldest, oldFd] = this.#dirs.entries().next().value as [string, number];
      this.#dirs.delete(oldest);
      fs.closeSync(oldFd);
    }
    return fd;
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
