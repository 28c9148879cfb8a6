import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchJSON } from '../../src/bench/export.js';
import { bench, GlobpipeError } from '../../src/index.js';
import { rerunEach } from '../bench-outside.js';
import { type CliResult, readTree, root, runCli } from '../helpers.js';
import { validate } from '../json-schema.js';

/**
 * `globpipe bench` end to end, on a small dataset made by `globpipe gen`: what it prints,
 * what it exports, what it leaves behind (nothing but the exports), and its promise that
 * every recorded command reruns by hand. Runs are few and short: no figure is judged, only
 * that each was measured and verified.
 */

const schema = JSON.parse(readFileSync(join(root, 'docs', 'bench-schema.json'), 'utf8'));
const BYTES = 200 * 4096;

/** A name that needs quoting in every command bench records. */
const NAME = "data set's";

/** The dataset's files and their bytes, as one digest. */
function digest(dir: string): string {
  const hash = createHash('sha256');
  for (const [path, bytes] of readTree(dir)) hash.update(`${path}\0${bytes.length}\0`).update(bytes);
  return hash.digest('hex');
}

/** Scratch directories bench made beside a dataset named `name` in `dir`. */
const leftovers = (dir: string, name: string) =>
  readdirSync(dir).filter((entry) => entry.startsWith(`.${name}.globpipe-bench-`));

/** The rows of the terminal table: the lines after its title, up to the first blank line. */
function tableRows(stderr: string): string[] {
  const lines = stderr.split('\n');
  const title = lines.findIndex((line) => /^cell\s+median \(min – max\).*verified$/.test(line));
  expect(title, stderr).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(title + 1);
  const end = rest.findIndex((line) => line === '' || /^(note|warning|fio): /.test(line));
  return end < 0 ? rest : rest.slice(0, end);
}

const readJSON = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as BenchJSON;

const tmpfs = (() => {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((line) => /^\S+ \/dev\/shm tmpfs /.test(line));
  } catch {
    return false;
  }
})();

let parent: string;
let dataset: string;
let before: string;
let main: CliResult;

async function gen(dir: string, files = 200): Promise<void> {
  const made = await runCli(['gen', dir, '--files', String(files), '--size', '4KiB']);
  expect(made.code, made.stderr).toBe(0);
}

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'globpipe-bench-e2e-'));
  dataset = join(parent, NAME);
  await gen(dataset);
  before = digest(dataset);
  main = await runCli(
    [
      ...['bench', '-C', dataset, '-j', '1,8', '--cache', 'warm', '--runs', '2', '--warmup', '0'],
      ...['--export-json', 'j', '--export-markdown', 'm', '--export-csv', 'c', '--export-svg', 's'],
    ],
    { cwd: parent },
  );
}, 60_000);

afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('globpipe bench', () => {
  it('answers in one sentence on stdout, with the header and a verified table on stderr', () => {
    expect(main.code, main.stderr).toBe(0);
    expect(main.stdout).toMatch(/^[^\n]+\.\n$/);
    expect(main.stdout.trim()).toBe(readJSON(join(parent, 'j')).globpipe.answer);
    expect(main.stdout).toMatch(/^Warm, 200 × 4 KiB on \w+: /);
    expect(main.stderr).toMatch(/^file system: \S+ on .+, mounted at /m);
    expect(main.stderr).toContain(`dataset: ${dataset} · 200 files · 800 KiB`);
    expect(main.stderr).toContain('4 cells × (0 warmup + 2 runs), taken in turn');
    const rows = tableRows(main.stderr);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/ {2}✓( |$)/);
    expect(main.stderr).not.toContain('✗');
  });

  it('writes the four exports; the JSON is the schema’s, with every run of every cell', () => {
    for (const name of ['j', 'm', 'c', 's'])
      expect(statSync(join(parent, name)).size, name).toBeGreaterThan(0);
    const json = readJSON(join(parent, 'j'));
    expect(validate(schema, json)).toEqual([]);
    expect(json.globpipe.dataset.files).toBe(200);
    expect(json.globpipe.dataset.bytes).toBe(BYTES);
    expect(json.results.map((r) => r.globpipe.id)).toEqual([
      'j1-warm-auto-copy',
      'j8-warm-auto-copy',
      'sync-loop-warm-copy',
      'overhead',
    ]);
    for (const result of json.results) {
      expect(result.times, result.globpipe.id).toHaveLength(2);
      expect(result.exit_codes).toEqual([0, 0]);
      expect(result.globpipe.verified).toBe(true);
    }
    expect(readFileSync(join(parent, 'c'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(parent, 's'), 'utf8')).toContain('<svg');
    expect(readFileSync(join(parent, 'm'), 'utf8')).toContain('| ');
  });

  it('verifies the sync loop: each run read exactly the dataset’s files and bytes', () => {
    const loop = readJSON(join(parent, 'j')).results.find((r) => r.globpipe.kind === 'sync-loop');
    expect(loop?.globpipe.verified).toBe(true);
    for (const run of loop?.globpipe.runs ?? []) expect([run.files, run.bytes]).toEqual([200, BYTES]);
  });

  it('leaves the dataset as it was and no scratch directory behind', () => {
    expect(digest(dataset)).toBe(before);
    expect(leftovers(parent, NAME)).toEqual([]);
    expect(readdirSync(parent).sort()).toEqual([NAME, 'c', 'j', 'm', 's'].sort());
  });

  it('keeps its promise: each recorded command, after its prepare, reruns by hand and reports', () => {
    const json = readJSON(join(parent, 'j'));
    try {
      rerunEach(json, 200, BYTES);
    } finally {
      for (const dir of leftovers(parent, NAME)) rmSync(join(parent, dir), { recursive: true, force: true });
    }
    expect(digest(dataset)).toBe(before);
  });

  it('shows each cell against --baseline', async () => {
    const args = ['bench', '-C', dataset, '-j', '1,8', '--cache', 'warm', '--runs', '1', '--warmup', '0'];
    const { code, stderr } = await runCli([...args, '--baseline', 'j'], { cwd: parent });
    expect(code, stderr).toBe(0);
    const rows = tableRows(stderr);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/✓ [+-]\d+\.\d% vs baseline$/);
  });

  it('runs direct reads, or says why not', async () => {
    const args = ['-j', '1', '--cache', 'warm', '--runs', '1', '--warmup', '0', '--no-references'];
    const { code, stderr } = await runCli(['bench', '-C', dataset, '--read', 'auto,direct', ...args]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/--read direct, copy .*✓|note: No direct cells: \w+ refuses O_DIRECT\./);
  });

  it.skipIf(!tmpfs)('on tmpfs: no cold cells, a note saying why; direct reads run or are noted', async () => {
    const shm = mkdtempSync('/dev/shm/globpipe-bench-');
    try {
      const data = join(shm, 'data');
      await gen(data, 20);
      const args = ['-C', data, '-j', '1,4', '--runs', '1', '--warmup', '0', '--no-references'];
      const cold = await runCli(['bench', ...args, '--cache', 'warm,cold', '--export-json', join(shm, 'j')]);
      expect(cold.code, cold.stderr).toBe(0);
      expect(cold.stderr).toContain(
        'note: No cold cells: tmpfs keeps files in RAM: there is no colder state.',
      );
      const json = readJSON(join(shm, 'j'));
      expect(json.globpipe.cold.name).toBe('none');
      expect(json.results.map((r) => r.parameters.cache)).toEqual(['warm', 'warm']);
      const direct = await runCli(['bench', ...args, '--cache', 'warm', '--read', 'auto,direct']);
      expect(direct.code, direct.stderr).toBe(0);
      expect(direct.stderr).toMatch(
        /--read direct, copy .*✓|note: No direct cells: tmpfs refuses O_DIRECT\./,
      );
      expect(leftovers(shm, 'data')).toEqual([]);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it('refuses bad usage with exit 2, naming what is wrong, and writes nothing', async () => {
    const quick = ['--runs', '1', '--warmup', '0', '--export-json', join(parent, 'bad.json')];
    const missing = await runCli(['bench', '-C', '/nonexistent/globpipe-data', ...quick]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/globpipe-data');
    const empty = join(parent, 'empty');
    execFileSync('mkdir', ['-p', join(empty, 'sub')]);
    const none = await runCli(['bench', '-C', empty, ...quick]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`globpipe gen ${empty}`);
    rmSync(empty, { recursive: true });
    for (const scratch of [dataset, join(dataset, 'd00'), join(dataset, '..scratch')]) {
      const inside = await runCli(['bench', '-C', dataset, '--scratch', scratch, ...quick]);
      expect(inside.code, scratch).toBe(2);
      expect(inside.stderr).toContain(`--scratch ${scratch} is inside the dataset`);
    }
    expect(existsSync(join(dataset, '..scratch'))).toBe(false);
    expect(existsSync(join(parent, 'bad.json'))).toBe(false);
    expect(digest(dataset)).toBe(before);
  });
});

describe('bench()', () => {
  it('returns the report of a one-cell matrix', async () => {
    const report = await bench({
      cwd: dataset,
      concurrency: [1],
      cache: ['warm'],
      runs: 1,
      warmup: 0,
      references: false,
    });
    expect(report.cells).toHaveLength(1);
    expect(report.cells[0]?.verified).toBe(true);
    expect(report.cells[0]?.runs).toHaveLength(1);
    expect(report.dataset.files).toBe(200);
    expect(leftovers(parent, NAME)).toEqual([]);
  });

  it('rejects a typo with a usage error', async () => {
    const typo = bench({ cwd: dataset, cache: ['tepid' as 'warm'], runs: 1, warmup: 0 });
    await expect(typo).rejects.toBeInstanceOf(GlobpipeError);
    await expect(typo).rejects.toMatchObject({ code: 'EUSAGE', message: expect.stringContaining('tepid') });
  });
});

describe.skipIf(process.getuid?.() !== 0)('globpipe bench as a user who is not root', () => {
  it('makes cold cells cold with fadvise', async () => {
    const dir = mkdtempSync('/tmp/globpipe-bench-nobody-');
    try {
      const data = join(dir, 'data');
      await gen(data, 50);
      // The dataset readable by all, and its parent writable: the scratch directory goes there.
      execFileSync('chmod', ['-R', 'a+rX', dir]);
      execFileSync('chmod', ['777', dir]);
      const out = join(dir, 'r.json');
      const args = ['-C', data, '--cache', 'cold', '--runs', '1', '--warmup', '0', '-j', '1'];
      const run = await runCli(['bench', ...args, '--export-json', out], { asNobody: true, cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      const json = readJSON(out);
      expect(json.globpipe.cold.name).toBe('fadvise');
      // The overhead cell reads no files: it is warm whatever was asked.
      const caches = json.results.map(
        (r) => `${r.globpipe.kind} ${r.parameters.cache} ${r.globpipe.verified}`,
      );
      expect(caches).toEqual(['globpipe cold true', 'sync-loop cold true', 'overhead warm true']);
      expect(leftovers(dir, 'data')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
