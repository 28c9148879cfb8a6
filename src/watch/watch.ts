import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { nodePort } from '../io/fs.js';
import { namingOf, OptionError } from '../options/names.js';
import { normalizeOptions } from '../options/normalize.js';
import { toPosix } from '../paths.js';
import { pruned } from '../plan/selection.js';
import { runPipeline } from '../run/pipeline.js';
import { removeEmptiedDirs } from '../run/stale-outputs.js';
import type { RunOptions, Summary } from '../types.js';
import { recordedRun, removeOutputs, sortPaths, type WatchState } from './batch.js';
import { Batcher } from './batcher.js';
import { OwnWrites, watchIgnored } from './own-writes.js';
import type { Deleted, Watcher, WatchOptions } from './types.js';

/** At most this long from a batch's first change to its start, however busy the tree. */
const MAX_WAIT_MS = 1000;
/** A new directory is looked in again this long after it appeared: by then chokidar watches it. */
const RESCAN_MS = 1000;

async function run(options: RunOptions): Promise<Summary> {
  return runPipeline(await normalizeOptions(options));
}

/**
 * What a watch cannot honour, refused before it starts rather than ignored: a run manifest
 * records one run's inputs, and a watch's batches each see a few; balanced and size shards
 * are cut from the whole tree's list, which a batch does not have (hash shards are decided
 * file by file, and watch as they run); and --delete-stale with --delete-original, as run() refuses it.
 */
function refuseForWatch(options: RunOptions, strategy: string | undefined): void {
  if (options.manifest !== undefined) {
    throw new OptionError(
      (n) =>
        `${n.name('manifest')} records one run, and a watch runs once per batch of changes: write it from a run without watching`,
    );
  }
  // The inputs --delete-original removes are, to the watch, inputs gone: their outputs would go too.
  if (options.deleteStale === true && options.deleteOriginal === true) {
    throw new OptionError(
      (n) =>
        `${n.name('deleteOriginal')} removes each input once it is written, and ${n.name('deleteStale')} would then remove its outputs as the watch sees the input go: give one of them`,
    );
  }
  if (strategy !== undefined && strategy !== 'hash') {
    throw new OptionError(
      (n) =>
        `${n.name('shardStrategy')} ${strategy} splits the whole tree's list, which a watch's batches do not have: watch a shard with the hash strategy`,
    );
  }
}

/**
 * Runs once over the tree, then again over what changes, as it changes, until closed: each
 * batch runs only the changed files (`only`: looked up, not walked), with every other option
 * as given, and removes the outputs of inputs that went (`deleteStale`). Its own outputs and
 * temp files never start a batch, even inside the watched tree.
 *
 * chokidar watches: it folds an editor's save by rename (vim's backup, VS Code's and `sed -i`'s
 * temp file renamed over the original) into one change (`atomic`), waits for a file being
 * written to stop growing (`awaitWriteFinish`), and crawls a new directory. It reads a new
 * directory before it watches it, so the watch looks in each new directory too, twice.
 */
