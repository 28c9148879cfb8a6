import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Summary } from '../types.js';

/** What `--report` adds to the summary: the process's own figures, as `time -v` would give them. */
export interface ProcessFigures {
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** Peak resident set size. */
  readonly peakRssBytes: number;
}

export function processFigures(): ProcessFigures {
  const usage = process.resourceUsage();
  return {
    userSeconds: usage.userCPUTime / 1e6,
    systemSeconds: usage.systemCPUTime / 1e6,
    // resourceUsage gives kilobytes (getrusage's ru_maxrss).
    peakRssBytes: usage.maxRSS * 1024,
  };
}

/**
 * `--report <file>`: the summary as one JSON object (one a line for several pipelines), written atomically (a temp beside the
 * file, then a rename), so a reader never sees half of it. Resolves with the error's message
 * (naming the file) when it cannot be written.
 */
export async function writeReport(
  path: string,
  summaries: Summary | readonly Summary[],
): Promise<string | undefined> {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  // A config's several pipelines: one line each (NDJSON), in the order they ran.
  const figures = processFigures();
  const body = [summaries]
    .flat()
    .map((summary) => `${JSON.stringify({ type: 'summary', ...summary, process: figures })}\n`)
    .join('');
  try {
    await writeFile(temp, body, { flag: 'wx' });
    await rename(temp, target);
    return undefined;
  } catch (error) {
    await rm(temp, { force: true });
    return `cannot write --report ${path}: ${(error as Error).message}`;
  }
}
