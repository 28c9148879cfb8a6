import { join, relative, sep } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { isStaleTempName } from './atomic.js';
import type { IoPort } from './port.js';

/** Directories removed at once, at most, at the end of a run. */
const REMOVE_AT_ONCE = 32;

/**
 * Creates output directories once each, however many files land in them at
 * the same time: concurrent callers for one directory share one promise. Each
 * directory that was there before is also swept once of temp files that dead
 * runs left behind (`kill -9` leaves them; no partial file is ever at a final
 * path); one made now is empty. The directories made now are remembered, so
 * that those left empty (every file bound for them failed) can be removed.
 */
export class DirMaker {
  readonly #port: IoPort;
  readonly #root: string;
  /** The root's real path, asked once, when the first directory is made. */
  #realRoot: Promise<string> | undefined;
  readonly #check: (dir: string, realDir: string) => void;
  readonly #made = new Map<string, Promise<void>>();
  /** Every directory this run made, parents included (each once: mkdir made it for one caller). */
  readonly #created: string[] = [];

  /**
   * Directories beneath `root` (made without following a symlink under it, so that each one's
   * real path is the root's joined with its path under `root`); `check` sees each with its
   * real path, and throws to refuse writing there.
   */
  constructor(port: IoPort, root: string, check: (dir: string, realDir: string) => void = () => {}) {
    this.#port = port;
    this.#root = root;
    this.#check = check;
  }

  ensure(dir: string): Promise<void> {
    let pending = this.#made.get(dir);
    if (pending === undefined) {
      pending = this.#port.mkdir(dir, this.#root).then(async (made) => {
        for (const created of made) this.#created.push(created);
        this.#realRoot ??= this.#port.realpath(this.#root).catch((error: unknown) => {
          this.#realRoot = undefined; // asked again by the next directory
          throw error;
        });
        this.#check(dir, join(await this.#realRoot, relative(this.#root, dir)));
        if (made.at(-1) !== dir) await this.#sweep(dir);
      });
      this.#made.set(dir, pending);
      // A failure of the file system is not cached: the next file retries (and reports its own error).
      pending.catch((error: unknown) => {
        if (!(error instanceof GlobpipeError)) this.#made.delete(dir);
      });
    }
    return pending;
  }

  /**
   * Removes the directories this run made that hold nothing, deepest first (a parent emptied
   * by its children's removal goes too); once the run's files are done. Only rmdir: a directory
   * that holds anything, a file another process put there included, stays, and so does every
   * directory that was there before the run. Resolves with how many were removed.
   */
  async removeEmpty(): Promise<number> {
    const depth = (dir: string) => dir.split(sep).length;
    const deepestFirst = this.#created.splice(0).sort((a, b) => depth(b) - depth(a));
    let removed = 0;
    for (let start = 0; start < deepestFirst.length; ) {
      // One depth at a time, and so many at once: a directory goes only after its children.
      const level = depth(deepestFirst[start] as string);
      let end = start;
      while (end < deepestFirst.length && end - start < REMOVE_AT_ONCE) {
        if (depth(deepestFirst[end] as string) !== level) break;
        end += 1;
      }
      const results = await Promise.allSettled(
        deepestFirst.slice(start, end).map((dir) => this.#port.rmdir(dir, this.#root)),
      );
      for (const result of results) if (result.status === 'fulfilled') removed += 1;
      start = end;
    }
    if (removed > 0) this.#made.clear();
    return removed;
  }

  async #sweep(dir: string): Promise<void> {
    const names = await this.#port.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (isStaleTempName(name)) await this.#port.unlink(join(dir, name), this.#root).catch(() => {});
    }
  }
}
