import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Where bench's runs write: a directory of its own, `.<dataset>.globpipe-bench-XXXXXX`, made
 * in `parent` (beside the dataset, or `--scratch`) and removed at the end, with whatever
 * directories were made to hold it (`--scratch /mnt/fast/new/dir` leaves `/mnt/fast` as it
 * was). A hard exit (a second Ctrl-C) cannot await: it removes the live ones synchronously.
 */

export interface Scratch {
  /** The directory runs write in. */
  readonly dir: string;
  /** Where it was made. */
  readonly parent: string;
  /** The first directory `mkdir -p parent` made, if any: removed again (empty ones only) at the end. */
  readonly made: string | undefined;
}

const live = new Set<string>();

/** A new scratch directory in `parent` (made if missing), named after the dataset's root. */
export async function makeScratch(parent: string, root: string): Promise<Scratch> {
  const made = await mkdir(parent, { recursive: true });
  try {
    const dir = await mkdtemp(join(parent, `.${basename(root)}.globpipe-bench-`));
    live.add(dir);
    return { dir, parent, made };
  } catch (error) {
    await removeMade(parent, made);
    throw error;
  }
}

/** rmdir from `parent` up to `made`: only directories bench made, and only while empty. */
async function removeMade(parent: string, made: string | undefined): Promise<void> {
  if (made === undefined) return;
  for (let dir = parent; ; dir = dirname(dir)) {
    if (
      !(await rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (dir === made || dirname(dir) === dir) return;
  }
}

export async function removeScratch(scratch: Scratch): Promise<void> {
  await rm(scratch.dir, { recursive: true, force: true });
  live.delete(scratch.dir);
  await removeMade(scratch.parent, scratch.made);
}

/** For a hard exit: every live scratch directory removed, synchronously. */
export function removeScratchSync(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}
