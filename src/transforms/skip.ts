/**
 * Thrown by a transform that declines a file (a text transform given binary
 * content): the file is reported as skipped, with this message as the reason,
 * and nothing is written for it.
 */
export class SkipFile extends Error {
  override readonly name = 'SkipFile';
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
