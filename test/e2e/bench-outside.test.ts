import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gen,
  leftovers,
  processesMentioning,
  readJSON,
  rerunEach,
  startBench,
  words,
} from '../bench-outside.js';
import { runCli } from '../helpers.js';

/**
 * `globpipe bench` used as a hostile user would: hostile dataset names, signals mid-run,
 * exports that cannot be written, foreign baselines, a scratch directory on another file
 * system, a dataset that changes under it, datasets it cannot read, odd matrices. Runs are
 * one per cell, no warmup, on small datasets: figures are never judged, only outcomes.
 */

/** Every character a shell or an option parser could trip on, and a non-ASCII one. */
const NAME = `-data $HOME 'q" *é`;
/** A file name that is not UTF-8 (0xff) inside the dataset. */
const RAW = Buffer.from([0x61, 0xff, 0x20, 0x62, 0x2e, 0x74, 0x78, 0x74]);
const QUICK = ['--runs', '1', '--warmup', '0'];

let parent: string;
let dataset: string;
/** The dataset's file count and bytes, the raw-named file included. */
let files: number;
let bytes: number;

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'globpipe-bench-outside-'));
  dataset = join(parent, NAME);
  await gen(dataset, 60);
  writeFileSync(Buffer.concat([Buffer.from(`${dataset}/d00/`), RAW]), 'raw name\n');
  writeFileSync(join(dataset, 'd01', `it's "$x" *.txt`), 'quoted\n');
  files = 62;
  bytes = 60 * 4096 + 'raw name\n'.length + 'quoted\n'.length;
});

afterAll(() => rmSync(parent, { recursive: true, force: true }));

const here = (name: string) => join(parent, name);

