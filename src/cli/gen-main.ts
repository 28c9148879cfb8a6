import { performance } from 'node:perf_hooks';
import type { GenProgress } from '../bench/gen.js';
import { gen } from '../bench/gen-write.js';
import { GlobpipeError } from '../errors.js';
import { liveTemps } from '../io/atomic.js';
import { countOf, escapeName, formatBytes, formatCount, formatSeconds } from '../report/format.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE, exitCodeOf, internalError, STOP_SIGNALS } from './exit.js';
import type { GenCliOptions } from './gen-args.js';
import { canDraw } from './terminal.js';

/** `globpipe gen`: runs gen(), draws a progress line on a terminal, prints one summary line. */
export async function genMain(
  options: GenCliOptions,
  print: (line: string) => void,
  warn: (line: string) => void,
): Promise<number> {
  const { stderr } = process;
  const drawable = canDraw(stderr);
  const showProgress = options.progress ?? (drawable && !options.quiet);
  let drawnAt = 0;
  let drawn = false;
  const draw = (progress: GenProgress) => {
    const now = performance.now();
    if (now - drawnAt < 100 && progress.filesDone < progress.files) return;
    drawnAt = now;
    drawn = true;
    const share =
      progress.bytes > 0 ? progress.bytesDone / progress.bytes : progress.filesDone / progress.files;
    const line = `globpipe gen: ${Math.floor(share * 100)}% | ${formatCount(progress.filesDone)}/${formatCount(progress.files)} files | ${formatBytes(progress.bytesDone)} / ${formatBytes(progress.bytes)}`;
    stderr.write(drawable ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const clear = () => {
    if (drawn && drawable) stderr.write('\r\x1b[2K');
    drawn = false;
  };
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy !== undefined) {
      liveTemps.removeAllSync();
      warn('globpipe gen: aborted');
      process.exit(exitCodeOf(signal));
    }
    stoppedBy = signal;
    controller.abort(new Error(`received ${signal}`));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const summary = await gen({
      ...options.gen,
      signal: controller.signal,
      onProgress: showProgress ? draw : undefined,
    });
    clear();
    if (options.json) print(JSON.stringify({ type: 'summary', ...summary }));
    if (!options.quiet) {
      const what = `${countOf(summary.files, 'file', 'files')}, ${formatBytes(summary.bytes)} in ${escapeName(summary.dir)} (seed ${summary.parameters.seed})`;
      warn(
        summary.upToDate
          ? `globpipe gen: up to date: ${what}, nothing written`
          : `globpipe gen: ${what} in ${formatSeconds(summary.seconds)}`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    clear();
    if (stoppedBy !== undefined) {
      warn(`globpipe gen: ${stoppedBy}: stopped; run it again to finish the dataset`);
      return exitCodeOf(stoppedBy);
    }
    if (error instanceof GlobpipeError && error.isUsageError) {
      warn(`globpipe gen: ${escapeName(error.message)}`);
      return EXIT_USAGE;
    }
    const e = error as NodeJS.ErrnoException;
    warn(`globpipe gen: ${escapeName(e.code === undefined ? internalError(error) : e.message)}`);
    return EXIT_FAILURES;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
