import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { GlobpipeError } from '../errors.js';
import type { TempPair } from '../io/port.js';
import { fsPath, toPosix } from '../paths.js';
import {
  type Checked,
  checkJournal,
  type JournalHeader,
  type JournalOptions,
  type JournalRecord,
} from './journal-check.js';

export type { JournalOptions } from './journal-check.js';

import { lockName, RunLock } from './lock.js';
import type { Shard } from './shard.js';

/** Lives in cwd while an in-place run goes; never globbed. */
export const JOURNAL_NAME = '.globpipe-journal.jsonl';

/**
 * A shard's journal, `.globpipe-journal.2-of-4.jsonl`: shards of one tree write disjoint files,
 * so each resumes from its own journal, and a rerun of shard 2 never finishes shard 3's renames.
 */
export function journalName(shard?: Shard): string {
  return shard === undefined ? JOURNAL_NAME : `.globpipe-journal.${shard.index}-of-${shard.count}.jsonl`;
}

/** Every journal name, a shard's too: never globbed, whichever shard a run is. */
export const JOURNAL_GLOB = '.globpipe-journal*.jsonl';

export function isJournalName(name: string): boolean {
  return name.startsWith('.globpipe-journal') && name.endsWith('.jsonl');
}

/** `{index, count}` of a shard's journal name, null for the whole tree's; undefined for no journal name. */
function journalShard(name: string): Shard | null | undefined {
  if (name === JOURNAL_NAME) return null;
  const match = /^\.globpipe-journal\.(\d+)-of-(\d+)\.jsonl$/.exec(name);
  return match === null ? undefined : { index: Number(match[1]), count: Number(match[2]) };
}

/**
 * Another run's journal over files this run would take too: the whole tree's and a shard's, or
 * shards of different counts. Files it journaled may already be transformed in place; this run
 * would transform them again. Only shards of one count take disjoint files and go on side by side.
 */
async function refuseOverlapping(cwd: string, shard: Shard | undefined): Promise<void> {
  const names = await readdir(cwd).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const other = journalShard(name);
    if (other === undefined || name === journalName(shard)) continue;
    if (other !== null && shard !== undefined && other.count === shard.count) continue;
    const which = other === null ? 'over the whole tree' : `of shard ${other.index}/${other.count}`;
    const resume =
      other === null ? '--resume (no --shard)' : `--resume --shard ${other.index}/${other.count}`;
    throw new GlobpipeError(
      'EUSAGE',
      `An in-place run ${which} has its journal \`${join(cwd, name)}\` here (interrupted, or still running), over files this run would take too: finish it with ${resume}, or delete the journal to start over`,
      { path: join(cwd, name) },
    );
  }
}

/**
 * The journal of an in-place run: one line per file whose results are complete,
 * written after its temp files and before they are renamed over the inputs.
 * After a crash or `kill -9`, a line whose temp still exists is a rename that
 * did not happen yet; one whose temp is gone is a rename that did. So a rerun
 * with `--resume` finishes those renames and skips those files: no transform is
 * ever applied twice to one file. The journal is removed when a run completes.
 *
 * A journal is a file in a tree globpipe may not have made, so a resume trusts
 * it only for what a run of its own could have written there (see `checkJournal`).
 * While the journal is open, the run holds the tree's lock (lock.ts): a live
 * run's journal is never taken for an interrupted one.
 */
export class Journal {
  readonly path: string;
  readonly #cwd: string;
  readonly #done: ReadonlySet<string>;
  readonly #handle: FileHandle | undefined;
  readonly #fsync: boolean;
  readonly #lock: RunLock | undefined;

  private constructor(
    path: string,
    cwd: string,
    done: ReadonlySet<string>,
    open?: { handle: FileHandle; fsync: boolean; lock: RunLock },
  ) {
    this.path = path;
    this.#cwd = cwd;
    this.#done = done;
    this.#handle = open?.handle;
    this.#fsync = open?.fsync ?? false;
    this.#lock = open?.lock;
  }

  /**
   * Takes the tree's lock, then opens the journal of `cwd`. An existing one means
   * an interrupted run: without `resume` that is a usage error (nothing is
   * written); with it, its pending renames are finished and its files will be
   * skipped. A dry run only checks that no run is live, and writes nothing.
   */
  static async open(options: JournalOptions): Promise<Journal> {
    if (options.dryRun) {
      RunLock.check(options.cwd, lockName(options.shard));
      return await Journal.#open(options, undefined);
    }
    const lock = await RunLock.acquire(options.cwd, lockName(options.shard));
    try {
      return await Journal.#open(options, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  static async #open(options: JournalOptions, lock: RunLock | undefined): Promise<Journal> {
    await refuseOverlapping(options.cwd, options.shard);
    const path = join(options.cwd, journalName(options.shard));
    const stats = await lstat(path).catch(() => undefined);
    let resumed: Checked = { done: new Set(), renames: [], keep: 0 };
    if (stats !== undefined) {
      if (!options.resume) {
        throw new GlobpipeError(
          'EUSAGE',
          `An interrupted in-place run left its journal \`${path}\`: rerun with --resume to finish it without transforming any file twice, or delete the journal to start over`,
          { path },
        );
      }
      resumed = await checkJournal(path, stats, options);
      // Only now, with every line checked: a journal refused anywhere renames nothing.
      if (!options.dryRun) {
        for (const { from, to, input } of resumed.renames) {
          try {
            await rename(fsPath(from), fsPath(to));
          } catch (error) {
            throw new GlobpipeError(
              'EUSAGE',
              `Cannot resume: finishing \`${input}\` (rename \`${from}\` -> \`${to}\`) failed: ${(error as Error).message}`,
              { cause: error, path },
            );
          }
        }
      }
    }
    if (lock === undefined) return new Journal(path, options.cwd, resumed.done);
    const handle = await open(
      path,
      // A new journal is created, never followed through a symlink put in its place.
      constants.O_WRONLY |
        constants.O_APPEND |
        constants.O_NOFOLLOW |
        (stats === undefined ? constants.O_CREAT | constants.O_EXCL : 0),
      0o600,
    );
    try {
      // A line cut short by the crash goes, so the next one starts on a line of its own.
      if (stats !== undefined) await handle.truncate(resumed.keep);
      if (resumed.keep === 0) {
        const header: JournalHeader = { globpipe: 1, transforms: options.transforms, cwd: options.realCwd };
        await handle.write(`${JSON.stringify(header)}\n`);
      }
      if (options.fsync) await handle.sync();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new Journal(path, options.cwd, resumed.done, { handle, fsync: options.fsync, lock });
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
    const cwd = this.#cwd;
    const record: JournalRecord = {
      path,
      renames: renames.map(([temp, dest]) => [toPosix(relative(cwd, temp)), toPosix(relative(cwd, dest))]),
    };
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
