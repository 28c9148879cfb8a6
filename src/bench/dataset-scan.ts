import * as fs from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { GlobpipeError } from '../errors.js';
import { byteSafeFs } from '../io/byte-safe-fs.js';
import { describeType } from '../io/file-type.js';
import { fsPath } from '../paths.js';

/**
 * The files bench measures, found as globpipe finds them: names read as bytes (paths.ts),
 * so a name that is not UTF-8 is one file with its exact bytes (fast-glob alone reads it as
 * `a\ufffd`, whose lstat fails, and drops every file of its directory with it). Before the
 * first run the set is checked for what would fail every run (a pattern globpipe refuses, a
 * file this user cannot read, a FIFO), symlinks left out as runs skip them; after the runs,
 * scanned again, to name what changed meanwhile.
 */

export interface DatasetFile {
  /** Relative to the root, forward slashes; bytes that are not UTF-8 escaped (paths.ts). */
  readonly rel: string;
  /** Absolute, escaped as `rel`. */
  readonly path: string;
  readonly size: number;
}

function usage(message: string, cause?: unknown): GlobpipeError {
  return new GlobpipeError('EUSAGE', message, { cause });
}

/** What the patterns match, as a run sees it: regular files, symlinks (a run skips them), the rest. */
interface Found {
  readonly files: DatasetFile[];
  readonly links: string[];
  /** FIFOs, sockets, devices: `fifo is a FIFO (named pipe)`; a run fails each. */
  readonly special: string[];
}

const byName = (a: DatasetFile, b: DatasetFile) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);

async function walk(root: string, patterns: readonly string[]): Promise<Found> {
  const entries = await fg([...patterns], {
    cwd: root,
    onlyFiles: false,
    // As a run globs: a symlink is an entry of its own (lstat), never followed.
    followSymbolicLinks: false,
    stats: true,
    fs: byteSafeFs as never,
  });
  const found: Found = { files: [], links: [], special: [] };
  for (const entry of entries) {
    const stats = entry.stats;
    if (stats === undefined || stats.isDirectory()) continue;
    if (stats.isFile()) found.files.push({ rel: entry.path, path: join(root, entry.path), size: stats.size });
    else if (stats.isSymbolicLink()) found.links.push(entry.path);
    else found.special.push(`${entry.path} ${describeType(stats)}`);
  }
  found.files.sort(byName);
  return found;
}

/** The regular files under `root` matching `patterns`, sorted by name (no checks: scanDataset's). */
export async function findFiles(root: string, patterns: readonly string[]): Promise<DatasetFile[]> {
  return (await walk(root, patterns)).files;
}

/** Up to three names and how many more: `a.txt, b.txt, c.txt and 4 more` (the CLI escapes what it prints). */
export function someNames(names: readonly string[]): string {
  const shown = names.slice(0, 3).join(', ');
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/**
 * The dataset's files under `root` matching `patterns`, sorted by name. Rejects with EUSAGE
 * when runs could not do it: an unreadable directory, no file at all, a positive pattern
 * that matches nothing (globpipe refuses such a run, exit 2), a file this user cannot read.
 */
export async function scanDataset(
  root: string,
  patterns: readonly string[],
): Promise<{ readonly files: DatasetFile[]; readonly notes: string[] }> {
  const found = await walk(root, patterns).catch((error: Error) => {
    throw usage(`cannot read the dataset in ${root}: ${error.message}`, error);
  });
  const { files } = found;
  if (files.length === 0) {
    const all = patterns.length === 1 && patterns[0] === '**/*';
    throw usage(
      all
        ? `No files in ${root}: make a dataset with \`globpipe gen ${root}\``
        : `No files match ${patterns.join(' ')} in ${root}: check the patterns (relative to -C)`,
    );
  }
  if (found.special.length > 0)
    throw usage(
      `${found.special.length} of the matches in ${root} are not regular files, which every run would fail: ${someNames(found.special)}; leave them out with a pattern ('!name')`,
    );
  const positive = patterns.filter((pattern) => !pattern.startsWith('!'));
  const negative = patterns.filter((pattern) => pattern.startsWith('!'));
  if (positive.length > 1) {
    for (const pattern of positive) {
      const matched = await walk(root, [pattern, ...negative]);
      if (matched.files.length + matched.links.length === 0)
        throw usage(
          `The pattern ${pattern} matches no file in ${root}: each run would refuse it (exit 2); leave it out`,
        );
    }
  }
  const unreadable = files.filter((file) => {
    try {
      fs.accessSync(fsPath(file.path), fs.constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (unreadable.length > 0) {
    const uid = process.getuid?.();
    throw usage(
      `${unreadable.length} of the dataset's files cannot be read${uid === undefined ? '' : ` by uid ${uid}`}, so every run would fail: ${someNames(unreadable.map((file) => file.rel))}`,
    );
  }
  // A run skips a symlink (it follows none without --follow-symlinks): not part of the dataset.
  const notes =
    found.links.length === 0
      ? []
      : [
          `${found.links.length} symbolic ${found.links.length === 1 ? 'link is' : 'links are'} not measured (runs do not follow them): ${someNames(found.links)}.`,
        ];
  return { files, notes };
}

/**
 * What changed in the dataset since `before`: `1 file added (d00/new.txt); 1 removed
 * (d01/f11.txt)`, or undefined when it looks the same now (or cannot be read any more).
 */
export async function datasetChanges(
  root: string,
  patterns: readonly string[],
  before: readonly DatasetFile[],
): Promise<string | undefined> {
  const now = await findFiles(root, patterns).catch(() => undefined);
  if (now === undefined) return `${root} cannot be read any more`;
  const old = new Map(before.map((file) => [file.rel, file.size]));
  const current = new Map(now.map((file) => [file.rel, file.size]));
  const added = now.filter((file) => !old.has(file.rel)).map((file) => file.rel);
  const removed = before.filter((file) => !current.has(file.rel)).map((file) => file.rel);
  const resized = now
    .filter((file) => old.has(file.rel) && old.get(file.rel) !== file.size)
    .map((file) => file.rel);
  const parts = [
    ...(added.length > 0 ? [`${count(added.length)} added (${someNames(added)})`] : []),
    ...(removed.length > 0 ? [`${count(removed.length)} removed (${someNames(removed)})`] : []),
    ...(resized.length > 0 ? [`${count(resized.length)} changed size (${someNames(resized)})`] : []),
  ];
  return parts.length === 0 ? undefined : parts.join('; ');
}

function count(files: number): string {
  return `${files} ${files === 1 ? 'file' : 'files'}`;
}
