import { constants } from 'node:os';
import { type BenchPlan, type BenchProgress, bench, stopBenchSync } from '../bench/bench.js';
import { exportProblems, writeExports } from '../bench/export.js';
import { headerLines } from '../bench/machine.js';
import { benchTable } from '../bench/terminal.js';
import { GlobpipeError } from '../errors.js';
import { withNaming } from '../options/names.js';
import { escapeName, formatSeconds } from '../report/format.js';
import type { BenchCliOptions } from './bench-args.js';
import { STOP_SIGNALS } from './exit.js';
import { canDraw } from './terminal.js';

/**
 * `globpipe bench`: the header before it measures, a progress bar while it does (on a
 * terminal), then the table, warnings and notes on stderr and the one-sentence answer on
 * stdout; the exports written last. Exit 0 when every cell verified, 1 when one did not.
 */

const BAR = 24;

function progressLine(progress: BenchProgress, startedMs: number): string {
  const share = progress.total > 0 ? progress.done / progress.total : 0;
  const filled = Math.round(share * BAR);
  const elapsed = (performance.now() - startedMs) / 1000;
  const eta =
    progress.done > 0 ? formatSeconds((elapsed / progress.done) * (progress.total - progress.done)) : '--';
  const phase = progress.phase === 'warmup' ? 'warming up' : progress.phase === 'fio' ? 'fio' : 'measuring';
  return `globpipe bench: ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${Math.floor(share * 100)}% | ${progress.done}/${progress.total} runs | ETA ${eta} | ${phase}: ${progress.cell}`;
}

export async function benchMain(
  options: BenchCliOptions,
  print: (line: string) => void,
  warn: (line: string) => void,
  signal: AbortSignal,
): Promise<number> {
  const { stderr } = process;
  const drawable = canDraw(stderr);
  const showProgress = options.progress ?? (drawable && !options.quiet);
  const started = performance.now();
  let drawn = false;
  let drawnAt = 0;
  const onProgress = (progress: BenchProgress) => {
    const now = performance.now();
    if (now - drawnAt < 100 && drawable) return;
    drawnAt = now;
    drawn = true;
    const line = progressLine(progress, started);
    stderr.write(drawable ? `\r\x1b[2K${line.slice(0, (stderr.columns ?? 120) - 1)}` : `${line}\n`);
  };
  const clear = () => {
    if (drawn && drawable) stderr.write('\r\x1b[2K');
    drawn = false;
  };
  const onStart = (plan: BenchPlan) => {
    if (options.quiet) return;
    warn(headerLines(plan.machine, plan.dataset, plan.cold).join('\n'));
    warn(`${plan.cells.length} cells × (${plan.warmup} warmup + ${plan.runs} runs), taken in turn\n`);
  };
  try {
    // Before any run: an export that cannot be written would cost the whole bench at its end.
    const problems = await exportProblems(options.exports, (key) => `--export-${key}`);
    if (problems.length > 0) {
      warn(`globpipe bench: ${escapeName(problems.join('; '))}; nothing measured`);
      return 2;
    }
    // Marked: bench()'s messages then name flags (`--runs`), not keys (`runs`).
    const report = await bench(
      withNaming({ ...options.bench, signal, onStart, ...(showProgress ? { onProgress } : {}) }, 'flag'),
    );
    clear();
    if (!options.quiet) {
      warn(benchTable(report));
      // Warnings and notes may name files: escaped, so that no name forges a line.
      for (const result of report.cells)
        for (const warning of result.warnings) warn(`warning: ${result.cell.label}: ${escapeName(warning)}`);
      for (const note of report.notes) warn(`note: ${escapeName(note)}`);
      for (const line of report.fio?.comparisons ?? []) warn(`fio: ${line}`);
    }
    print(report.answer);
    await writeExports(report, options.exports);
    return report.cells.every((result) => result.verified) ? 0 : 1;
  } catch (error) {
    clear();
    if (signal.aborted) {
      warn('globpipe bench: interrupted; nothing exported');
      return 130;
    }
    if (error instanceof GlobpipeError) {
      warn(`globpipe bench: ${escapeName(error.message)}`);
      return error.isUsageError ? 2 : 1;
    }
    throw error;
  }
}

/**
 * bench under the process's signals: the first SIGINT, SIGTERM or SIGHUP stops the run in
 * progress (it removes its temp files and exits), removes the scratch directory and exports
 * nothing, exit 128 + n (130, 143, 129); a second quits at once, the run killed and the
 * scratch directory removed all the same.
 */
export async function benchCommand(
  options: BenchCliOptions,
  print: (line: string) => void,
  warn: (line: string) => void,
): Promise<number> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const exitCode = (signal: NodeJS.Signals) => 128 + (constants.signals[signal] ?? 2);
  const stop = (signal: NodeJS.Signals) => {
    if (stoppedBy !== undefined) {
      stopBenchSync();
      warn('globpipe bench: aborted');
      process.exit(exitCode(signal));
    }
    stoppedBy = signal;
    warn(`globpipe bench: ${signal}: stopping the run in progress (Ctrl-C again to quit at once)`);
    controller.abort(new Error(`received ${signal}`));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  try {
    const code = await benchMain(options, print, warn, controller.signal);
    return code === 130 && stoppedBy !== undefined ? exitCode(stoppedBy) : code;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
}
