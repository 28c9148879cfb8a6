import { dirname, join } from 'node:path';
import type { CacheState, Cell, ReadStrategy, Work } from './types.js';

/**
 * bench's mode matrix, as cells: each one a shell command that runs globpipe (or the
 * reference loop) the way a user would type it, and the command that prepares each run.
 * Pure: the paths and the options in, the cells out.
 */

export interface Matrix {
  readonly concurrency: readonly number[];
  readonly cache: readonly CacheState[];
  readonly read: readonly ReadStrategy[];
  readonly work: readonly Work[];
  /** UV_THREADPOOL_SIZE values; `undefined`: globpipe's own choice. */
  readonly threadpool: readonly (number | undefined)[];
  /** `-t` stages for the `transform` work (`gzip`, or `gzip,brotli` to fan out). */
  readonly transforms: readonly string[];
  /** The sync-loop and no-IO overhead cells. */
  readonly references: boolean;
}

export interface Places {
  /** The globpipe entry point (bin/globpipe.js) and the reference loop (dist/bench/sync-loop.js). */
  readonly bin: string;
  readonly syncLoop: string;
  /** The node binary. */
  readonly node: string;
  readonly root: string;
  readonly patterns: readonly string[];
  /** Where runs write (outputs, reports): removed before each run, and at the end. */
  readonly scratch: string;
  /** The dataset's file list, NUL-separated, relative to `root` (for the reference loop). */
  readonly list: string;
  /** The shell command that evicts the dataset from the page cache (cold cells). */
  readonly evict: string;
}

/** POSIX shell quoting: single quotes, each `'` as `'\''`. Plain words stay as they are. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export function shellLine(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/** Where a cell's run writes its outputs and its report. */
export function cellPaths(places: Places, id: string): { out: string; report: string } {
  return { out: join(places.scratch, id, 'out'), report: join(places.scratch, id, 'report.json') };
}

function workFlags(work: Work, transforms: readonly string[]): string[] {
  switch (work) {
    case 'read':
      return ['--discard'];
    case 'copy':
      return [];
    case 'transform':
      return transforms.flatMap((t) => ['-t', t]);
    case 'fsync':
      return ['--fsync'];
  }
}

/** What a cell is, before its commands. */
type CellSpec = Pick<Cell, 'kind' | 'concurrency' | 'cache' | 'read' | 'work' | 'threadpool'>;

function idOf(spec: CellSpec): string {
  if (spec.kind === 'overhead') return 'overhead';
  if (spec.kind === 'sync-loop') return `sync-loop-${spec.cache}-${spec.work}`;
  const pool = spec.threadpool === undefined ? '' : `-tp${spec.threadpool}`;
  return `j${spec.concurrency}-${spec.cache}-${spec.read}-${spec.work}${pool}`;
}

function labelOf(spec: CellSpec, matrix: Matrix): string {
  if (spec.kind === 'overhead') return 'overhead: start, glob and plan, no file IO (-j 1 --dry-run)';
  if (spec.kind === 'sync-loop')
    return `plain sync loop (readFileSync${spec.work === 'read' ? '' : ' + writeFileSync'}), ${spec.cache}`;
  const parts = [spec.concurrency === 1 ? '--sequential' : `-j ${spec.concurrency}`, spec.cache];
  if (matrix.read.length > 1 || spec.read !== 'auto') parts.push(`--read ${spec.read}`);
  parts.push(spec.work === 'transform' ? `-t ${matrix.transforms.join(' -t ')}` : spec.work);
  if (spec.threadpool !== undefined) parts.push(`pool ${spec.threadpool}`);
  return parts.join(', ');
}

/** What a run executes: the environment it adds, and the argv (the node binary first). */
export interface Invocation {
  readonly env: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
}

