import { renameSync, unlinkSync } from 'node:fs';
import { sep } from 'node:path';

/**
 * Atomic outputs: every output is written to a temp file beside its target
 * (same directory, so the final rename never crosses file systems) and renamed
 * into place only once complete. This module names the temps and keeps track of
 * the ones that exist, so an interrupted run can remove them.
 */

/** Every temp file carries this marker, so a later run (or a person) can recognise and remove it. */
export const TEMP_MARKER = '.globpipe-tmp';

// The pid lets a later run tell a dead run's leftovers from a live run's work in progress.
const runId = `${process.pid}-${Math.floor(Math.random() * 0xffffff)
  .toString(16)
  .padStart(6, '0')}`;
let counter = 0;

/** `dir/.index.html.4242-a1b2c3-7.globpipe-tmp`: a temp path in the target's own directory. */
export function tempPathFor(dest: string): string {
  const slash = dest.lastIndexOf(sep);
  // Keep the name under NAME_MAX (255) whatever the target's length.
  const base = dest.slice(slash + 1, slash + 181);
  counter += 1;
  return `${dest.slice(0, slash + 1)}.${base}.${runId}-${counter}${TEMP_MARKER}`;
}

const tempPattern = /\.(\d+)-[0-9a-f]+-\d+\.globpipe-tmp$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A temp file left by a process that no longer runs (killed with -9, or a crash): safe to remove. */
export function isStaleTempName(name: string): boolean {
  const match = name.startsWith('.') ? tempPattern.exec(name) : null;
  if (match === null) return false;
  const pid = Number(match[1]);
  return pid !== process.pid && !isAlive(pid);
}

/** The temp files that exist right now, so an interrupted run can remove them, even synchronously. */
export class TempRegistry {
  /** Temp path -> where it goes once complete and committed (undefined while still being written). */
  readonly #paths = new Map<string, string | undefined>();

  add(path: string): void {
    this.#paths.set(path, undefined);
  }

  /** The temp file is complete (and journaled, in place): a hard exit renames it instead of removing it. */
  complete(path: string, dest: string): void {
    if (this.#paths.has(path)) this.#paths.set(path, dest);
  }

  delete(path: string): void {
    this.#paths.delete(path);
  }

  get size(): number {
    return this.#paths.size;
  }

  /**
   * For a hard exit (second Ctrl-C), where no await is possible any more:
   * partial temps are removed; complete ones are renamed into place, as the
   * in-place journal already says they are.
   */
  removeAllSync(): void {
    for (const [path, dest] of this.#paths) {
      try {
        if (dest === undefined) unlinkSync(path);
        else renameSync(path, dest);
      } catch {
        // Already renamed into place or removed.
      }
    }
    this.#paths.clear();
  }
}

/** The temp files of every run in this process. */
export const liveTemps = new TempRegistry();
