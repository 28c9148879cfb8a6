import { join, relative } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { isStaleTempName } from './atomic.js';
import type { IoPort } from './port.js';

/**
 * Creates output directories once each, however many files land in them at
 * the same time: concurrent callers for one directory share one promise. Each
 * directory that was there before is also swept once of temp files that dead
 * runs left behind (`kill -9` leaves them; no partial file is ever at a final
 * path); one made now is empty.
 */
export class DirMaker {
  readonly #port: IoPort;
  readonly #root: string;
  /** The root's real path, asked once, when the first directory is made. */
  #realRoot: Promise<string> | undefined;
  readonly #check: (dir: string, realDir: string) => void;
  readonly #made = new Map<string, Promise<void>>();

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
        this.#realRoot ??= this.#port.realpath(this.#root).catch((error: unknown) => {
          this.#realRoot = undefined; // asked again by the next directory
          throw error;
        });
        this.#check(dir, join(await this.#realRoot, relative(this.#root, dir)));
        if (!made) await this.#sweep(dir);
      });
      this.#made.set(dir, pending);
      // A failure of the file system is not cached: the next file retries (and reports its own error).
      pending.catch((error: unknown) => {
        if (!(error instanceof GlobpipeError)) this.#made.delete(dir);
      });
    }
    return pending;
  }

  async #sweep(dir: string): Promise<void> {
    const names = await this.#port.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (isStaleTempName(name)) await this.#port.unlink(join(dir, name), this.#root).catch(() => {});
    }
  }
}
