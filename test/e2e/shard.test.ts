import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/types.js';
import { keepAllFor, readTree, runCli, tempDir, writeTree } from '../helpers.js';

/** 60 files of sizes from 10 bytes to ~40 KiB over nested directories, a few of them large. */
function tree(): string {
  const files: Record<string, string> = {};
  for (let i = 0; i < 60; i += 1) {
    const size = i % 13 === 0 ? 40_000 + i : 10 + ((i * 7919) % 3000);
    files[`d${i % 5}/s${i % 3}/f${i}.txt`] = `file ${i} `.repeat(Math.ceil(size / 8)).slice(0, size);
  }
  return writeTree(files);
}

/** The CLI with --json over `cwd` into a fresh directory: its exit code, summary, stderr and outputs. */
async function globpipe(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const out = tempDir();
  const { code, stdout, stderr } = await runCli(
    ['-C', cwd, '-o', out, ...keepAllFor('gzip'), ...args, '--json'],
    {
      env,
    },
  );
  const summary = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Summary & { type: string })
    .find((line) => line.type === 'summary');
  return { code, stderr, summary, outputs: readTree(out) };
}

describe('--shard', () => {
  it.each(['hash', 'balanced', 'size'])(
    '--shard-strategy %s: four shards write exactly the outputs of one run, none twice',
    async (strategy) => {
      const cwd = tree();
      const whole = await globpipe(cwd, ['-t', 'gzip']);
      expect(whole.code).toBe(0);
      expect(whole.outputs.size).toBe(60);
      const union = new Map<string, Buffer>();
      let matched = 0;
      for (const index of [1, 2, 3, 4]) {
        const shard = await globpipe(cwd, [
          '-t',
          'gzip',
          '--shard',
          `${index}/4`,
          '--shard-strategy',
          strategy,
        ]);
        expect(shard.code).toBe(0);
        expect(shard.summary?.shard).toEqual({ index, count: 4, strategy });
        // Each shard counts its own files only: the shards' matches add up to the whole.
        expect(shard.summary?.matched).toBe(shard.outputs.size);
        expect(shard.outputs.size).toBeGreaterThan(0);
        matched += shard.summary?.matched ?? 0;
        for (const [path, bytes] of shard.outputs) {
          expect(union.has(path), `${path} written by two shards`).toBe(false);
          union.set(path, bytes);
        }
      }
      expect(matched).toBe(60);
      expect(new Map([...union].sort(([a], [b]) => (a < b ? -1 : 1)))).toEqual(whole.outputs);
    },
  );

  it('says which shard on the summary line', async () => {
    const { code, stderr } = await runCli(['-C', tree(), '-o', tempDir(), '-t', 'copy', '--shard', '2/4']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^globpipe: shard 2\/4: \d+ matched, \d+ written, 0 skipped, 0 failed \|/m);
  });

  it('--shard auto reads a Slurm array task and says so on stderr', async () => {
    const cwd = tree();
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' };
    const auto = await globpipe(cwd, ['-t', 'gzip', '--shard', 'auto'], env);
    const given = await globpipe(cwd, ['-t', 'gzip', '--shard', '3/4']);
    expect(auto.code).toBe(0);
    expect(auto.stderr).toContain('globpipe: shard 3/4 (Slurm array task 3)\n');
    // Given as i/n, the shard is said on the summary line only.
    expect(given.stderr).not.toContain('(Slurm');
    expect(auto.outputs).toEqual(given.outputs);
  });

  it.each([
    [['--shard', '0/3'], '--shard 0/3: the index is 1-based and must be 1 to 3, got 0'],
    [['--shard', 'a/b'], "Expected --shard to be <index>/<count> (e.g. 2/4) or auto, got 'a/b'"],
    [['--shard', 'auto'], '--shard auto: found no shard in the environment: looked for SLURM_ARRAY_TASK_ID'],
    [['--shard-strategy', 'size'], '--shard-strategy applies to a sharded run: it needs --shard'],
    [
      ['--shard', '1/2', '--shard-strategy', 'even'],
      'Expected --shard-strategy to be one of hash, balanced, size',
    ],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { code, stderr } = await runCli(['-C', tree(), '-o', tempDir(), '-t', 'copy', ...args], {
      env: {
        JOB_COMPLETION_INDEX: undefined,
        SLURM_ARRAY_TASK_ID: undefined,
        CI_NODE_INDEX: undefined,
        CIRCLE_NODE_INDEX: undefined,
        BUILDKITE_PARALLEL_JOB: undefined,
      },
    });
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('in place, each shard has a journal and a lock of its own', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}.txt`);
    const cwd = writeTree(Object.fromEntries(names.map((name) => [name, `${name}\n`])));
    // Shard 1 of 2 was interrupted: its journal stays behind.
    const journal = join(cwd, '.globpipe-journal.1-of-2.jsonl');
    writeFileSync(journal, 'left by shard 1\n');
    const stamp = ['-C', cwd, '--in-place', '--dot', '--exec', 'cat; echo stamped'];
    const first = await runCli([...stamp, '--shard', '1/2']);
    expect(first.code).toBe(2);
    expect(first.stderr).toContain(`An interrupted in-place run left its journal \`${journal}\``);
    // Shard 2 is not held up by it, never takes it for an input, and leaves nothing of its own.
    const second = await runCli([...stamp, '--shard', '2/2']);
    expect(second.code).toBe(0);
    expect(readFileSync(journal, 'utf8')).toBe('left by shard 1\n');
    const stamped = names.filter((name) => readFileSync(join(cwd, name), 'utf8').endsWith('stamped\n'));
    expect(stamped.length).toBeGreaterThan(0);
    expect(stamped.length).toBeLessThan(names.length);
    expect(second.stderr).toMatch(
      new RegExp(`shard 2/2: ${stamped.length} matched, ${stamped.length} written`),
    );
    expect(existsSync(join(cwd, '.globpipe-journal.2-of-2.jsonl'))).toBe(false);
    expect(existsSync(join(cwd, '.globpipe-lock.2-of-2'))).toBe(false);
    expect([...readTree(cwd).keys()].sort()).toEqual([...names, '.globpipe-journal.1-of-2.jsonl'].sort());
  });

  it('shards given one --incremental path keep a manifest each beside it, and run at once without losing records', async () => {
    const cwd = tree();
    const work = tempDir();
    const out = join(work, 'out');
    const args = (shard: string) => [
      '-C',
      cwd,
      '-o',
      out,
      '-t',
      'gzip',
      ...keepAllFor('gzip'),
      '--incremental',
      join(work, 'inc.json'),
      '--shard',
      shard,
      '--json',
    ];
    const summaryOf = (stdout: string) =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Summary & { type: string })
        .find((line) => line.type === 'summary') as Summary;
    const first = await Promise.all(['1/2', '2/2'].map((shard) => runCli(args(shard))));
    expect(first.map((r) => r.code)).toEqual([0, 0]);
    expect(first.map((r) => summaryOf(r.stdout).incremental?.manifest)).toEqual([
      join(work, 'inc.1-of-2.json'),
      join(work, 'inc.2-of-2.json'),
    ]);
    const written = first.map((r) => summaryOf(r.stdout).written);
    expect((written[0] ?? 0) + (written[1] ?? 0)).toBe(60);
    // Nothing changed: each shard finds every one of its files unchanged in its own manifest.
    const again = await Promise.all(['1/2', '2/2'].map((shard) => runCli(args(shard))));
    expect(again.map((r) => summaryOf(r.stdout).written)).toEqual([0, 0]);
    expect(again.map((r) => summaryOf(r.stdout).incremental?.unchanged)).toEqual(written);
    expect(existsSync(join(work, 'inc.json'))).toBe(false);
  });
});
