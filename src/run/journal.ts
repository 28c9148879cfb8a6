import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { isAbsolute, join, posix, relative } from 'node:path';
import { GlobpipeError } from '../errors.js';
import type { TempPair } from '../io/port.js';
import { decodeName, fsPath, isInside, isNormal, toPosix } from '../paths.js';
import { RunLock } from './lock.js';

/** Lives in cwd while an in-place run goes; never globbed. */
export const JOURNAL_NAME = '.globpipe-journal.jsonl';

/** The first line: what run wrote the journal, and for which directory (its real path). */
interface Header {
  readonly globpipe: 1;
  readonly transforms: string;
  readonly cwd: string;
}

interface Record {
  /** Input path relative to cwd, as the glob gave it. */
  readonly path: string;
  /** Complete temp files and where they go, `[temp, dest]`, relative to cwd with forward slashes. */
  readonly renames: readonly (readonly [string, string])[];
}

export interface JournalOptions {
  readonly cwd: string;
  /** `cwd` with symlinks resolved: the journal's header names it, and no rename may leave it. */
  readonly realCwd: string;
  readonly transforms: string;
  readonly resume: boolean;
  readonly dryRun: boolean;
  readonly fsync: boolean;
  /** The absolute paths this run writes for an input: the only places a journaled rename may go. */
  readonly outputsOf: (path: string) => readonly string[];
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
        const header: Header = { globpipe: 1, transforms: options.transforms, cwd: options.realCwd };
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
    const record: Record = {
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

/** A rename to finish, with real paths checked to stay in cwd. */
interface PendingRename {
  readonly input: string;
  readonly from: string;
  readonly to: string;
}

interface Checked {
  /** Inputs done by the interrupted run. */
  readonly done: Set<string>;
  /** Renames it did not get to, in journal order. */
  readonly renames: readonly PendingRename[];
  /** Bytes of whole lines: what follows was cut short by the crash. */
  readonly keep: number;
}

/**
 * Reads and checks a whole journal before anything is renamed. Its header must
 * name this directory (by real path) and these transforms. Every line but the
 * last must be whole: only the last can have been cut short by a crash. Every
 * rename must be one a run here could have journaled: a globpipe temp file
 * (tempPathFor in io/atomic.ts), beside one of this run's outputs for that
 * line's input, and named after it, in a directory whose real path is inside
 * cwd. Anything else is refused, naming the line: a forged or foreign journal
 * must not rename files anywhere.
 */
async function checkJournal(path: string, stats: Stats, options: JournalOptions): Promise<Checked> {
  if (!stats.isFile()) throw damaged(path, 1, 'it is not a regular file');
  const content = await readFile(path);
  const lines: { text: string; end: number }[] = [];
  for (let start = 0; start < content.length; ) {
    const newline = content.indexOf(0x0a, start);
    const end = newline === -1 ? content.length : newline + 1;
    lines.push({ text: content.toString('utf8', start, newline === -1 ? end : newline), end });
    start = end;
  }
  // Only the last line can have been cut short by the crash: its file was not renamed, so it is simply not done.
  const last = lines.at(-1);
  if (last !== undefined && (content[last.end - 1] !== 0x0a || !parses(last.text))) lines.pop();
  const keep = lines.at(-1)?.end ?? 0;
  // No header: the run died as it started, before any file was done.
  if (lines.length === 0) return { done: new Set(), renames: [], keep };

  const header = parseLine((lines[0] as (typeof lines)[0]).text, path, 1) as Partial<Header> | null;
  if (header === null || header.globpipe !== 1 || typeof header.transforms !== 'string') {
    throw damaged(path, 1, 'no globpipe header');
  }
  if (typeof header.cwd !== 'string') {
    throw refused(path, 1, 'its header does not name the directory it was written for');
  }
  if (header.cwd !== options.realCwd) {
    throw refused(path, 1, `it was written for \`${header.cwd}\`, not for --cwd \`${options.realCwd}\``);
  }
  if (header.transforms !== options.transforms) {
    throw new GlobpipeError(
      'EUSAGE',
      `Cannot resume: the interrupted run used transforms \`${header.transforms}\`, this one \`${options.transforms}\` (journal \`${path}\`)`,
      { path },
    );
  }

  const done = new Set<string>();
  const pending = new Map<string, PendingRename[]>();
  for (const [index, { text: line }] of lines.entries()) {
    if (index === 0) continue;
    const number = index + 1;
    const value = parseLine(line, path, number) as (Partial<Record> & { undone?: unknown }) | null;
    if (value !== null && typeof value.undone === 'string' && Object.keys(value).length === 1) {
      checkInput(value.undone, path, number);
      // Its renames failed and its temps were removed: the file is to be done again, from its input.
      done.delete(value.undone);
      pending.delete(value.undone);
      continue;
    }
    if (value === null || typeof value.path !== 'string' || !Array.isArray(value.renames)) {
      throw damaged(path, number, `not a record \`${line.slice(0, 80)}\``);
    }
    const input = value.path;
    checkInput(input, path, number);
    const renames: PendingRename[] = [];
    for (const pair of value.renames as unknown[]) {
      const found = await checkRename(pair, input, path, number, options);
      if (found !== undefined) renames.push(found);
    }
    done.add(input);
    pending.set(input, renames);
  }
  return { done, renames: [...pending.values()].flat(), keep };
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function parseLine(line: string, path: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw damaged(path, number, `unreadable line \`${line.slice(0, 80)}\``);
  }
}

/** An input path as the glob gives it: relative, and not above cwd. */
function checkInput(input: string, path: string, number: number): void {
  const normal = posix.normalize(input);
  if (
    input === '' ||
    input.includes('\0') ||
    isAbsolute(input) ||
    normal === '..' ||
    normal.startsWith('../')
  ) {
    throw refused(path, number, `\`${input}\` is not an input path inside --cwd`);
  }
}

// `.<name>.<pid>-<hex>-<n>.globpipe-tmp` after `.<name>` (see tempPathFor in io/atomic.ts).
const tempSuffix = /^\.\d+-[0-9a-f]+-\d+\.globpipe-tmp$/;
/** tempPathFor keeps at most this much of the target's name. */
const TEMP_NAME_KEEPS = 180;

/**
 * One journaled `[temp, dest]`, checked: the rename to finish, or `undefined`
 * when there is none left (the temp is gone: renamed before the crash).
 */
async function checkRename(
  pair: unknown,
  input: string,
  path: string,
  number: number,
  options: JournalOptions,
): Promise<PendingRename | undefined> {
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string')) {
    throw damaged(path, number, `a rename is not a pair of paths: \`${JSON.stringify(pair)}\``);
  }
  const [temp, dest] = pair as [string, string];
  for (const p of [temp, dest]) {
    // Relative, no `.` or `..` segment: the lexical path stays in cwd; symlinks are checked below.
    if (!isNormal(p) || p.includes('\0'))
      throw refused(path, number, `\`${p}\` is not a plain path inside --cwd`);
  }
  let outputs: string[];
  try {
    outputs = options.outputsOf(input).map((output) => toPosix(relative(options.cwd, output)));
  } catch (error) {
    throw refused(path, number, `the outputs of \`${input}\` cannot be planned: ${(error as Error).message}`);
  }
  if (!outputs.includes(dest)) {
    throw refused(
      path,
      number,
      `\`${dest}\` is not where this run writes \`${input}\` (${outputs.map((o) => `\`${o}\``).join(', ')}; resume with the options of the interrupted run)`,
    );
  }
  const slash = dest.lastIndexOf('/');
  const dir = dest.slice(0, slash + 1);
  const name = dest.slice(slash + 1);
  const tempName = temp.slice(dir.length);
  const prefix = `.${name.slice(0, TEMP_NAME_KEEPS)}`;
  if (
    !temp.startsWith(dir) ||
    tempName.includes('/') ||
    !tempName.startsWith(prefix) ||
    !tempSuffix.test(tempName.slice(prefix.length))
  ) {
    throw refused(path, number, `\`${temp}\` is not a globpipe temp file of \`${dest}\``);
  }
  let realDir: string;
  try {
    realDir = decodeName(await realpath(fsPath(join(options.cwd, dir)), { encoding: 'buffer' }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The directory is gone since: nothing can be renamed there.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw refused(path, number, `cannot check where \`${dest}\` is: ${(error as Error).message}`);
  }
  if (!isInside(realDir, options.realCwd)) {
    throw refused(path, number, `\`${dest}\` is in \`${realDir}\`, outside --cwd (a symlinked directory)`);
  }
  const from = join(realDir, tempName);
  const stats = await lstat(fsPath(from)).catch(() => undefined);
  if (stats === undefined) return undefined;
  if (!stats.isFile()) throw refused(path, number, `\`${temp}\` is not a regular file`);
  return { input, from, to: join(realDir, name) };
}

function damaged(path: string, number: number, why: string): GlobpipeError {
  return new GlobpipeError(
    'EUSAGE',
    `Cannot resume from journal \`${path}\`, line ${number}: the journal is damaged (${why}); nothing was renamed. Delete it to start over`,
    { path },
  );
}

function refused(path: string, number: number, why: string): GlobpipeError {
  return new GlobpipeError(
    'EUSAGE',
    `Cannot resume from journal \`${path}\`, line ${number}: ${why}. globpipe finishes only the renames of its own temp files over this run's outputs inside --cwd; nothing was renamed. If this journal is not from an interrupted run here, delete it`,
    { path },
  );
}
