import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IoPort } from '../io/port.js';
import { fsPath } from '../paths.js';
import type { FileResult, GlobpipeEvent, RunOptions, Summary } from '../types.js';
import { filesUnder } from './crawl.js';
import { type Identity, identityOf, type OwnWrites } from './own-writes.js';
import type { Deleted } from './types.js';

/** What a watch keeps between batches. */
export interface WatchState {
  readonly cwd: string;
  readonly out: string;
  readonly own: OwnWrites;
  /** Each input's outputs, relative to `out`, from the `file` events of the runs that wrote them. */
  readonly outputsOf: Map<string, readonly string[]>;
  /**
   * Each input as it was when a batch last ran it, relative to `cwd`: a later event for it
   * that finds it unchanged (chokidar reporting a file the batch already found in a new
   * directory) starts nothing.
   */
  readonly ran: Map<string, Identity>;
  /** Inputs whose last run failed, relative to `cwd`: retried at any event at their path (watch.ts). */
  readonly failed: Set<string>;
  /** What the watch does not look at (own-writes.ts watchIgnored), by absolute path. */
  readonly ignored: (absolutePath: string) => boolean;
  readonly followSymlinks: boolean;
}

/** Timestamps finer than this tick (every Linux file system but FAT's) are trusted once this old. */
const TICK_MS = 50;

/**
 * How long before it is trusted, from `now`, a file's identity is: one changed within a
 * timestamp tick may change again in that tick, to the same size, and look unchanged.
 * Timestamps in whole seconds (FAT, some network file systems) are never trusted this way.
 */
function untrustedFor(stats: Stats, now: number): number {
  if (stats.mtimeMs % 1000 === 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, TICK_MS - (now - Math.max(stats.mtimeMs, stats.ctimeMs)));
}

/** `./a.txt` (a pattern's leading `./` is kept by the glob) is `a.txt` for the watch. */
function bare(path: string): string {
  return path.startsWith('./') ? path.slice(2) : path;
}

/**
 * A run whose `file` events are also recorded: after it, every output it wrote is remembered
 * as ours (OwnWrites) and as its input's (for removal once the input goes). A failed or
 * skipped file keeps what an earlier run recorded: its old outputs are still there.
 */
export async function recordedRun(
  run: (options: RunOptions) => Promise<Summary>,
  options: RunOptions,
  state: WatchState,
  identities: ReadonlyMap<string, Identity> = new Map(),
): Promise<Summary> {
  const written: FileResult[] = [];
  const onEvent = options.onEvent;
  const summary = await run({
    ...options,
    onEvent: (event: GlobpipeEvent) => {
      if (event.type === 'file') {
        const rel = bare(event.result.input);
        const identity = identities.get(rel);
        if (identity !== undefined) state.ran.set(rel, identity);
        if (event.result.status === 'failed') state.failed.add(rel);
        else state.failed.delete(rel);
      }
      // Written, or (incremental) skipped as unchanged with its outputs in place: both are ours.
      if (
        event.type === 'file' &&
        (event.result.status === 'written' ||
          (event.result.status === 'skipped' && event.result.outputs.length > 0))
      )
        written.push(event.result);
      onEvent?.(event);
    },
  });
  for (const result of written) {
    // An input the run removed (--delete-original) is not one gone by someone's hand: its
    // removal, when the event comes back, is nothing to do, and its outputs are no one's to remove.
    if (result.original?.deleted === true) {
      state.outputsOf.delete(bare(result.input));
      state.ran.delete(bare(result.input));
    } else state.outputsOf.set(bare(result.input), result.outputs);
    for (const output of result.outputs) {
      const path = join(state.out, output);
      try {
        state.own.remember(path, await lstat(fsPath(path)));
      } catch {
        state.own.forget(path);
      }
    }
  }
  return summary;
}

/**
 * Splits a batch's paths (relative to `cwd`) into files to run and inputs gone. A path that
 * holds what globpipe itself wrote there is neither (the event was our own write), nor is an
 * input unchanged since a batch ran it. A directory stands for the files beneath it (one that
 * appeared: see crawl.ts). A path that is gone counts for every input recorded at it or below
 * it (a directory removed); one globpipe never wrote for is nothing to do (an editor's temp,
 * a file the patterns leave out). `identities` holds each present file as it was found, for
 * recordedRun.
 */