export function watch(options: WatchOptions): Watcher {
  const { debounceMs = 100, onBatch, onError, ...runOptions } = options;
  const controller = new AbortController();
  const signal = runOptions.signal;
  // The watch removes the outputs of inputs deleted while it watches, from what its runs wrote.
  // Only its first run, with an incremental manifest (run() requires one), removes those of
  // inputs deleted before it started.
  const removeGone = runOptions.deleteStale === true;
  const incremental = runOptions.incremental !== undefined && runOptions.incremental !== false;
  const runWith: RunOptions = {
    ...runOptions,
    deleteStale: undefined,
    signal: controller.signal,
  };
  let fsWatcher: FSWatcher | undefined;
  let batcher: Batcher | undefined;
  let closing: Promise<void> | undefined;
  const rescans = new Set<ReturnType<typeof setTimeout>>();

  const close = (): Promise<void> => {
    closing ??= (async () => {
      controller.abort(signal?.reason ?? new Error('watch closed'));
      for (const timer of rescans) clearTimeout(timer);
      await batcher?.close();
      await fsWatcher?.close();
    })();
    return closing;
  };
  signal?.addEventListener('abort', () => void close(), { once: true });

  const ready = (async (): Promise<Summary> => {
    if (!Number.isInteger(debounceMs) || debounceMs < 0) {
      throw new OptionError(
        (n) => `Expected ${n.name('debounceMs')} to be an integer >= 0, got ${n.value(debounceMs)}`,
      );
    }
    // Checked once, before anything is watched: a usage error ends the watch before it starts.
    const settings = await normalizeOptions({ ...runWith, only: [] });
    try {
      refuseForWatch(runOptions, settings.shard?.strategy);
    } catch (error) {
      throw error instanceof OptionError ? error.in(namingOf(runOptions)) : error;
    }
    const ignored = watchIgnored(settings.cwd, settings.out, pruned(settings), settings.followSymlinks);
    const state: WatchState = {
      cwd: settings.cwd,
      out: settings.out,
      own: new OwnWrites(),
      outputsOf: new Map(),
      ran: new Map(),
      failed: new Set(),
      ignored,
      followSymlinks: settings.followSymlinks,
    };
    const port = runOptions.port ?? nodePort();
    let index = 0;
    const batches = new Batcher({
      quietMs: debounceMs,
      maxWaitMs: MAX_WAIT_MS,
      run: async (paths) => {
        const started = performance.now();
        try {
          const { present, gone, identities } = await sortPaths(paths, state);
          if (present.length === 0 && gone.length === 0) return;
          // Outputs of inputs gone go first: a new input may write the same path (a.js replaced
          // by a.ts, both to a.out; f.txt replaced by a directory f.txt/), and its output stays.
          const deleted: Deleted[] = [];
          const remove = removeGone && !settings.dryRun;
          for (const input of gone)
            deleted.push(await removeOutputs(input, state, port, remove && !controller.signal.aborted));
          await removeEmptiedDirs(
            deleted.flatMap((d) => d.removed),
            settings.out,
            port,
          );
          const summary = await recordedRun(run, { ...runWith, only: present }, state, identities);
          const changed = summary.matched + deleted.length;
          if (changed === 0) return;
          index += 1;
          onBatch?.({ index, changed, deleted, summary, ms: performance.now() - started });
        } catch (error) {
          onError?.(error as Error);
        } finally {
          if (runOptions.port === undefined) port.release?.();
        }
      },
    });
    batcher = batches;
    if (controller.signal.aborted) throw controller.signal.reason;
    fsWatcher = chokidarWatch(settings.cwd, {
      ignoreInitial: true,
      followSymlinks: settings.followSymlinks,
      atomic: true,
      // An unreadable file is still a change: the run reports it (EACCES), where chokidar would drop it.
      ignorePermissionErrors: true,
      awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 },
      ignored,
    });
    fsWatcher.on('all', (event, path) => {
      const rel = toPosix(relative(settings.cwd, path));
      if (rel === '') return;
      batches.add(rel);
      if (event !== 'addDir') return;
      // chokidar reads a new directory, then watches it: a file written in between is never
      // reported. The batch looks in it (see crawl.ts), and looks again once it is surely
      // watched; files a batch already ran, unchanged since, start nothing.
      const timer = setTimeout(() => {
        rescans.delete(timer);
        batches.add(rel);
      }, RESCAN_MS);
      timer.unref();
      rescans.add(timer);
    });
    // A file that failed to be read, made readable (chmod) is no change to chokidar: it drops
    // events that move no mtime, and never watched a file it could not open. The raw event at
    // its path (its own watch's, or its directory's) is one: the batch retries it if it changed.
    fsWatcher.on('raw', (_event, name, details) => {
      if (state.failed.size === 0 || typeof name !== 'string') return;
      const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (typeof watched !== 'string') return;
      for (const path of [watched, join(watched, name)]) {
        const rel = toPosix(relative(settings.cwd, path));
        if (state.failed.has(rel)) batches.add(rel);
      }
    });
    fsWatcher.on('error', (error) => onError?.(error as Error));
    const watcher = fsWatcher;
    await new Promise<void>((done) => watcher.once('ready', done));
    const started = performance.now();
    // A pattern that matches nothing yet is no error here: the watch waits for its files.
    const summary = await recordedRun(
      run,
      {
        ...runWith,
        deleteStale: incremental ? runOptions.deleteStale : undefined,
        errorOnUnmatchedPattern: runOptions.errorOnUnmatchedPattern ?? false,
      },
      state,
    );
    onBatch?.({ index: 0, changed: summary.matched, deleted: [], summary, ms: performance.now() - started });
    batches.resume();
    return summary;
  })();
  ready.catch(() => close());
  return { ready, close };
}
