import { GlobpipeError } from '../errors.js';
import { liveTemps } from '../io/atomic.js';
import { formatBriefSummary } from '../report/brief.js';
import {
  countOf,
  escapeName,
  formatCount,
  formatFailure,
  formatSeconds,
  formatSummary,
  MORE_FAILURES,
  STREAMED_FAILURES,
} from '../report/format.js';
import { killAllChildrenSync } from '../transforms/exec.js';
import type { GlobpipeEvent } from '../types.js';
import type { WatchBatch } from '../watch/types.js';
import { watch } from '../watch/watch.js';
import type { CliOptions } from './args.js';
import { EXIT_FAILURES, EXIT_USAGE, exitCodeOf, STOP_SIGNALS } from './exit.js';
import { canDraw } from './terminal.js';

/**
 * `globpipe: 3 changed: 2 written, 1 removed | 0.04 s`: one line per batch of changes. An input
 * that went is `removed` (its outputs with it), `gone` (it had none left), or `gone (outputs
 * kept…)`: without `deleteStale`, or because an output changed since globpipe wrote it.
 */
export function formatBatch(batch: WatchBatch, deleteStale = false): string {
  const { summary } = batch;
  const removed = batch.deleted.filter((d) => d.removed.length > 0).length;
  const kept = batch.deleted.filter((d) => d.removed.length === 0 && d.kept.length > 0).length;
  const gone = batch.deleted.length - removed - kept;
  const why = deleteStale
    ? 'outputs kept: changed since globpipe wrote them'
    : 'outputs kept; --delete-stale removes them';
  const parts = [
    summary.written > 0 ? `${formatCount(summary.written)} written` : '',
    summary.planned > 0 ? `${formatCount(summary.planned)} planned` : '',
    summary.discarded > 0 ? `${formatCount(summary.discarded)} read and discarded` : '',
    summary.skipped > 0 ? `${formatCount(summary.skipped)} skipped` : '',
    summary.failed > 0 ? `${formatCount(summary.failed)} failed` : '',
    summary.notProcessed > 0 ? `${formatCount(summary.notProcessed)} not processed` : '',
    removed > 0 ? `${formatCount(removed)} removed` : '',
    gone > 0 ? `${countOf(gone, 'input', 'inputs')} gone` : '',
    kept > 0 ? `${countOf(kept, 'input', 'inputs')} gone (${why})` : '',
  ].filter(Boolean);
  const state = summary.interrupted ? 'interrupted: ' : '';
  return `globpipe: ${state}${formatCount(batch.changed)} changed: ${parts.join(', ') || 'nothing to do'} | ${formatSeconds(batch.ms / 1000)}`;
}

/**
 * `globpipe --watch`: the first run as a plain run reports it, then one line per batch of
 * changes (with --json, each file's event, each removal and a summary per batch), failures as
 * they happen, until a signal: the batch in flight is aborted as a run is (temps removed), the
 * watcher closed, exit 128 + n. A second signal quits at once, still with no partial output.
 */
export async function watchMain(
  options: CliOptions,
  print: (line: string) => void,
  warn: (line: string) => void,
): Promise<number> {
  const { json, quiet } = options;
  let failuresShown = 0;
  const onEvent = (event: GlobpipeEvent) => {
    if (event.type !== 'file') return;
    const { result } = event;
    if (json) print(JSON.stringify({ type: 'file', ...result }));
    if (result.status !== 'failed') return;
    if (failuresShown < STREAMED_FAILURES) {
      failuresShown += 1;
      warn(
        formatFailure({
          path: result.input,
          message: result.error?.message ?? 'failed, with no reason given',
        }),
      );
    } else if (failuresShown === STREAMED_FAILURES) {
      failuresShown += 1;
      warn(MORE_FAILURES);
    }
  };
  const onBatch = (batch: WatchBatch) => {
    const shown = failuresShown > STREAMED_FAILURES ? 0 : failuresShown;
    failuresShown = 0;
    if (json) {
      for (const { input, removed } of batch.deleted) {
        if (removed.length > 0) print(JSON.stringify({ type: 'removed', input, outputs: removed }));
      }
      const { index, changed, deleted } = batch;
      print(JSON.stringify({ type: 'summary', batch: index, changed, deleted, ...batch.summary }));
    }
    if (quiet) return;
    if (batch.index === 0) {
      // The first run ends as a run does: its details on a terminal (or --verbose), one line off it.
      const detailed = options.verbose || canDraw(process.stderr);
      warn(detailed ? formatSummary(batch.summary, shown) : formatBriefSummary(batch.summary, shown));
      if (!batch.summary.interrupted)
        warn(`globpipe: watching ${escapeName(batch.summary.cwd)} for changes (Ctrl-C to stop)`);
    } else warn(formatBatch(batch, options.run.deleteStale === true));
  };
  const watcher = watch({
    ...options.run,
    onEvent,
    onBatch,
    onError: (error) => warn(`globpipe: ${escapeName(error.message)}`),
  });

  let stoppedBy: NodeJS.Signals | undefined;
  let stopped: () => void = () => {};
  const stop = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy === undefined) {
      stoppedBy = signal;
      if (!json)
        warn(`globpipe: ${signal}: stopping, cancelling files in flight (Ctrl-C again to quit at once)`);
      void watcher.close().then(stopped);
      return;
    }
    // Second signal: no more waiting, but still no partial file at a final path.
    liveTemps.removeAllSync();
    killAllChildrenSync();
    warn('globpipe: aborted');
    process.exit(exitCodeOf(signal));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    await watcher.ready;
    await stop;
    return exitCodeOf(stoppedBy ?? 'SIGINT');
  } catch (error) {
    await watcher.close();
    if (stoppedBy !== undefined) return exitCodeOf(stoppedBy);
    if (error instanceof GlobpipeError && error.isUsageError) {
      warn(`globpipe: ${escapeName(error.message)}`);
      return EXIT_USAGE;
    }
    warn(`globpipe: internal error: ${escapeName(String((error as Error)?.stack ?? error))}`);
    return EXIT_FAILURES;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
