import type { Stats } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, posix, relative } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { decodeName, fsPath, isInside, isNormal, toPosix } from '../paths.js';
import type { Shard } from './shard.js';

/**
 * The checks `--resume` makes of a journal before it renames anything: a journal is
 * trusted only as far as a run here could have written it.
 */

/** The first line: what run wrote the journal, and for which directory (its real path). */
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
  /** A sharded run's shard: its journal and lock are its own (journal.ts journalName). */
  readonly shard?: Shard;
}

export interface JournalHeader {
  readonly globpipe: 1;
  readonly transforms: string;
  readonly cwd: string;
}

export interface JournalRecord {
  /** Input path relative to cwd, as the glob gave it. */
  readonly path: string;
  /** Complete temp files and where they go, `[temp, dest]`, relative to cwd with forward slashes. */
  readonly renames: readonly (readonly [string, string])[];
}

/** A rename to finish, with real paths checked to stay in cwd. */
export interface PendingRename {
  readonly input: string;
  readonly from: string;
  readonly to: string;
}

export interface Checked {
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
export async function checkJournal(path: string, stats: Stats, options: JournalOptions): Promise<Checked> {
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

  const header = parseLine((lines[0] as (typeof lines)[0]).text, path, 1) as Partial<JournalHeader> | null;
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
    const value = parseLine(line, path, number) as (Partial<JournalRecord> & { undone?: unknown }) | null;
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
