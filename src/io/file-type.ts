import { type Stats, statSync } from 'node:fs';

/** What a dirent and a Stats both tell: the file's type. */
export type FileType = Pick<
  Stats,
  'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'
>;

/** `is a FIFO (named pipe)`: what a path is when a regular file was expected. */
export function describeType(stats: Omit<FileType, 'isFile' | 'isSymbolicLink'>): string {
  if (stats.isDirectory()) return 'is a directory';
  if (stats.isFIFO()) return 'is a FIFO (named pipe)';
  if (stats.isSocket()) return 'is a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'is a device';
  return 'is not a regular file';
}

/** Whether `path` is a directory (or a link to one); false when there is nothing there or it cannot be looked up. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}