function invocationOf(spec: CellSpec, id: string, matrix: Matrix, places: Places): Invocation {
  const { out, report } = cellPaths(places, id);
  const env: Record<string, string> =
    spec.threadpool === undefined ? {} : { UV_THREADPOOL_SIZE: String(spec.threadpool) };
  if (spec.kind === 'sync-loop') {
    const mode = spec.work === 'read' ? ['--discard'] : [];
    return {
      env,
      argv: [places.node, places.syncLoop, places.root, places.list, out, '--report', report, ...mode],
    };
  }
  // A pattern that starts with a dash would be read as an option: then all go last, after `--`.
  const dashed = places.patterns.some((pattern) => pattern.startsWith('-'));
  const patterns = dashed ? [] : places.patterns;
  const common = [places.node, places.bin, '-C', places.root, ...patterns, '-o', out];
  const tail = ['-q', '--no-progress', '--report', report, ...(dashed ? ['--', ...places.patterns] : [])];
  if (spec.kind === 'overhead') return { env, argv: [...common, '-j', '1', '--dry-run', ...tail] };
  const read = spec.read === 'auto' ? [] : ['--read', spec.read];
  return {
    env,
    argv: [
      ...common,
      ...(spec.concurrency === 1 ? ['--sequential'] : ['-j', String(spec.concurrency)]),
      ...read,
      ...workFlags(spec.work, matrix.transforms),
      ...tail,
    ],
  };
}

/** A cell and how to run it. */
export interface Planned {
  readonly cell: Cell;
  readonly invocation: Invocation;
}

function cellOf(spec: CellSpec, matrix: Matrix, places: Places): Planned {
  const id = idOf(spec);
  const { out, report } = cellPaths(places, id);
  // The cell's directory made again: a rerun by hand after bench removed its scratch must find
  // where to write its report (a dry run makes no -o), and the sync loop its list of files.
  const steps = [shellLine(['rm', '-rf', out]), shellLine(['mkdir', '-p', dirname(report)])];
  if (spec.kind === 'sync-loop')
    steps.push(
      shellLine([places.node, places.syncLoop, '--list', places.root, places.list, ...places.patterns]),
    );
  // Every run starts from a file system at rest: the last run's writes and the removal of its
  // outputs on disk, not still in flight (on ext4, what the journal still holds slows file
  // creation by half or doubles it, depending on what ran just before).
  steps.push(shellLine(['sync', '-f', places.scratch]));
  const clear = steps.join(' && ');
  const invocation = invocationOf(spec, id, matrix, places);
  const env = Object.entries(invocation.env).map(([key, value]) => `${key}=${value}`);
  const cell: Cell = {
    id,
    label: labelOf(spec, matrix),
    ...spec,
    command: shellLine([...env, ...invocation.argv]),
    prepare: spec.cache === 'cold' ? `${clear} && ${places.evict}` : clear,
  };
  return { cell, invocation };
}

/**
 * Every cell of the matrix, in a stable order: each work, read strategy, pool and cache
 * state over the concurrency sweep; then the references (the no-IO overhead once, the sync
 * loop for each cache state, doing the first work that reads or copies).
 */
export function cellsOf(matrix: Matrix, places: Places): Planned[] {
  const cells: Planned[] = [];
  for (const work of matrix.work)
    for (const read of matrix.read)
      for (const threadpool of matrix.threadpool)
        for (const cache of matrix.cache)
          for (const concurrency of matrix.concurrency)
            cells.push(
              cellOf({ kind: 'globpipe', concurrency, cache, read, work, threadpool }, matrix, places),
            );
  if (!matrix.references) return cells;
  const loopWork: Work = matrix.work.includes('read') && !matrix.work.includes('copy') ? 'read' : 'copy';
  for (const cache of matrix.cache)
    cells.push(
      cellOf(
        { kind: 'sync-loop', concurrency: 1, cache, read: 'auto', work: loopWork, threadpool: undefined },
        matrix,
        places,
      ),
    );
  cells.push(
    cellOf(
      { kind: 'overhead', concurrency: 1, cache: 'warm', read: 'auto', work: 'copy', threadpool: undefined },
      matrix,
      places,
    ),
  );
  return cells;
}
