import { readFile } from 'node:fs/promises';
import { GlobpipeError } from '../errors.js';
import type { CellResult } from './types.js';

/**
 * `--baseline`: an earlier `--export-json` of globpipe bench, or a hyperfine JSON, and each
 * cell's change against it. Cells are matched by id (ours), else by command; a command names
 * its run's scratch directory (`.data.globpipe-bench-Ab12Cd`), new in every bench, so that
 * part is compared as a wildcard: a hyperfine rerun of a recorded command matches its cell.
 */

export interface BaselineFile {
  /** Median seconds by cell id or (normalised) command; the first result of a key counts. */
  readonly medians: ReadonlyMap<string, number>;
  /** The dataset it measured, when it says (globpipe's export does; hyperfine's does not). */
  readonly dataset?: { readonly root: string; readonly files: number; readonly bytes: number };
}

/** mkdtemp's six characters after the scratch directory's name. */
const SCRATCH = /(\.globpipe-bench-)[A-Za-z0-9]{6}/g;

/** A command with its scratch directory's random part blanked: equal for every bench's run of one cell. */
export function commandKey(command: string): string {
  return command.replace(SCRATCH, '$1*');
}

function baselineError(path: string, why: string, cause?: unknown): GlobpipeError {
  return new GlobpipeError('EUSAGE', `--baseline ${path}: ${why}`, { cause });
}

function datasetOf(data: unknown): BaselineFile['dataset'] {
  const dataset = (data as { globpipe?: { dataset?: Record<string, unknown> } }).globpipe?.dataset;
  const { root, files, bytes } = dataset ?? {};
  return typeof root === 'string' && typeof files === 'number' && typeof bytes === 'number'
    ? { root, files, bytes }
    : undefined;
}

/**
 * An earlier export's medians and dataset. A missing, unreadable or foreign file rejects
 * with EUSAGE, naming the path and the cause.
 */
export async function readBaselineFile(path: string): Promise<BaselineFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw baselineError(path, `cannot read it: ${(error as Error).message}`, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw baselineError(path, `not JSON: ${(error as Error).message}`, error);
  }
  const results = (data as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) {
    throw baselineError(
      path,
      'no `results` list: expected an --export-json file of globpipe bench or hyperfine',
    );
  }
  const medians = new Map<string, number>();
  results.forEach((entry: unknown, index) => {
    const result = (entry ?? {}) as { command?: unknown; median?: unknown; globpipe?: { id?: unknown } };
    const id = typeof result.globpipe?.id === 'string' ? result.globpipe.id : undefined;
    const command = typeof result.command === 'string' ? commandKey(result.command) : undefined;
    const key = id ?? command;
    if (key === undefined) throw baselineError(path, `results[${index}] has no cell id or command`);
    if (typeof result.median !== 'number' || !(result.median > 0)) {
      throw baselineError(path, `results[${index}] (${key}) has no median time`);
    }
    if (!medians.has(key)) medians.set(key, result.median);
  });
  const dataset = datasetOf(data);
  return dataset === undefined ? { medians } : { medians, dataset };
}

/**
 * An earlier export's medians (seconds) by cell id: ours (`--export-json` of globpipe
 * bench), or hyperfine's JSON keyed by `command`. The first result of a key counts.
 */
export async function readBaseline(path: string): Promise<Map<string, number>> {
  return new Map((await readBaselineFile(path)).medians);
}

/** A cell's baseline from readBaseline's map, by its id, else by its command; change 0.1 = 10% slower. */
export function baselineFor(
  result: Pick<CellResult, 'cell' | 'wall'>,
  baseline: ReadonlyMap<string, number>,
): { readonly median: number; readonly change: number } | undefined {
  const median = baseline.get(result.cell.id) ?? baseline.get(commandKey(result.cell.command));
  return median === undefined ? undefined : { median, change: result.wall.median / median - 1 };
}

/**
 * The baseline's medians when it measured this dataset (as many files, as many bytes; its
 * root may have moved), else none, with a note: figures of another dataset compare nothing.
 * A hyperfine JSON names no dataset: its commands, which name the dataset, decide.
 */
export function comparable(
  baseline: BaselineFile,
  dataset: { readonly files: number; readonly bytes: number },
  path: string | undefined,
): { readonly medians: ReadonlyMap<string, number>; readonly note?: string } {
  const other = baseline.dataset;
  if (other === undefined || (other.files === dataset.files && other.bytes === dataset.bytes))
    return { medians: baseline.medians };
  return {
    medians: new Map(),
    note: `--baseline ${path}: not compared, it measured another dataset (${other.files} files, ${other.bytes} bytes in ${other.root}; this one: ${dataset.files} files, ${dataset.bytes} bytes).`,
  };
}
