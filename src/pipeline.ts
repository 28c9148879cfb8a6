import { sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import PQueue from 'p-queue';
import { Batcher, batchShape, processBatch } from './batches.js';
import { DiscoverError, discover, type Entry } from './discover.js';
import { describeCause, GlobpipeError } from './errors.js';
import { type JobContext, processFile } from './file-job.js';
import { DirMaker } from './io/dir-maker.js';
import { ioFileOps, poolFileOps } from './io/file-ops.js';
import { nodeIo } from './io/io.js';
import { liveTemps } from './io/temp-files.js';
import { syncIoPool } from './io/worker-pool.js';
import { Journal } from './journal.js';
import { canPlanPerFile, checkOverwritesByIdentity, checkPatterns, checkPlan, planOutputs } from './plan.js';
import { SummaryBuilder } from './report/summary.js';
import type { Settings } from './settings.js';
import type { FileResult, Summary } from './types.js';

/**
 * Every match, in glob order. When outputs can't be planned file by file, the
 * whole glob is collected and checked first, so a bad plan writes nothing.
 */
async function* entries(settings: Settings, stats: SummaryBuilder): AsyncGenerator<Entry[]> {
  const found = discover(settings, {
    onMatch(entry) {
      stats.matched += 1;
      settings.onEvent({ type: 'match', path: entry.path, matched: stats.matched });
    },
    onEnd() {
      settings.onEvent({ type: 'glob-end', matched: stats.matched });
    },
    onLoop(path, target) {
      stats.addFailure({
        path,
        code: 'ESYMLINK',
        message: `symbolic link loop: leads back to \`${target}\`, not descended`,
      });
    },
  });
  if (canPlanPerFile(settings)) {
    yield* found;
    return;
  }
  const collected: Entry[] = [];
  for await (const chunk of found) for (const entry of chunk) collected.push(entry);
  const plans = [];
  for (const entry of collected) {
    if (entry.kind !== 'file') continue;
    try {
      plans.push({ entry, targets: planOutputs(entry, settings) });
    } catch (error) {
      // A rename that fails is that file's failure, reported when it runs; a path outside `out` is a usage error.
      if (error instanceof GlobpipeError && error.code === 'EOUTSIDE') throw error;
    }
  }
  checkPlan(plans, settings);
  await checkOverwritesByIdentity(plans, settings);
  yield collected;
}

/**
 * An output directory that is really a directory of the inputs (`out/sub` a
 * symlink to `cwd/sub`) would let outputs replace inputs: refused, per file,
 * before anything is written there.
 */
function refuseInputDirectory(settings: Settings, dir: string, real: string): void {
  if (settings.inPlace || isWithin(real, settings.realOut) || !isWithin(real, settings.realCwd)) return;
  throw new GlobpipeError(
    'EOVERWRITE',
    `output directory \`${dir}\` is really \`${real}\`, inside the inputs under \`${settings.cwd}\`: writing there could replace inputs; use --in-place to replace inputs`,
  );
}

function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Runs the pipeline: glob → plan → bounded queue of file jobs → summary. */
export async function runPipeline(settings: Settings): Promise<Summary> {
  const started = performance.now();
  checkPatterns(settings);
  const controller = new AbortController();
  const onAbort = () => controller.abort(settings.signal?.reason);
  if (settings.signal?.aborted) onAbort();
  settings.signal?.addEventListener('abort', onAbort, { once: true });

  const stats = new SummaryBuilder();
  // Batched synchronous calls in worker threads, unless a test passed its own io to fault.
  const pool = settings.io === nodeIo ? syncIoPool() : undefined;
  // Small files go in batches (batches.ts) when they can: the queue's tasks are then batches.
  const batches = pool !== undefined && settings.batched ? batchShape(settings.concurrency) : undefined;
  const slots = batches?.slots ?? settings.concurrency;
  // Booted while the glob starts; one worker for a run of large files, every worker for batches.
  pool?.warm(batches === undefined ? 1 : pool.size);
  const queue = new PQueue({ concurrency: slots });
  let ctx: JobContext = {
    settings,
    dirs: new DirMaker(settings.io, (dir, real) => refuseInputDirectory(settings, dir, real)),
    temps: liveTemps,
    signal: controller.signal,
    ops: pool !== undefined ? poolFileOps(pool) : ioFileOps(settings.io),
  };
  let journal: Journal | undefined;
  let stopped = false; // error policy reached: start nothing new
  const shouldStop = () => stopped || controller.signal.aborted;

  const settle = (result: FileResult) => {
    if (result.status === 'failed' && result.error?.code === 'EABORT' && controller.signal.aborted) {
      // Cut short by the interrupt: not the file's fault, and not written.
      return;
    }
    stats.add(result);
    settings.onEvent({ type: 'file', result });
    if (stats.failed >= settings.maxErrors && !stopped) {
      stopped = true;
      queue.clear();
    }
  };
  const enqueue = (job: () => Promise<void>) => {
    settings.probe?.onEnqueue(queue.size + 1, queue.pending);
    void queue.add(async () => {
      if (!shouldStop()) await job();
    });
  };
  const batcher =
    batches === undefined || pool === undefined
      ? undefined
      : new Batcher(batches.size, (entries) => {
          if (shouldStop()) return;
          enqueue(() => processBatch(entries, ctx, pool, { report: settle, stopping: shouldStop }));
        });

  try {
    glob: for await (const chunk of entries(settings, stats)) {
      for (const entry of chunk) {
        // Backpressure: never more than `concurrency` jobs (or batches) waiting behind those in flight.
        if (queue.size >= slots) await queue.onSizeLessThan(slots);
        if (shouldStop()) break glob;
        if (batcher !== undefined) {
          batcher.add(entry);
          continue;
        }
        if (settings.inPlace && journal === undefined) {
          // Opened once the plan is checked, just before the first file: a bad plan leaves no journal behind.
          journal = await Journal.open({
            cwd: settings.cwd,
            transforms: settings.stages.map((stage) => stage.map((t) => t.name).join(',')).join(' | '),
            resume: settings.resume,
            dryRun: settings.dryRun,
            fsync: settings.fsync,
          });
          ctx = { ...ctx, journal };
        }
        const jobContext = ctx;
        enqueue(async () => settle(await processFile(entry, jobContext)));
      }
    }
    batcher?.flush();
  } catch (error) {
    // The matches already taken start, as they would have one by one; what is queued does not.
    batcher?.flush();
    queue.clear();
    await queue.onIdle();
    if (error instanceof DiscoverError) {
      stats.addFailure({
        path: error.path,
        code: 'EGLOB',
        message: `cannot read: ${describeCause(error.cause)}`,
      });
    } else {
      await journal?.close(false);
      settings.signal?.removeEventListener('abort', onAbort);
      throw error;
    }
  } finally {
    if (controller.signal.aborted) queue.clear();
  }
  const clearOnAbort = () => queue.clear();
  controller.signal.addEventListener('abort', clearOnAbort, { once: true });
  await queue.onIdle();
  controller.signal.removeEventListener('abort', clearOnAbort);
  settings.signal?.removeEventListener('abort', onAbort);
  // Kept unless every file is done: a rerun must resume, or it would transform the finished files again.
  await journal?.close(!controller.signal.aborted && !stopped && stats.failed === 0);

  return stats.build({
    cwd: settings.cwd,
    out: settings.out,
    elapsedMs: performance.now() - started,
    concurrency: settings.concurrency,
    dryRun: settings.dryRun,
    interrupted: controller.signal.aborted,
  });
}
