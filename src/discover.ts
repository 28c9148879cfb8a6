import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import fg from 'fast-glob';
import type { Settings } from './settings.js';

export type EntryKind = 'file' | 'symlink' | 'other';

/** One match of the glob. */
export interface Entry {
  /** Relative to cwd, forward slashes, as the pattern produced it (may start with `../`). */
  readonly path: string;
  readonly absolutePath: string;
  readonly kind: EntryKind;
  readonly size: number;
  readonly mtime: Date;
}

/** A glob failure that is not about one match (an unreadable directory, a loop). */
export class DiscoverError extends Error {
  override readonly name = 'DiscoverError';
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`cannot read ${path}`, { cause });
    this.path = path;
  }
}

function kindOf(stats: Stats): EntryKind | 'directory' {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * The matches of the settings' patterns, as a stream: the pipeline consumes
 * entries while the glob goes on. Directories are dropped; symlinks, FIFOs and
 * the like are kept so the pipeline can report them.
 */
export async function* discover(settings: Settings): AsyncGenerator<Entry> {
  const stream: Readable = fg.stream(settings.patterns as string[], {
    cwd: settings.cwd,
    dot: settings.dot,
    ignore: settings.ignore as string[],
    followSymbolicLinks: settings.followSymlinks,
    onlyFiles: false,
    stats: true,
    objectMode: true,
    unique: true,
  }) as Readable;
  try {
    for await (const item of stream) {
      const { path, stats } = item as unknown as fg.Entry & { stats: Stats };
      const kind = kindOf(stats);
      if (kind === 'directory') continue;
      yield { path, absolutePath: join(settings.cwd, path), kind, size: stats.size, mtime: stats.mtime };
    }
  } catch (error) {
    const path = (error as NodeJS.ErrnoException).path ?? settings.cwd;
    throw new DiscoverError(path, error);
  } finally {
    stream.destroy();
  }
}
