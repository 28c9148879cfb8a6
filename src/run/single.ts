import { performance } from 'node:perf_hooks';
import type { Entry } from '../discover.js';
import type { PlannedFile } from '../plan/outputs.js';
import type { FileResult } from '../types.js';
import { admit, type Fields, isPlanned, type JobContext, result } from './job.js';
import { copyFiles, type Large, makeDirs, readFiles, transformFile, writeFiles } from './steps.js';
import { isIdentityCopy } from './strategy.js';
import { streamFile } from './stream.js';

/**
 * The single-file executor (see strategy.ts for when it runs): one file
 * through each step, each step one call to the io port. Never throws: every
 * outcome is a result.
 */
export async function processFile(entry: Entry, ctx: JobContext): Promise<FileResult> {
  const started = performance.now();
  const admitted = await admit(entry, ctx);
  const fields = isPlanned(admitted) ? await runJob(admitted, ctx) : admitted;
  return result(entry, fields, performance.now() - started);
}

/** The step that settles the file reports it: that report is the file's outcome. */
async function runJob(job: PlannedFile, ctx: JobContext): Promise<Fields> {
  let settled: Fields | undefined;
  const report = (_job: PlannedFile, fields: Fields) => {
    settled = fields;
  };
  const [ready] = await makeDirs([job], ctx, report);
  if (ready !== undefined && isIdentityCopy(ctx.settings)) await copyFiles([ready], ctx, report);
  else if (ready !== undefined) {
    // A lone file is always read in one step: it is never deferred.
    const { loaded, large } = await readFiles([ready], ctx, report);
    const stream = (file: Large) => large.push(file);
    const transformed =
      loaded[0] === undefined ? undefined : await transformFile(loaded[0], ctx, report, stream);
    if (large[0] !== undefined) return streamFile(ready, large[0].meta, ctx);
    if (transformed !== undefined) await writeFiles([transformed], ctx, report);
  }
  if (settled === undefined) throw new Error(`internal error: no step settled ${job.entry.path}`);
  return settled;
}
