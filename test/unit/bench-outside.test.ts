import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerOf } from '../../src/bench/answer.js';
import { commandKey, comparable, readBaselineFile } from '../../src/bench/baseline.js';
import { cellsOf, type Matrix } from '../../src/bench/cells.js';
import { scanDataset } from '../../src/bench/dataset-scan.js';
import { exportProblems, writeExports } from '../../src/bench/export.js';
import { chartSpec } from '../../src/bench/svg.js';
import type { BenchReport, CellResult } from '../../src/bench/types.js';
import { parseArgs } from '../../src/cli/args.js';
import { bench, GlobpipeError } from '../../src/index.js';
import { cellResult, report } from '../bench-fixture.js';
import { tempDir } from '../helpers.js';

/**
 * `globpipe bench` used as a hostile user would, where a unit says it best: bench()'s options from
 * a JavaScript caller, the sentence on odd matrices, baselines from elsewhere, exports that
 * cannot be written, the chart's legend, names that are not UTF-8, and `--` on the command line.
 */

describe('bench() with options of the wrong kind', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['runs as a string', { runs: '3' }, 'Expected `runs` to be a whole number from 1, got `3` (string)'],
    ['negative runs', { runs: -1 }, 'Expected `runs` to be a whole number from 1, got `-1` (number)'],
    ['warmup as a string', { warmup: '1' }, 'Expected `warmup` to be a whole number from 0'],
    ['no concurrency', { concurrency: [] }, 'Expected `concurrency` to be a non-empty list'],
    ['concurrency as a string', { concurrency: '4' }, 'Expected `concurrency` to be a list of whole numbers'],
    ['no pool', { threadpool: [] }, 'Expected `threadpool` to be a non-empty list'],
    ['a pool past libuv', { threadpool: [4096] }, 'whole numbers from 1 to 1024, got `[4096]` (array)'],
    [
      'cache as a string',
      { cache: 'warm' },
      'Expected `cache` to be a list of warm, cold, got `warm` (string)',
    ],
    ['work as a string', { work: 'copy' }, 'Expected `work` to be a list of read, copy, transform, fsync'],
    ['patterns as a string', { patterns: '**/*' }, 'Expected `patterns` to be a list of strings'],
    ['no cwd', { cwd: undefined }, '`cwd` is missing'],
    ['cwd as a number', { cwd: 5 }, 'Expected `cwd` to be a string, got `5` (number)'],
    ['a boolean as a string', { references: 'false' }, 'Expected `references` to be a boolean'],
    ['a typo', { concurency: [2] }, 'Unknown option `concurency`: did you mean `concurrency`?'],
    ['an unknown transform', { work: ['transform'], transforms: ['gzp'] }, 'did you mean `gzip`?'],
  ];
  it.each(cases)('%s: EUSAGE naming the option, before any run', async (_name, options, message) => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.txt'), 'a');
    const error = await bench({ cwd, runs: 1, warmup: 0, ...options } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlobpipeError);
    expect(error).toMatchObject({ code: 'EUSAGE', message: expect.stringContaining(message) });
    const scratch = `.${basename(cwd)}.globpipe-bench-`;
    expect(readdirSync(join(cwd, '..')).filter((name) => name.startsWith(scratch))).toEqual([]);
  });

  it('null options', async () => {
    await expect(bench(null as never)).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});

/** A -j sweep of one series, warm, copy (`pool`: its threadpool). */
function sweep(medians: Record<number, number>, pool?: number, failing: number[] = []): CellResult[] {
  return Object.entries(medians).map(([j, seconds]) =>
    cellResult({
      cell: {
        id: `j${j}-warm-auto-copy${pool === undefined ? '' : `-tp${pool}`}`,
        label: `-j ${j}, warm, copy${pool === undefined ? '' : `, pool ${pool}`}`,
        concurrency: Number(j),
        threadpool: pool,
      },
      times: [seconds, seconds, seconds],
      exitCodes: failing.includes(Number(j)) ? [1, 1, 1] : [0, 0, 0],
    }),
  );
}

describe('the sentence on odd matrices', () => {
  const say = (cells: CellResult[]) => {
    const { dataset, machine } = report(cells);
    return answerOf(cells, dataset, { ...machine, virtualized: false }, [4096]);
  };

  it('names the series it answers for when there are several', () => {
    const cells = [...sweep({ 1: 2, 8: 2 }, 1), ...sweep({ 1: 2, 8: 1 }, 32)];
    expect(say(cells)).toMatch(/^Warm \(pool 1\), .*: concurrency buys nothing here\.$/);
    expect(say(sweep({ 1: 2, 8: 1 }))).toMatch(/^Warm, /);
  });

  it('says which concurrencies ran when none is there to compare; keeps its words when a cell failed', () => {
    expect(say(sweep({ 4: 1, 8: 1 }))).toBe(
      'Not enough verified cells to compare: bench needs -j 1 and another concurrency (every cell here ran at -j 4, 8).',
    );
    expect(say(sweep({ 1: 2, 8: 1 }, undefined, [8]))).toBe(
      'Not enough verified cells to compare: bench needs -j 1 and another concurrency.',
    );
  });
});