describe('bench on a dataset whose path and names are hostile', () => {
  it('verifies every cell (the byte name counted), and every recorded command reruns by hand', async () => {
    const out = here('hostile.json');
    const args = ['-C', dataset, '-j', '1,2', '--cache', 'warm,cold', '--cold-method', 'fadvise', ...QUICK];
    const run = await runCli(['bench', ...args, '--export-json', out, '--export-svg', here('h.svg')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`dataset: ${dataset} · ${files} files`);
    const json = readJSON(out);
    expect(json.results.map((r) => [r.globpipe.id, r.globpipe.verified])).toEqual(
      json.results.map((r) => [r.globpipe.id, true]),
    );
    for (const result of json.results) expect(result.globpipe.runs[0]?.files, result.globpipe.id).toBe(files);
    expect(leftovers(parent, NAME)).toEqual([]);
    try {
      rerunEach(json, files, bytes);
    } finally {
      for (const dir of leftovers(parent, NAME)) rmSync(here(dir), { recursive: true, force: true });
    }
  });

  it('takes a pattern that starts with a dash after `--`, and records it there', async () => {
    const out = here('dash.json');
    writeFileSync(join(dataset, '-x.txt'), 'dash\n');
    const args = ['-C', dataset, '-j', '1', '--cache', 'warm', ...QUICK, '--export-json', out];
    const run = await runCli(['bench', ...args, '--', '-x*', 'd02/**']).finally(() =>
      unlinkSync(join(dataset, '-x.txt')),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readJSON(out).globpipe.dataset.files).toBe(1 + 10);
    for (const result of readJSON(out).results) {
      const argv = words(result.command);
      if (result.globpipe.kind !== 'sync-loop') expect(argv.slice(-3)).toEqual(['--', '-x*', 'd02/**']);
    }
  });
});

describe('signals', () => {
  /** A transform module that takes `ms` per file: a run in progress that a signal meets mid-file. */
  function slowModule(ms: number): string {
    const path = here(`slow-${ms}.mjs`);
    writeFileSync(
      path,
      `export default { name: 'slow', buffer: (c) => new Promise((r) => setTimeout(() => r(c), ${ms})) };\n`,
    );
    return path;
  }

  /** bench over the slow transform, -j 1: each run spends `ms` on every file. */
  function slowBench(ms: number, out?: string) {
    const args = ['-C', dataset, '-j', '1', '--cache', 'warm', '--work', 'transform', '-t', slowModule(ms)];
    return startBench([
      ...args,
      ...QUICK,
      '--no-references',
      ...(out === undefined ? [] : ['--export-json', out]),
    ]);
  }

  async function interrupt(signal: NodeJS.Signals, code: number) {
    const out = here(`${signal}.json`);
    // A run stops after the file in flight (up to 700 ms): bench must wait for it before it
    // removes the scratch directory, where the run still writes its report.
    const run = slowBench(700, out);
    await run.waitFor('taken in turn');
    await sleep(900);
    run.child.kill(signal);
    const { code: exit, stderr } = await run.done;
    expect(exit, stderr).toBe(code);
    expect(stderr).toContain(`globpipe bench: ${signal}: stopping the run in progress`);
    expect(stderr).toContain('interrupted; nothing exported');
    expect(leftovers(parent, NAME)).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(processesMentioning(parent)).toEqual([]);
  }

  it('SIGINT stops the run in progress: exit 130, no scratch directory, no child, nothing exported', () =>
    interrupt('SIGINT', 130));
  it('SIGTERM the same, exit 143', () => interrupt('SIGTERM', 143));

  it('a second signal quits at once, killing a run that is slow to stop', async () => {
    const run = slowBench(40_000);
    await run.waitFor('taken in turn');
    await sleep(1500);
    run.child.kill('SIGINT');
    await run.waitFor('Ctrl-C again');
    await sleep(300);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('globpipe bench: aborted');
    expect(leftovers(parent, NAME)).toEqual([]);
    await sleep(200);
    expect(processesMentioning(parent)).toEqual([]);
  });
});

describe('exports', () => {
  const quick = () => ['-C', dataset, '-j', '1', '--cache', 'warm', ...QUICK, '--no-references'];

  it('refuses, before measuring, a path whose directory is missing or that is a directory, naming each', async () => {
    const dir = here('exports');
    mkdirSync(dir);
    const run = await runCli([
      'bench',
      ...quick(),
      '--export-json',
      join(dir, 'no/r.json'),
      '--export-markdown',
      dir,
      '--export-csv',
      join(dir, 'ok.csv'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--export-json ${join(dir, 'no/r.json')}: its directory ${join(dir, 'no')} does not exist`,
    );
    expect(run.stderr).toContain(`--export-markdown ${dir}: it is a directory`);
    expect(run.stderr).not.toContain('taken in turn');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes into a FIFO and through a symlink without replacing either', async () => {
    const dir = here('streams');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync('target.json', join(dir, 'link.json'));
    // A reader, as `globpipe bench --export-csv fifo & cat fifo` would have.
    const reader = spawn('sh', ['-c', 'cat fifo > read.csv'], { cwd: dir, stdio: 'ignore' });
    const read = new Promise((done) => reader.on('close', done));
    const run = await runCli([
      'bench',
      ...quick(),
      '--export-csv',
      join(dir, 'fifo'),
      '--export-json',
      join(dir, 'link.json'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    await read;
    expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true);
    expect(lstatSync(join(dir, 'link.json')).isSymbolicLink()).toBe(true);
    expect(readJSON(join(dir, 'target.json')).results).toHaveLength(1);
    expect(readFileSync(join(dir, 'read.csv'), 'utf8')).toMatch(/^command,mean,/);
  });
});

describe('--baseline', () => {
  const args = () => ['-C', dataset, '-j', '1', '--cache', 'warm', ...QUICK, '--no-references'];

  it('refuses a corrupt JSON before measuring, naming it', async () => {
    writeFileSync(here('corrupt.json'), '{"results": [');
    const run = await runCli(['bench', ...args(), '--baseline', here('corrupt.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--baseline ${here('corrupt.json')}: not JSON`);
  });

  it('matches a hyperfine JSON of recorded commands, whatever their scratch directory', async () => {
    const first = here('first.json');
    expect((await runCli(['bench', ...args(), '--export-json', first])).code).toBe(0);
    const results = readJSON(first).results.map((r) => ({
      command: r.command,
      mean: 1,
      median: r.median * 2,
      times: [1],
    }));
    writeFileSync(here('hyperfine.json'), JSON.stringify({ results }));
    const run = await runCli(['bench', ...args(), '--baseline', here('hyperfine.json')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ [+-]\d+\.\d% vs baseline/);
  });

  it('compares nothing with another dataset, or with no cell in common, and says so', async () => {
    const other = here('other');
    await gen(other, 5);
    const theirs = here('other.json');
    expect(
      (await runCli(['bench', '-C', other, '-j', '1', '--cache', 'warm', ...QUICK, '--export-json', theirs]))
        .code,
    ).toBe(0);
    const foreign = await runCli(['bench', ...args(), '--baseline', theirs]);
    expect(foreign.code, foreign.stderr).toBe(0);
    expect(foreign.stderr).toContain(
      `note: --baseline ${theirs}: not compared, it measured another dataset (5 files`,
    );
    expect(foreign.stderr).not.toContain('vs baseline');
    writeFileSync(here('cells.json'), JSON.stringify({ results: [{ command: 'sleep 1', median: 1 }] }));
    const none = await runCli(['bench', ...args(), '--baseline', here('cells.json')]);
    expect(none.stderr).toContain('none of its 1 results is a cell of this matrix; nothing compared');
  });
});
