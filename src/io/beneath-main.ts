import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { fsPath, isInside } from '../paths.js';
import { DIR_FLAGS, outside, procFd, symlinkRefused, viaProc } from './beneath.js';
import { retryOnFdExhaustion } from './retry.js';

/**
 * The main thread's twins of beneath.ts's Tree: output directories made, a stream's temp
 * created and an empty directory removed beneath a root, each component reached through its
 * parent's descriptor (O_NOFOLLOW), asynchronously.
 */

/** fs's callback calls as promises: plain descriptors, lighter than FileHandles for a call or two each. */
const call = {
  open: (path: fs.PathLike, flags: number) =>
    new Promise<number>((done, fail) =>
      fs.open(path, flags, (error, fd) => (error ? fail(error) : done(fd))),
    ),
  close: (fd: number) => new Promise<void>((done) => fs.close(fd, () => done())),
  mkdir: (path: fs.PathLike) =>
    new Promise<void>((done, fail) => fs.mkdir(path, (error) => (error ? fail(error) : done()))),
  rmdir: (path: fs.PathLike) =>
    new Promise<void>((done, fail) => fs.rmdir(path, (error) => (error ? fail(error) : done()))),
  lstat: (path: fs.PathLike) =>
    new Promise<fs.Stats>((done, fail) =>
      fs.lstat(path, (error, stats) => (error ? fail(error) : done(stats))),
    ),
};

/**
 * The descriptors of roots that directories are being made beneath, shared by the calls in
 * flight (a batch's directories are made at once) and closed when the last one is done.
 */
const roots = new Map<string, { fd: Promise<number>; users: number }>();

async function openRoot(base: string): Promise<number> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY;
  try {
    return await retryOnFdExhaustion(() => call.open(fsPath(base), flags));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await fsp.mkdir(fsPath(base), { recursive: true });
    return retryOnFdExhaustion(() => call.open(fsPath(base), flags));
  }
}

async function withRoot<T>(base: string, use: (fd: number) => Promise<T>): Promise<T> {
  let root = roots.get(base);
  if (root === undefined) {
    root = { fd: openRoot(base), users: 0 };
    roots.set(base, root);
  }
  root.users += 1;
  const held = root;
  try {
    return await use(await held.fd);
  } finally {
    held.users -= 1;
    if (held.users === 0) {
      if (roots.get(base) === held) roots.delete(base);
      await held.fd.then(call.close, () => {});
    }
  }
}

/**
 * Walks down to the directory `dir` beneath `root`, each component reached through its
 * parent's descriptor (O_NOFOLLOW), so that no symlink under the root is followed; with
 * `make`, each component is made first (EEXIST is fine). `last` gets the path that names
 * the last component in its parent's descriptor, and its full path.
 */
function walkBeneath<T>(
  root: string,
  dir: string,
  make: ((at: fs.PathLike, full: string) => Promise<void>) | undefined,
  last: (at: fs.PathLike, full: string) => Promise<T>,
): Promise<T> {
  const base = resolve(root);
  const target = resolve(dir);
  if (!isInside(target, base) || target === base) return Promise.reject(outside(dir, root));
  const names = relative(base, target).split(sep);
  const leaf = names.pop() as string;
  return withRoot(base, async (rootFd) => {
    let parent = rootFd;
    let full = base;
    const into = (name: string) => {
      full = `${full}${sep}${name}`;
      return fsPath(viaProc ? `${procFd}/${parent}/${name}` : full);
    };
    try {
      for (const name of names) {
        const at = into(name);
        await make?.(at, full);
        const child = await retryOnFdExhaustion(() => call.open(at, DIR_FLAGS)).catch(
          (error: NodeJS.ErrnoException) => {
            throw error.code === 'ELOOP' || error.code === 'ENOTDIR' ? symlinkRefused(full) : error;
          },
        );
        if (parent !== rootFd) await call.close(parent);
        parent = child;
      }
      const at = into(leaf);
      await make?.(at, full);
      return await last(at, full);
    } finally {
      if (parent !== rootFd) await call.close(parent);
    }
  });
}

/**
 * The async twin of the tree's directory walk, for the main thread: makes the directory `dir`
 * and its missing parents beneath `root`, no component of it a symlink. The last component is
 * made and, when it was there already, checked with lstat: it is not opened, as nothing goes
 * through it here. Resolves with the directories made now, parents first (`dir` last when it
 * was made; none when it was there). (Output directories are made here, not in an IO worker,
 * so that making one never waits behind a batch of files.)
 */
export function makeDirBeneath(root: string, dir: string): Promise<string[]> {
  if (resolve(dir) === resolve(root)) return withRoot(resolve(root), async () => []);
  const made: string[] = [];
  const make = (at: fs.PathLike, full: string) =>
    call.mkdir(at).then(
      () => void made.push(full),
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  return walkBeneath(root, dir, make, async (at, full) => {
    // Made just now, it is a directory of ours; there already, it must be a directory, not a link to one.
    if (made.at(-1) !== full && !(await call.lstat(at)).isDirectory()) throw symlinkRefused(full);
    return made;
  });
}

/**
 * Creates the new file `path` (O_EXCL, mode `mode`) beneath `root` for a stream to write,
 * through its directory's descriptor, and hands over its descriptor. On the main thread: a
 * descriptor an IO worker opened would stay on that worker's books after the main thread
 * closed it (Node warns when the number comes back, and would close it when the worker ends).
 */
export function createBeneath(root: string, path: string, mode: number): Promise<number> {
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
  return walkBeneath(root, path, undefined, (at) =>
    retryOnFdExhaustion(
      () =>
        new Promise<number>((done, fail) =>
          fs.open(at, flags, mode, (error, fd) => (error ? fail(error) : done(fd))),
        ),
    ),
  );
}

/**
 * Removes the directory `dir` beneath `root` when it is empty: rmdir(2), never a recursive
 * delete, through its parent's descriptor (no symlink under the root is followed). Rejects as
 * rmdir does (ENOTEMPTY when something is in it).
 */
export function removeDirBeneath(root: string, dir: string): Promise<void> {
  return walkBeneath(root, dir, undefined, (at) => call.rmdir(at));
}
