import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { run } from '../index.js';
import { liveTemps } from '../io/atomic.js';
import { formatBriefSummary } from '../report/brief.js';
import {
  escapeName,
  formatFailure,
  formatPlanned,
  formatProblems,
  formatSummary,
  MORE_FAILURES,
  STREAMED_FAILURES,
} from '../report/format.js';
import { ProgressBar } from '../report/progress.js';
import { killAllChildrenSync } from '../transforms/exec.js';
import type { FileResult, GlobpipeEvent, Summary } from '../types.js';
import { parseArgs, UsageError } from './args.js';
import { benchCommand } from './bench-main.js';
import { type CliRun, configRuns, namedSummary } from './config-runs.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE, exitCodeOf, internalError, STOP_SIGNALS } from './exit.js';
import { genMain } from './gen-main.js';
import { writeReport } from './report-file.js';
import { canDraw } from './terminal.js';
import { verifyCommand } from './verify-main.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function fileLine(result: FileResult): Record<string, unknown> {
  return { type: 'file', ...result };
}

/** The CLI: parses argv, runs, draws, and sets the exit code. The only layer that knows about the process. */
export async function main(argv: readonly string[]): Promise<void> {
  const { stdout, stderr } = process;
  // A reader that goes away (`globpipe --json | head`, `2>&1 | head`) or a terminal that hung
  // up ends our output, not the work: files keep being written atomically and the exit code
  // still tells the outcome. Diagnostics that cannot be written have nowhere else to go.
  let stdoutOpen = true;
  let stderrOpen = true;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
    stdoutOpen = false;
  });
  stderr.on('error', () => {
    stderrOpen = false;
  });
  const print = (line: string) => {
    if (stdoutOpen) stdout.write(`${line}\n`);
  };
  const warn = (line: string) => {
    if (stderrOpen) stderr.write(`${line}\n`);
  };

  let parsed: Awaited<ReturnType<typeof parseArgs>>;
  try {
    parsed = await parseArgs(argv, packageVersion());
  } catch (error) {
    const help =
      argv[0] === 'gen' || argv[0] === 'bench' || argv[0] === 'verify-shards'
        ? `globpipe ${argv[0]} --help`
        : 'globpipe --help';
    warn(`globpipe: ${escapeName((error as Error).message)}\nRun '${help}' for usage.`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (parsed.kind === 'exit') {
    if (parsed.output !== '') print(parsed.output);
    process.exitCode = parsed.code;
    return;
  }
  if (parsed.kind === 'gen') {
    process.exitCode = await genMain(parsed.options, print, warn);
    return;
  }
  if (parsed.kind === 'bench') {
    process.exitCode = await benchCommand(parsed.options, print, warn);
    return;
  }
  if (parsed.kind === 'verify') {
    process.exitCode = await verifyCommand(parsed.options, print, warn);
    return;
  }

  let runs: CliRun[];
  try {
    runs = await configRuns(parsed.options);
  } catch (error) {
    // A bad config file (or --pipeline) is named with its cause; a missing --out, with the help hint.
    if (error instanceof UsageError || (error instanceof GlobpipeError && error.isUsageError)) {
      const hint = error instanceof UsageError ? "\nRun 'globpipe --help' for usage." : '';
      warn(`globpipe: ${escapeName(error.message)}${hint}`);
      process.exitCode = EXIT_USAGE;
    } else {
      warn(`globpipe: internal error: ${internalError(error)}`);
      process.exitCode = EXIT_FAILURES;
    }
    return;
  }
  if (parsed.options.watch) {
    const [only, ...more] = runs;
    if (only === undefined || more.length > 0) {
      warn(
        `globpipe: --watch watches one pipeline, and the config runs ${runs.length}: pick one with --pipeline <name>`,
      );
      process.exitCode = EXIT_USAGE;
      return;
    }
    // Loaded for a watch only: no other run evaluates chokidar at start-up.
    const { watchMain } = await import('./watch-main.js');
    process.exitCode = await watchMain({ ...parsed.options, run: only.run }, print, warn);
    return;
  }
  const { json, quiet, verbose } = parsed.options;
  const drawable = canDraw(stderr);
  const showProgress = parsed.options.progress ?? (drawable && !quiet);
  let bar: ProgressBar | undefined;

  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  let finished = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (finished) {
      // The run is over, its summary printed and its exit code set; the process only waits
      // for the last handles (workers, children slow to die) to close. A signal now ends the
      // wait with the run's own code, instead of killing the process by the signal.
      killAllChildrenSync();
      process.exit();
    }
    if (stoppedBy === undefined) {
      stoppedBy = signal;
      controller.abort(new Error(`received ${signal}`));
      const line = `globpipe: ${signal}: stopping, cancelling files in flight (Ctrl-C again to quit at once)`;
      if (bar && stderrOpen) bar.log(stderr, line);
      else if (!json) warn(line);
      return;
    }
    // Second signal: no more waiting, but still no partial file at a final path.
    liveTemps.removeAllSync();
    killAllChildrenSync();
    bar?.stop();
    warn('globpipe: aborted');
    process.exit(exitCodeOf(signal));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  // A config's pipelines run one after another, in order; a usage error or a signal stops
  // the rest, failed files do not. The exit code is the worst outcome.
  const summaries: Summary[] = [];
  for (const [index, { name, run: runOptions }] of runs.entries()) {
    if (stoppedBy !== undefined) break;
    bar = showProgress ? new ProgressBar(stderr, drawable) : undefined;
    const dryRunLines = runOptions.dryRun === true && !json && !quiet;
    // A dry run names each output by its full path; `out` is resolved as the run resolves it.
    const outDir = resolve(runOptions.inPlace === true ? (runOptions.cwd ?? '.') : (runOptions.out ?? '.'));
    const pipeline = name === undefined ? {} : { pipeline: name };

    /** A line above the bar when there is one (on stdout or stderr), else a plain line. */
    const above = (stream: NodeJS.WriteStream, line: string) => {
      // The bar lives on stderr: a line goes above it only while every stream it touches is open.
      const open = stderrOpen && (stream === stderr || stdoutOpen);
      if (bar && stream.isTTY && open) bar.log(stream, line);
      else if (stream === stdout) print(line);
      else warn(line);
    };
    // Failed files are shown as they fail, the first STREAMED_FAILURES one line each; past that
    // they are only counted, and the end of the run groups every failure by cause: thousands of
    // failures cost a screenful, and the summary line stays the last line.
    let failuresShown = 0;
    const onEvent = (event: GlobpipeEvent) => {
      bar?.onEvent(event);
      // `--shard auto`: which shard the environment gave, before any file (shard-env.ts).
      // `globpipe: shard 2/4 (Slurm array task 2)`
      if (event.type === 'shard' && event.source !== undefined && !quiet) {
        above(stderr, `globpipe: shard ${event.index}/${event.count} (${event.source})`);
      }
      if (event.type !== 'file') return;
      const { result } = event;
      if (json) print(JSON.stringify({ ...fileLine(result), ...pipeline }));
      else if (dryRunLines && result.status === 'planned') above(stdout, formatPlanned(result, outDir));
      if (result.status !== 'failed') return;
      if (failuresShown < STREAMED_FAILURES) {
        failuresShown += 1;
        above(
          stderr,
          formatFailure({
            path: result.input,
            message: result.error?.message ?? 'failed, with no reason given',
          }),
        );
      } else if (failuresShown === STREAMED_FAILURES) {
        failuresShown += 1;
        above(stderr, MORE_FAILURES);
      }
    };

    let summary: Summary;
    try {
      summary = await run({ ...runOptions, signal: controller.signal, onEvent });
    } catch (error) {
      finished = true;
      bar?.stop();
      const where = name === undefined ? '' : `pipeline \`${name}\`: `;
      if (error instanceof GlobpipeError && error.isUsageError) {
        warn(`globpipe: ${escapeName(where + error.message)}`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      warn(`globpipe: internal error: ${escapeName(where)}${internalError(error)}`);
      process.exitCode = EXIT_FAILURES;
      return;
    } finally {
      // Nothing below awaits until the next run: no signal can come between here and the exit code being set.
      finished = finished || index === runs.length - 1;
    }
    bar?.stop();
    summaries.push({ ...summary, ...pipeline });

    if (json) print(JSON.stringify({ type: 'summary', ...summary, ...pipeline }));
    // Every failed file was shown one by one only when there were no more than STREAMED_FAILURES.
    const shown = failuresShown > STREAMED_FAILURES ? 0 : failuresShown;
    if (quiet) {
      const problems = formatProblems(summary, shown);
      if (problems.length > 0) warn(problems.join('\n'));
    } else {
      // Off a terminal (a build log) routine skips are counts in the summary line (report/brief.ts).
      const text = drawable || verbose ? formatSummary(summary, shown) : formatBriefSummary(summary, shown);
      warn(namedSummary(text, name));
    }
    const code = summary.interrupted
      ? exitCodeOf(stoppedBy ?? 'SIGINT')
      : summary.failed > 0 || summary.failedDirectories > 0
        ? EXIT_FAILURES
        : EXIT_OK;
    process.exitCode = Math.max(Number(process.exitCode ?? EXIT_OK), code);
    // The files are written; a manifest that is not leaves the run unverifiable: a failure.
    if (summary.manifest?.error !== undefined) {
      warn(`globpipe: ${escapeName(summary.manifest.error)}`);
      process.exitCode = Math.max(Number(process.exitCode), EXIT_FAILURES);
    }
  }
  finished = true;
  const { report } = parsed.options;
  const reportFailure = report === undefined ? undefined : await writeReport(report, summaries);
  if (reportFailure !== undefined) {
    warn(`globpipe: ${escapeName(reportFailure)}`);
    if (process.exitCode === EXIT_OK) process.exitCode = EXIT_FAILURES;
  }
}
