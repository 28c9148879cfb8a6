import { lstat, readFile, stat } from 'node:fs/promises';
import fg from 'fast-glob';
import { GlobpipeError } from '../errors.js';
import { byteSafeFs } from '../io/byte-safe-fs.js';
import { hashFile } from '../io/hash-file.js';
import { fsPath, isNormal } from '../paths.js';
import { RUN_MANIFEST_FORMAT, RUN_MANIFEST_VERSION, type RunManifest } from './run-manifest.js';
import type { GlobQuery, LoadedManifest, VerifyTree } from './verify-shards.js';

/** The file system side of verify-shards: manifests read and checked, the tree globbed and hashed. */

const strings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Reads one manifest; a usage error naming the file when it cannot be read or is not a run manifest. */
export async function loadManifest(file: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new GlobpipeError('EUSAGE', `cannot read manifest ${file} (${code})`, { cause: error });
  }
  let value: Partial<RunManifest>;
  try {
    value = JSON.parse(text) as Partial<RunManifest>;
  } catch (error) {
    throw new GlobpipeError('EUSAGE', `manifest ${file} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const bad = (what: string) =>
    new GlobpipeError('EUSAGE', `manifest ${file} is not a globpipe run manifest: ${what}`);
  if (value === null || typeof value !== 'object' || value.format !== RUN_MANIFEST_FORMAT)
    throw bad(`its format is not "${RUN_MANIFEST_FORMAT}"`);
  if (value.version !== RUN_MANIFEST_VERSION)
    throw bad(`version ${JSON.stringify(value.version)}, this globpipe reads ${RUN_MANIFEST_VERSION}`);
  if (typeof value.cwd !== 'string' || typeof value.out !== 'string') throw bad('no cwd or out');
  if (
    !strings(value.patterns) ||
    !strings(value.glob) ||
    !strings(value.ignore) ||
    !strings(value.globIgnore)
  )
    throw bad('patterns or ignore missing');
  if (value.shard !== null && (typeof value.shard !== 'string' || !/^\d+\/\d+$/.test(value.shard)))
    throw bad(`shard ${JSON.stringify(value.shard)} is neither null nor i/n`);
  if (typeof value.shard === 'string') {
    const [index, count] = value.shard.split('/').map(Number) as [number, number];
    if (index < 1 || index > count || !Number.isSafeInteger(count))
      throw bad(`shard ${JSON.stringify(value.shard)} is no shard i/n with 1 <= i <= n`);
  }
  if (!Array.isArray(value.inputs)) throw bad('no inputs');
  for (const input of value.inputs as unknown[]) {
    const entry = input as Partial<RunManifest['inputs'][number]> | null;
    if (
      entry === null ||
      typeof entry !== 'object' ||
      typeof entry.path !== 'string' ||
      typeof entry.status !== 'string' ||
      typeof entry.bytesIn !== 'number' ||
      typeof entry.bytesOut !== 'number' ||
      !Array.isArray(entry.outputs) ||
      !entry.outputs.every((output) => typeof output?.path === 'string')
    )
      throw bad(`a malformed input entry ${JSON.stringify(input)?.slice(0, 200)}`);
    // A run writes only beneath out: an output elsewhere would have verify-shards read any file.
    const outside = entry.outputs.find(({ path }) => !isNormal(path) || path.includes('\0'));
    if (outside !== undefined) throw bad(`output ${JSON.stringify(outside.path)} is not a path beneath out`);
  }
  return { file, manifest: value as RunManifest };
}

/**
 * Each manifest once: the same file under two spellings (`m1.json`, `./m1.json`) would have every
 * file it names processed twice. A usage error naming both; same file = same device and inode.
 */
export async function loadManifests(files: readonly string[]): Promise<LoadedManifest[]> {
  const loaded: LoadedManifest[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    loaded.push(await loadManifest(file));
    const { dev, ino } = await stat(file);
    const first = seen.get(`${dev}:${ino}`);
    if (first !== undefined)
      throw new GlobpipeError(
        'EUSAGE',
        `manifest ${file} is ${first} given again: give each shard's manifest once`,
      );
    seen.set(`${dev}:${ino}`, file);
  }
  return loaded;
}

/** What is at an output's path when it is not a regular file (verify-shards.ts VerifyTree.notAFile). */
async function notAFile(path: string): Promise<string | undefined> {
  const now = await lstat(fsPath(path)).catch(() => undefined);
  if (now === undefined || now.isFile()) return undefined;
  const kind = now.isSymbolicLink() ? 'a symlink' : now.isDirectory() ? 'a directory' : 'no regular file';
  return `${kind} now, not the file written`;
}

/** Globs as discover.ts does: the same fast-glob options; every match but a directory is an input. */
async function globFiles(query: GlobQuery): Promise<string[]> {
  const entries = await fg(query.glob as string[], {
    cwd: query.cwd,
    dot: query.dot,
    ignore: query.ignore as string[],
    followSymbolicLinks: query.followSymlinks,
    onlyFiles: false,
    objectMode: true,
    // Names as a run reads them: one that is not UTF-8 is its exact bytes, as its manifest holds it.
    fs: byteSafeFs as never,
  });
  return entries.filter((entry) => !entry.dirent.isDirectory()).map((entry) => entry.path);
}

export const fileSystemTree: VerifyTree = {
  glob: globFiles,
  hash: async (path) => (await hashFile(path))?.sha256,
  notAFile,
};
