import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gen, leftovers, readJSON, startBench } from '../bench-outside.js';
import { runCli } from '../helpers.js';

/**
 * `globpipe bench` used as a hostile user would, continued: a scratch directory on another
 * file system, a dataset that changes under it or cannot be read, the work, read and pool
 * matrix on tmpfs and on the disk (labels, chart), cold cells it cannot check (as nobody),
 * and the sentence on odd matrices. One run per cell, no warmup, small datasets.
 */

const QUICK = ['--runs', '1', '--warmup', '0'];
const shm = existsSync('/dev/shm') && /\/dev\/shm tmpfs /.test(readFileSync('/proc/mounts', 'utf8'));
const asRoot = process.getuid?.() === 0;

let parent: string;
let dataset: string;

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'globpipe-bench-modes-'));
  dataset = join(parent, 'data');
  await gen(dataset, 30);
});

afterAll(() => rmSync(parent, { recursive: true, force: true }));

const here = (name: string) => join(parent, name);

describe.skipIf(!shm)('--scratch on another file system', () => {
  it('runs there (tmpfs, the dataset on the disk), says so, and removes all it made', async () => {
    const base = mkdtempSync('/dev/shm/globpipe-outside-');
    try {
      const scratch = join(base, 'new', 'deeper');
      const run = await runCli([
        'bench',
        '-C',
        dataset,
        '-j',
        '1',
        '--cache',
        'warm',
        ...QUICK,
        '--scratch',
        scratch,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/note: Runs write to tmpfs at \/dev\/shm \(the scratch directory\)/);
      expect(readdirSync(base)).toEqual([]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('a dataset that changes during the bench', () => {
  it('marks the affected runs ✗, names what changed, exits 1', async () => {
    const data = here('changing');
    await gen(data, 120);
    const run = startBench(['-C', data, '-j', '1,2', '--cache', 'warm', '--runs', '4', '--warmup', '0']);
    await run.waitFor('taken in turn');
    writeFileSync(join(data, 'd00', 'added.txt'), 'new\n');
    rmSync(join(data, 'd01', 'd01', 'f000011.txt'));
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('✗');
    expect(stderr).toContain(
      'The dataset changed during the bench: 1 file added (d00/added.txt); 1 file removed (d01/d01/f000011.txt).',
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).toMatch(/^Not enough verified cells/);
    expect(leftovers(parent, 'changing')).toEqual([]);
  });
});

describe('datasets bench cannot measure', () => {
  it('refuses patterns that match nothing and a file for -C, exit 2', async () => {
    const none = await runCli(['bench', '-C', dataset, '**/*.nothing', ...QUICK]);
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('No files match **/*.nothing')]);
    const one = await runCli(['bench', '-C', dataset, 'd00/**', '*.nothing', ...QUICK]);
    expect([one.code, one.stderr]).toEqual([
      2,
      expect.stringContaining('The pattern *.nothing matches no file'),
    ]);
    const file = join(dataset, 'd01', 'd01', 'f000011.txt');
    const notDir = await runCli(['bench', '-C', file, ...QUICK]);
    expect([notDir.code, notDir.stderr]).toEqual([2, expect.stringContaining(`${file} is not a directory`)]);
  });

  it.skipIf(!asRoot)('as nobody: an unreadable directory or file is named, exit 2, nothing run', async () => {
    const dir = mkdtempSync('/tmp/globpipe-outside-nobody-');
    try {
      const data = join(dir, 'data');
      await gen(data, 20);
      execFileSync('chmod', ['-R', 'a+rX', dir]);
      chmodSync(dir, 0o777);
      chmodSync(join(data, 'd00'), 0o700);
      const sub = await runCli(['bench', '-C', data, ...QUICK], { asNobody: true });
      expect([sub.code, sub.stderr]).toEqual([
        2,
        expect.stringContaining(`EACCES: permission denied, scandir '${join(data, 'd00')}'`),
      ]);
      chmodSync(join(data, 'd00'), 0o755);
      chmodSync(join(data, 'd01', 'd01', 'f000011.txt'), 0o600);
      const file = await runCli(['bench', '-C', data, ...QUICK], { asNobody: true });
      expect([file.code, file.stderr]).toEqual([
        2,
        expect.stringContaining('cannot be read by uid 65534, so every run would fail: d01/d01/f000011.txt'),
      ]);
      expect(leftovers(dir, 'data')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('work, read strategies and pool sizes', () => {
  /** The matrix the brief of a disk review asks for, on the file system of `data`. */
  async function matrix(data: string, tag: string) {
    const svg = here(`${tag}.svg`);
    const json = here(`${tag}.json`);
    const args = ['-C', data, '-j', '2', '--cache', 'warm', '--work', 'transform,fsync', '-t', 'brotli'];
    const more = ['--threadpool', '1,32', '--read', 'single,stream,direct', '--no-references', ...QUICK];
    const run = await runCli(['bench', ...args, ...more, '--export-json', json, '--export-svg', svg]);
    expect(run.code, run.stderr).toBe(0);
    const results = readJSON(json).results;
    const reads = results.some((r) => r.parameters.read === 'direct') ? 3 : 2;
    expect(results).toHaveLength(2 * reads * 2);
    for (const result of results) expect(result.globpipe.verified, result.globpipe.label).toBe(true);
    const labels = results.map((r) => r.globpipe.label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toContain('-j 2, warm, --read single, -t brotli, pool 1');
    expect(labels).toContain('-j 2, warm, --read stream, fsync, pool 32');
    expect(results.find((r) => r.globpipe.label.includes('pool 32'))?.parameters.threadpool).toBe('32');
    // The chart: every series named whole in the legend, once.
    const legend = [...readFileSync(svg, 'utf8').matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(legend.filter((text) => text?.includes('…'))).toEqual([]);
    expect(legend).toContain('read single · transform · pool 1');
    expect(legend).toContain('read stream · fsync · pool 32');
    // The sentence says which series it answers for.
    expect(run.stdout).toMatch(
      /^Not enough verified cells to compare: .*\(every cell here ran at -j 2\)\.$/m,
    );
  }

  it('on the disk: every cell verified, each label its own, the chart names every series', () =>
    matrix(dataset, 'disk'));
  it.skipIf(!shm)('on tmpfs the same', async () => {
    const base = mkdtempSync('/dev/shm/globpipe-outside-');
    try {
      await gen(join(base, 'data'), 30);
      await matrix(join(base, 'data'), 'tmpfs');
      expect(leftovers(base, 'data')).toEqual([]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('the sentence on odd matrices', () => {
  it('names the series when the matrix has several, and says why there is none', async () => {
    const pools = await runCli([
      'bench',
      '-C',
      dataset,
      '-j',
      '1,2',
      '--cache',
      'warm',
      '--threadpool',
      '1,8',
      ...QUICK,
      '--no-references',
    ]);
    expect(pools.code, pools.stderr).toBe(0);
    expect(pools.stdout).toMatch(/^Warm \(pool 1\), 30 × 4 KiB on \w+: /);
    const one = await runCli([
      'bench',
      '-C',
      dataset,
      '-j',
      '1',
      '--cache',
      'warm',
      ...QUICK,
      '--no-references',
    ]);
    expect(one.stdout).toContain('(every cell here ran at -j 1).');
    const loop = await runCli(['bench', '-C', dataset, '-j', '1', '--cache', 'warm', ...QUICK]);
    expect(loop.stdout).toMatch(/^Warm --sequential takes \d+\.\d× the time of a plain sync loop\.$/m);
  });
});

describe.skipIf(!asRoot)('cold cells as nobody on a dataset root owns', () => {
  it('says how cold they were is unknown: no figure, no false "Not cold"', async () => {
    const dir = mkdtempSync('/tmp/globpipe-outside-cold-');
    try {
      const data = join(dir, 'data');
      await gen(data, 20);
      execFileSync('chmod', ['-R', 'a+rX', dir]);
      chmodSync(dir, 0o777);
      const out = join(dir, 'cold.json');
      const args = ['-C', data, '-j', '1', '--cache', 'cold', ...QUICK, '--export-json', out];
      const run = await runCli(['bench', ...args], { asNobody: true, cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('note: How cold the cold runs were is unknown');
      expect(run.stderr).not.toContain('Not cold');
      for (const result of readJSON(out).results)
        for (const sample of result.globpipe.runs) expect(sample.residentBytes).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
