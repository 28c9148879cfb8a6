/**
 * Thrown by a transform that declines a file (a text transform given binary
 * content): the file is reported as skipped, with this message as the reason,
 * and nothing is written for it.
 */
export class SkipFile extends Error {
  override readonly name = 'SkipFile';
}

/**
 * Thrown by a transform's `buffer` form when the file is better handled by its `stream`
 * form (a decompressor whose output passed what it may hold in memory): the pipeline then
 * streams the file at constant memory instead.
 */
export class StreamInstead extends Error {
  override readonly name = 'StreamInstead';
}

/** Per-file figures a transform reports (`replacements: 12`), shown in the file's result. */
const notes = new WeakMap<object, Record<string, number>>();

export function addNote(file: object, key: string, value: number): void {
  const record = notes.get(file) ?? {};
  record[key] = (record[key] ?? 0) + value;
  notes.set(file, record);
}

export function notesOf(file: object): Readonly<Record<string, number>> | undefined {
  return notes.get(file);
}
