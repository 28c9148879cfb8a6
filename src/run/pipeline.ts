import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import fg from 'fast-glob';
import { DiscoverError, type DiscoverHooks, discover, type Entry } from '../discover.js';
import { discoverPaths } from '../discover-paths.js';
import { describeCause, GlobpipeError } from '../errors.js';
import { nodePort } from '../io/fs.js';
import { inlineCarrier } from '../io/inline-carrier.js';
import type { IoPort } from '../io/port.js';
import { probeSite, type Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { isInside, toPosix } from '../paths.js';
import { checkOverwritesByIdentity, checkPlan } from '../plan/checks.js';
import { canPlanPerFile, checkPatterns, type PlannedFile, planOutputs } from '../plan/outputs.js';
import { SummaryBuilder } from '../report/summary.js';
import type { Summary } from '../types.js';
import { Incremental } from './incremental.js';
import { result } from './job.js';
import { FileQueue } from './queue.js';
import { sharded } from './shard-filter.js';
import { chooseStrategy } from './strategy.js';

/** Runs the pipeline: checks, glob, a bounded queue of executors, summary. */
export async function runPipeline(settings: Settings): Promise<Summary> {
  const started = performance.now();
  const site = await probeSite(settings);
  checkPatterns(settings);
  const strategy = chooseStrategy(settings);
  // One file in flight: its IO runs right here, with no worker round trip per file (io/fs.ts).
  const port = settings.port ?? nodePort(strategy.concurrency === 1 ? inlineCarrier() : undefined);
  // Workers boot while the glob starts: one for files one at a time, every one for batches.
  const warm = () => port.warm(strategy.executor === 'batch' ? strategy.concurrency : 1);
  const incremental = settings.incremental === undefined ? undefined : Incremental.open(settings, site);
  // An incremental rerun may find nothing to do: its workers boot with the first file that changed.
  if (incremental === undefined) warm();
  else incremental.onChange = warm;
  const stats = new SummaryBuilder();
  if (settings.shard !== undefined) settings.onEvent({ type: 'shard', ...settings.shard });
  const queue = new FileQueue(settings, site, port, strategy, stats, incremental);
  let globbed = false;
  try {
    try {
      await queue.feed(matches(settings, site, port, stats, incremental));
      globbed = !queue.stopping;
    } catch (error) {
      queue.clear();
      await queue.drain();
      if (!(error instanceof DiscoverError)) {
        await queue.close();
        throw error;
      }
      stats.addFailure({
        path: error.path,
        code: 'EGLOB',
        message: `cannot read: ${describeCause(error.cause)}`,
      });
    }
    await queue.drain();
    await queue.close();
    await incremental?.finish(port, globbed && !queue.stopping && stats.failedDirectories === 0);
  } finally {
    incremental?.close();
    // A port of the run's own (the caller's port is the caller's to close).
    if (settings.port === undefined) port.release?.();
  }
  const { shard } = settings;
  const built = stats.build({
    cwd: settings.cwd,
    out: settings.out,
    elapsedMs: performance.now() - started,
    concurrency: strategy.concurrency,
    dryRun: settings.dryRun,
    interrupted: queue.interrupted,
  });
  const summary =
    shard === undefined
      ? built
      : { ...built, shard: { index: shard.index, count: shard.count, strategy: shard.strategy } };
  return incremental === undefined ? summary : { ...summary, incremental: incremental.report() };
}

/**
 * Every match, in glob order, in chunks. When outputs can't be planned file by
 * file (plan/outputs.ts), the whole glob is collected and checked first, so a
 * bad plan writes nothing.
 */
async function* matches(
  settings: Settings,
  site: Site,
  port: IoPort,
  stats: SummaryBuilder,
  incremental?: Incremental,
): AsyncGenerator<Entry[]> {
  const hooks: DiscoverHooks = {
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
    onUnreadable(path, error) {
      stats.addFailure({ path, code: 'EGLOB', message: `cannot read: ${describeCause(error)}` });
    },
    onSkip(entry, reason) {
      const skipped = result(entry, { outputs: [], status: 'skipped', bytesIn: 0, bytesOut: 0, reason }, 0);
      stats.add(skipped);
      settings.onEvent({ type: 'file', result: skipped });
    },
  };
  const selected = withRealOutIgnored(settings, site);
  // A watch's batch: its changed paths, looked up one by one, instead of the whole tree walked.
  const walk = (given: DiscoverHooks) =>
    settings.only === undefined ? discover(selected, given) : discoverPaths(selected, settings.only, given);
  // Another shard's files are left out before anything counts them (shard-filter.ts).
  const globbed = settings.shard === undefined ? walk(hooks) : sharded(settings.shard, hooks, walk);
  const found = incremental === undefined ? globbed : unchangedLeftOut(globbed, incremental, stats, settings);
  if (canPlanPerFile(settings, site)) {
    yield* found;
    return;
  }
  const collected: Entry[] = [];
  for await (const chunk of found) for (const entry of chunk) collected.push(entry);
  const plans: PlannedFile[] = [];
  for (const entry of collected) {
    if (entry.kind !== 'file') continue;
    try {
      plans.push({ entry, targets: planOutputs(entry, settings) });
    } catch (error) {
      // A rename that fails is that file's failure, reported when it runs; a path outside `out` is a usage error.
      if (error instanceof GlobpipeError && error.code === 'EOUTSIDE') throw error;
    }
  }
  checkPlan(plans, settings, site);
  await checkOverwritesByIdentity(plans, settings, site, port);
  yield collected;
}

/** An incremental run's matches less those unchanged since the last run, each reported skipped here. */
async function* unchangedLeftOut(
  chunks: AsyncGenerator<Entry[]>,
  incremental: Incremental,
  stats: SummaryBuilder,
  settings: Settings,
): AsyncGenerator<Entry[]> {
  for await (const chunk of chunks) {
    const changed: Entry[] = [];
    for (const entry of chunk) {
      const unchanged = incremental.decide(entry);
      if (unchanged === undefined) {
        changed.push(entry);
        continue;
      }
      const skipped = result(entry, unchanged, 0);
      stats.add(skipped);
      settings.onEvent({ type: 'file', result: skipped });
    }
    if (changed.length > 0) yield changed;
  }
}

/**
 * `--out` is never globbed (normalize.ts ignores it by the path given); reached through a
 * symlink inside `--cwd`, it is ignored by its real path too, or a rerun would nest outputs.
 */
function withRealOutIgnored(settings: Settings, site: Site): Settings {
  const { realCwd, realOut } = site;
  if (settings.inPlace || realOut === realCwd || !isInside(realOut, realCwd)) return settings;
  const real = `${fg.escapePath(toPosix(relative(realCwd, realOut)))}/**`;
  return settings.ignore.includes(real) ? settings : { ...settings, ignore: [...settings.ignore, real] };
}
