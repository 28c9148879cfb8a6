import { renameSync, unlinkSync } from 'node:fs';
import { sep } from 'node:path';
import { here, pidExists } from '../place.js';

/**
 * Atomic outputs: every output is written to a temp file beside its target
 * (same directory, so the final rename never crosses file systems) and renamed
 * into place only once complete. This module names the temps and keeps track of
 * the ones that exist, so an interrupted run can remove them.
 */

/** Every temp file carries this marker, so a later run (or a person) can recognise and remove it. */
export const TEMP_MARKER = '.globpipe-tmp';

/**
 * Where this process runs: a hash of the host name, the boot and the pid namespace. A pid
 * means something only there: another host sharing the directory (NFS), another container
 * (its own pid namespace) or a run from before a reboot may use the same numbers. The hash
 * tells places apart, it guards no secret: 32 bits of FNV-1a, mixed (node:crypto would
 * cost every run ~10 ms of OpenSSL's start).
 */
function placeTag(): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${here.host}\0${here.boot ?? ''}\0${here.ns ?? ''}`, 'utf8')) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  // murmur3's finaliser, so that near names give far tags
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0).toString(16).padStart(PLACE_LENGTH, '0');
}

const PLACE_LENGTH = 8;
const place = placeTag();
// The pid and the place let a later run tell a dead run's leftovers from a live run's work.
const runId = `${process.pid}-${place}${Math.floor(Math.random() * 0xffffff)
  .toString(16)
  .padStart(6, '0')}`;
let counter = 0;

/** `dir/.index.html.4242-0a1b2c3d4e5f60-7.globpipe-tmp`: a temp path in the target's own directory. */
export function tempPathFor(dest: string): string {
  const slash = dest.lastIndexOf(sep);
  // Keep the name under NAME_MAX (255) whatever the target's length.
  const base = dest.slice(slash + 1, slash + 181);
  counter += 1;
  return `${dest.slice(0, slash + 1)}.${base}.${runId}-${counter}${TEMP_MARKER}`;
}

const tempPattern = /\.(\d+)-([0-9a-f]+)-\d+\.globpipe-tmp$/;

/**
 * A temp file left by a run that is certainly dead (killed with -9, or a crash): made in
 * this very place (host, boot, pid namespace) by a pid that no longer runs. Anything else,
 * another machine's or container's, or a name from before places were recorded, may belong
 * to a live run and is left alone.
 */
export function isStaleTempName(name: string): boolean {
  const match = name.startsWith('.') ? tempPattern.exec(name) : null;
  if (match === null) return false;
  const pid = Number(match[1]);
  if (
    (match[2] as string).slice(0, PLACE_LENGTH) !== place ||
    (match[2] as string).length !== PLACE_LENGTH + 6
  )
    return false;
  return pid !== process.pid && !pidExists(pid);
}

/** This process's place tag, for tests: temps named with another are never swept. */
export function placeOf(): string {
  return place;
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
