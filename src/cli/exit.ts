import { constants } from 'node:os';
import { escapeName } from '../report/format.js';

/** The exit codes and signals every command of the CLI shares. */

export const EXIT_OK = 0;
export const EXIT_FAILURES = 1;
export const EXIT_USAGE = 2;
/** SIGINT's code; a run stopped by another signal exits with that signal's 128 + n. */
export const EXIT_INTERRUPTED = 130;

/** The signals that stop a run cleanly: Ctrl-C, `kill`/`timeout`/systemd, a terminal that closed. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** 128 + the signal's number, as a shell reports it: SIGHUP 129, SIGINT 130, SIGTERM 143. */
export function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? constants.signals.SIGINT);
}

/** The message on one line (it may name a path), then the stack's frames, each escaped. */
export function internalError(error: unknown): string {
  if (!(error instanceof Error)) return escapeName(String(error));
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return [escapeName(`${error.name}: ${error.message}`), ...frames.map(escapeName)].join('\n');
}
