import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IoPort } from '../io/port.js';
import { fsPath } from '../paths.js';
import type { FileResult, GlobpipeEvent, RunOptions, Summary } from '../types.js';
import type { OwnWrites } from './own-writes.js';
import type { Deleted } from './types.js';

/** What a watch keeps between batches. */
export interface WatchState {
  readonly cwd: string;
  readonly out: string;
  readonly own: OwnWrites;
  /** Each input's outputs, relative to `out`, from the `file` events of the runs that wrote them. */
  readonly outputsOf: Map<string, readonly string[]>;
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
): Promise<Summary> {
  const written: FileResult[] = [];
  const onEvent = options.onEvent;
  const summary = await run({
    ...options,
    onEvent: (event: GlobpipeEvent) => {
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
    state.outputsOf.set(bare(result.input), result.outputs);
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
 * holds what globpipe itself wrote there is neither (the event was our own write). A path that
 * is gone counts for every input recorded at it or below it (a directory removed); one
 * globpipe never wrote for is nothing to do (an editor's temp, a file the patterns leave out).
 */
export async function sortPaths(
  paths: readonly string[],
  state: WatchState,
): Promise<{ present: string[]; gone: string[] }> {
  const present: string[] = [];
  const gone = new Set<string>();
  for (const rel of paths) {
    const path = join(state.cwd, rel);
    try {
      const stats = await lstat(fsPath(path));
      if (!stats.isDirectory()) {
        if (!state.own.isOurs(path, stats)) present.push(rel);
        continue;
      }
      // A directory where an input was (f.txt replaced by f.txt/x): that input is gone.
      if (state.outputsOf.has(rel)) gone.add(rel);
      continue;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Unreadable, not gone: the run names the cause.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        present.push(rel);
        continue;
      }
    }
    state.own.forget(path);
    for (const input of state.outputsOf.keys()) {
      if (input === rel || input.startsWith(`${rel}/`)) gone.add(input);
    }
  }
  return { present, gone: [...gone] };
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
