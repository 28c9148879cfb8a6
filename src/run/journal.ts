import { existsSync, readFileSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GlobpipeError } from '../errors.js';
import type { TempPair } from '../io/port.js';
import { RunLock } from './lock.js';

/** Lives in cwd while an in-place run goes; never globbed. */
export const JOURNAL_NAME = '.globpipe-journal.jsonl';

interface Header {
  readonly globpipe: 1;
  readonly transforms: string;
}

export interface JournalOptions {
  readonly cwd: string;
  readonly transforms: string;
  readonly resume: boolean;
  readonly dryRun: boolean;
  readonly fsync: boolean;
}

interface Record {
  /** Input path relative to cwd. */
  readonly path: string;
  /** Complete temp files and where they go: `[temp, dest]`. */
  readonly renames: readonly (readonly [string, string])[];
}

/**
 * The journal of an in-place run: one line per file whose results are complete,
 * written after its temp files and before they are renamed over the inputs.
 * After a crash or `kill -9`, a line whose temp still exists is a rename that
 * did not happen yet; one whose temp is gone is a rename that did. So a rerun
 * with `--resume` finishes those renames and skips those files: no transform is
 * ever applied twice to one file. The journal is removed when a run completes.
 * While the journal is open, the run holds the tree's lock (lock.ts): a live
 * run's journal is never taken for an interrupted one.
 */
export class Journal {
  readonly path: string;
  readonly #done: ReadonlySet<string>;
  readonly #handle: FileHandle | undefined;
  readonly #fsync: boolean;
  readonly #lock: RunLock | undefined;

  private constructor(
    path: string,
    done: ReadonlySet<string>,
    handle: FileHandle | undefined,
    fsync: boolean,
    lock?: RunLock,
  ) {
    this.path = path;
    this.#done = done;
    this.#handle = handle;
    this.#fsync = fsync;
    this.#lock = lock;
  }

  /**
   * Takes the tree's lock, then opens the journal of `cwd`. An existing one means
   * an interrupted run: without `resume` that is a usage error (nothing is
   * written); with it, its pending renames are finished and its files will be
   * skipped. A dry run only checks that no run is live, and writes nothing.
   */
  static async open(options: JournalOptions): Promise<Journal> {
    if (options.dryRun) {
      RunLock.check(options.cwd);
      return await Journal.#open(options, undefined);
    }
    const lock = await RunLock.acquire(options.cwd);
    try {
      return await Journal.#open(options, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  static async #open(options: JournalOptions, lock: RunLock | undefined): Promise<Journal> {
    const path = join(options.cwd, JOURNAL_NAME);
    const done = new Set<string>();
    if (existsSync(path)) {
      if (!options.resume) {
        throw new GlobpipeError(
          'EUSAGE',
          `An interrupted in-place run left its journal \`${path}\`: rerun with --resume to finish it without transforming any file twice, or delete the journal to start over`,
          { path },
        );
      }
      const lines = readFileSync(path, 'utf8').split('\n');
      const header = parseLine(lines[0] ?? '', path) as Header | undefined;
      if (header?.globpipe !== 1) throw corrupt(path, 'no header');
      if (header.transforms !== options.transforms) {
        throw new GlobpipeError(
          'EUSAGE',
          `Cannot resume: the interrupted run used transforms \`${header.transforms}\`, this one \`${options.transforms}\` (journal \`${path}\`)`,
          { path },
        );
      }
      for (const line of lines.slice(1)) {
        // A line cut short by the crash was never followed by its renames: that file is simply not done.
        const record = parseLine(line, path) as (Partial<Record> & { undone?: string }) | undefined;
        if (typeof record?.undone === 'string') {
          done.delete(record.undone);
          continue;
        }
        if (typeof record?.path !== 'string' || !Array.isArray(record.renames)) continue;
        if (!options.dryRun) {
          for (const [temp, dest] of record.renames) {
            if (!existsSync(temp)) continue;
            try {
              await rename(temp, dest);
            } catch (error) {
              throw new GlobpipeError(
                'EUSAGE',
                `Cannot resume: finishing \`${record.path}\` (rename \`${temp}\` -> \`${dest}\`) failed: ${(error as Error).message}`,
                { cause: error, path },
              );
            }
          }
        }
        done.add(record.path);
      }
    }
    if (options.dryRun) return new Journal(path, done, undefined, false);
    const handle = await open(path, 'a');
    if (done.size === 0)
      await handle.write(`${JSON.stringify({ globpipe: 1, transforms: options.transforms })}\n`);
    if (options.fsync) await handle.sync();
    return new Journal(path, done, handle, options.fsync, lock);
  }

  /** Done by the interrupted run this one resumes. */
  isDone(path: string): boolean {
    return this.#done.has(path);
  }

  get resumed(): number {
    return this.#done.size;
  }

  /** Appends one line (O_APPEND: concurrent files never interleave their lines). */
  async record(path: string, renames: readonly TempPair[]): Promise<void> {
    if (this.#handle === undefined) return;
    const record: Record = { path, renames };
    await this.#handle.write(`${JSON.stringify(record)}\n`);
    if (this.#fsync) await this.#handle.datasync();
  }

  /** Takes back a record whose renames failed: a resume must redo that file. */
  async undo(path: string): Promise<void> {
    if (this.#handle === undefined) return;
    await this.#handle.write(`${JSON.stringify({ undone: path })}\n`);
    if (this.#fsync) await this.#handle.datasync();
  }

  /**
   * Closes the journal; removes it when the run completed, keeps it for `--resume` when
   * it was interrupted. Then releases the lock, whatever happened.
   */
  async close(completed: boolean): Promise<void> {
    try {
      await this.#handle?.close();
      if (completed && this.#handle !== undefined) await unlink(this.path).catch(() => {});
    } finally {
      this.#lock?.release();
    }
  }
}

function parseLine(line: string, path: string): unknown {
  if (line.trim() === '') return undefined;
  try {
    return JSON.parse(line);
  } catch {
    if (line.endsWith('}')) throw corrupt(path, `unreadable line \`${line.slice(0, 80)}\``);
    return undefined;
  }
}

function corrupt(path: string, why: string): GlobpipeError {
  return new GlobpipeError('EUSAGE', `Journal \`${path}\` is damaged (${why}); delete it to start over`, {
    path,
  });
}
