import type { BenchPlan } from '../bench/bench.js';
import { type BenchProgress, bench } from '../bench/bench.js';
import { writeExports } from '../bench/export.js';
import { headerLines } from '../bench/machine.js';
import { benchTable } from '../bench/terminal.js';
import { GlobpipeError } from '../errors.js';
import { escapeName, formatSeconds } from '../report/format.js';
import type { BenchCliOptions } from './bench-args.js';

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
  const showProgress = options.progress ?? (stderr.isTTY === true && !options.quiet);
  const started = performance.now();
  let drawn = false;
  let drawnAt = 0;
  const onProgress = (progress: BenchProgress) => {
    const now = performance.now();
    if (now - drawnAt < 100 && stderr.isTTY) return;
    drawnAt = now;
    drawn = true;
    const line = progressLine(progress, started);
    stderr.write(stderr.isTTY ? `\r\x1b[2K${line.slice(0, (stderr.columns ?? 120) - 1)}` : `${line}\n`);
  };
  const clear = () => {
    if (drawn && stderr.isTTY) stderr.write('\r\x1b[2K');
    drawn = false;
  };
  const onStart = (plan: BenchPlan) => {
    if (options.quiet) return;
    warn(headerLines(plan.machine, plan.dataset, plan.cold).join('\n'));
    warn(`${plan.cells.length} cells × (${plan.warmup} warmup + ${plan.runs} runs), taken in turn\n`);
  };
  try {
    const report = await bench({
      ...options.bench,
      signal,
      onStart,
      ...(showProgress ? { onProgress } : {}),
    });
    clear();
    if (!options.quiet) {
      warn(benchTable(report));
      for (const result of report.cells)
        for (const warning of result.warnings) warn(`warning: ${result.cell.label}: ${warning}`);
      for (const note of report.notes) warn(`note: ${note}`);
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