export async function sortPaths(
  paths: readonly string[],
  state: WatchState,
): Promise<{ present: string[]; gone: string[]; identities: Map<string, Identity> }> {
  const present = new Set<string>();
  const identities = new Map<string, Identity>();
  const gone = new Set<string>();
  const dirs: string[] = [];
  const found = new Map<string, { path: string; stats: Stats }>();
  const consider = (rel: string, path: string, stats: Stats): void => {
    if (state.own.isOurs(path, stats) || state.ran.get(rel) === identityOf(stats)) return;
    present.add(rel);
    found.set(rel, { path, stats });
  };
  for (const rel of paths) {
    const path = join(state.cwd, rel);
    try {
      const stats = await lstat(fsPath(path));
      if (!stats.isDirectory()) {
        // A symlink the run does not follow, where an input was: that input is gone (the run
        // reports the link skipped).
        if (stats.isSymbolicLink() && !state.followSymlinks && state.outputsOf.has(rel)) gone.add(rel);
        consider(rel, path, stats);
        continue;
      }
      // A directory where an input was (f.txt replaced by f.txt/x): that input is gone.
      if (state.outputsOf.has(rel)) gone.add(rel);
      dirs.push(rel);
      continue;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Unreadable, not gone: the run names the cause.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        present.add(rel);
        continue;
      }
    }
    state.own.forget(path);
    for (const input of [...state.ran.keys()]) {
      if (input === rel || input.startsWith(`${rel}/`)) state.ran.delete(input);
    }
    for (const input of state.outputsOf.keys()) {
      if (input === rel || input.startsWith(`${rel}/`)) gone.add(input);
    }
  }
  // Each directory once: n/x/y is in the walk of n.
  const walked = new Set<string>();
  for (const dir of dirs.sort()) {
    const parts = dir.split('/');
    if (parts.some((_, n) => n > 0 && walked.has(parts.slice(0, n).join('/')))) continue;
    walked.add(dir);
    for (const file of await filesUnder(state.cwd, dir, state.ignored, state.followSymlinks)) {
      const path = join(state.cwd, file);
      const stats = await lstat(fsPath(path)).catch(() => undefined);
      if (stats !== undefined) consider(file, path, stats);
    }
  }
  // A file changed within the last tick is looked at again once the tick is over (a batch
  // waits at most TICK_MS more): the identity recorded is then one the file cannot take again.
  const wait = Math.max(0, ...[...found.values()].map(({ stats }) => untrustedFor(stats, Date.now())));
  // Timers round down and may fire a fraction of a millisecond early: one more ms.
  if (wait > 0 && wait <= TICK_MS) await sleep(Math.ceil(wait) + 1);
  for (const [rel, { path, stats }] of found) {
    const latest =
      untrustedFor(stats, Date.now()) === 0 ? stats : await lstat(fsPath(path)).catch(() => undefined);
    if (latest !== undefined && untrustedFor(latest, Date.now()) === 0)
      identities.set(rel, identityOf(latest));
  }
  return { present: [...present], gone: [...gone], identities };
}

/**
 * Removes the outputs globpipe wrote for an input that is gone: exactly the ones recorded,
 * inside `out` (the port reaches each beneath it, following no symlink), and only while each
 * is still the file globpipe wrote, never one someone has put there since.
 */
export async function removeOutputs(
  input: string,
  state: WatchState,
  port: IoPort,
  remove: boolean,
): Promise<Deleted> {
  const outputs = state.outputsOf.get(input) ?? [];
  state.outputsOf.delete(input);
  const removed: string[] = [];
  const kept: string[] = [];
  for (const output of outputs) {
    const path = join(state.out, output);
    let stats: import('node:fs').Stats;
    try {
      stats = await lstat(fsPath(path));
    } catch {
      state.own.forget(path);
      continue; // gone already (in place, the output was the input)
    }
    if (!remove || !state.own.isOurs(path, stats)) {
      kept.push(output);
      continue;
    }
    try {
      await port.unlink(path, state.out);
      removed.push(output);
    } catch {
      kept.push(output);
    }
  }
  return { input, removed, kept };
}