describe('--baseline from elsewhere', () => {
  it('matches a command whatever its scratch directory', () => {
    const a = `node bin -C /d -o '/x/.d s.globpipe-bench-Ab12Cd/j1-warm-auto-copy/out'`;
    const b = `node bin -C /d -o '/x/.d s.globpipe-bench-ZZ9xy0/j1-warm-auto-copy/out'`;
    expect(commandKey(a)).toBe(commandKey(b));
    expect(commandKey('cp -r a b')).toBe('cp -r a b');
  });

  it('compares nothing with another dataset, and says why', async () => {
    const path = join(tempDir(), 'b.json');
    const dataset = { root: '/other', files: 5, bytes: 20480, patterns: ['**/*'], histogram: [] };
    writeFileSync(
      path,
      JSON.stringify({
        results: [{ command: 'x', median: 1, globpipe: { id: 'j1' } }],
        globpipe: { dataset },
      }),
    );
    const baseline = await readBaselineFile(path);
    expect(comparable(baseline, { files: 5, bytes: 20480 }, path).medians.size).toBe(1);
    const other = comparable(baseline, { files: 6, bytes: 20480 }, path);
    expect(other.medians.size).toBe(0);
    expect(other.note).toContain('not compared, it measured another dataset (5 files, 20480 bytes in /other');
  });
});

describe('exports that cannot be written', () => {
  it('are named before measuring: a missing directory, a directory, one path twice', async () => {
    const dir = tempDir();
    const problems = await exportProblems({
      json: join(dir, 'no', 'r.json'),
      markdown: dir,
      csv: join(dir, 'r.csv'),
      svg: join(dir, 'r.csv'),
    });
    expect(problems).toEqual([
      `\`json\` ${join(dir, 'no', 'r.json')}: its directory ${join(dir, 'no')} does not exist`,
      `\`markdown\` ${dir}: it is a directory`,
      `\`svg\` ${join(dir, 'r.csv')}: \`csv\` writes there too`,
    ]);
  });

  it('one failing does not stop the others; the error names it, no temp is left', async () => {
    const dir = tempDir();
    const paths = { json: join(dir, 'missing', 'r.json'), csv: join(dir, 'r.csv') };
    const error = await writeExports(report([]), paths).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EWRITE',
      message: `cannot write ${paths.json}: its directory does not exist (the other export was written)`,
    });
    expect(existsSync(paths.csv)).toBe(true);
    expect(readdirSync(dir)).toEqual(['r.csv']);
  });
});

describe('the chart of many series', () => {
  it('names each whole in the legend, each in its own colour', () => {
    const cells = [1, 2, 4, 8, 16, 32].flatMap((pool) => [
      ...sweep({ 1: 1, 2: 1 }, pool),
      ...sweep({ 1: 1 }, pool + 100),
    ]);
    const spec = JSON.stringify(chartSpec(report(cells) as BenchReport));
    expect(spec).toContain('"labelLimit":600');
    expect(spec).toContain('"scheme":"category20"');
  });
});

describe('names and words that trip', () => {
  it('finds a name that is not UTF-8 and keeps its neighbours', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'd'));
    for (const name of ['a.txt', 'b.txt']) writeFileSync(join(dir, 'd', name), name);
    writeFileSync(Buffer.from(`${dir}/d/c\xff.txt`, 'latin1'), 'raw');
    symlinkSync('a.txt', join(dir, 'd', 'link.txt'));
    const { files, notes } = await scanDataset(dir, ['**/*']);
    expect(files.map((file) => file.rel)).toEqual(['d/a.txt', 'd/b.txt', 'd/c\udcff.txt']);
    expect(files.map((file) => file.size)).toEqual([5, 5, 3]);
    // As a run skips a symlink, bench leaves it out, and says so; a FIFO every run would fail.
    expect(notes).toEqual(['1 symbolic link is not measured (runs do not follow them): d/link.txt.']);
    execFileSync('mkfifo', [join(dir, 'd', 'pipe')]);
    await expect(scanDataset(dir, ['**/*'])).rejects.toMatchObject({
      code: 'EUSAGE',
      message: expect.stringContaining('not regular files, which every run would fail: d/pipe is a FIFO'),
    });
  });

  it('takes the words after `--` as patterns, and gen the directory after it', async () => {
    const run = await parseArgs(['-C', 'src', '-o', 'out', '--', '-draft.md'], '1.0.0');
    expect(run).toMatchObject({ kind: 'run', options: { run: { patterns: ['-draft.md'] } } });
    const benched = await parseArgs(['bench', '-C', 'data', '--', '-x*'], '1.0.0');
    expect(benched).toMatchObject({ kind: 'bench', options: { bench: { patterns: ['-x*'] } } });
    const made = await parseArgs(['gen', '--files', '2', '--', '-data'], '1.0.0');
    expect(made).toMatchObject({ kind: 'gen', options: { gen: { dir: '-data' } } });
  });

  it('records patterns that start with a dash after `--`, where no parser reads them as options', () => {
    const matrix: Matrix = {
      concurrency: [1],
      cache: ['warm'],
      read: ['auto'],
      work: ['copy'],
      threadpool: [undefined],
      transforms: ['gzip'],
      references: true,
    };
    const places = {
      bin: '/b.js',
      syncLoop: '/s.js',
      node: 'node',
      root: '/d',
      patterns: ['-x*', 'y'],
      scratch: '/s',
      list: '/s/l',
      evict: '',
    };
    const [cell, loop, overhead] = cellsOf(matrix, places).map((planned) => planned.cell);
    expect(cell?.command).toMatch(/ --report \S+ -- '-x\*' y$/);
    expect(overhead?.command).toMatch(/ -- '-x\*' y$/);
    expect(loop?.command).not.toContain(' -- ');
  });
});
