import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bin, readTree, runCli, tempDir, writeTree } from '../helpers.js';

/** No scheduler's variables but those a case sets. */
const noEngine = {
  JOB_COMPLETION_INDEX: undefined,
  JOB_COMPLETIONS: undefined,
  SLURM_ARRAY_TASK_ID: undefined,
  SLURM_ARRAY_TASK_MIN: undefined,
  SLURM_ARRAY_TASK_MAX: undefined,
  SLURM_ARRAY_TASK_STEP: undefined,
  SLURM_ARRAY_TASK_COUNT: undefined,
  CI_NODE_INDEX: undefined,
  CI_NODE_TOTAL: undefined,
  CIRCLE_NODE_INDEX: undefined,
  CIRCLE_NODE_TOTAL: undefined,
  BUILDKITE_PARALLEL_JOB: undefined,
  BUILDKITE_PARALLEL_JOB_COUNT: undefined,
};

const tree = (count: number) =>
  writeTree(
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`d${i % 3}/f${i}.txt`, 'x'.repeat(i + 1)])),
  );

/** The inputs each shard 1..n takes, from a dry run's lines (`path -> out`). */
async function shards(cwd: string, count: number, extra: readonly string[]): Promise<string[][]> {
  const taken: string[][] = [];
  for (let index = 1; index <= count; index++) {
    const result = await runCli([
      '-C',
      cwd,
      '-o',
      join(tempDir(), 'o'),
      '--dry-run',
      '--shard',
      `${index}/${count}`,
      ...extra,
    ]);
    expect(result.code, result.stderr).toBe(0);
    taken.push(
      result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' -> ')[0] as string)
        .sort(),
    );
  }
  return taken;
}

describe('--shard from outside', () => {
  it('refuses a Slurm array with gaps in every task, writing nothing', async () => {
    const cwd = tree(6);
    const out = join(tempDir(), 'out');
    for (const id of ['0', '2', '3']) {
      const env = {
        ...noEngine,
        SLURM_ARRAY_TASK_ID: id,
        SLURM_ARRAY_TASK_MIN: '0',
        SLURM_ARRAY_TASK_MAX: '3',
      };
      const result = await runCli(['-C', cwd, '-o', out, '--shard', 'auto'], {
        env: { ...env, SLURM_ARRAY_TASK_STEP: '1', SLURM_ARRAY_TASK_COUNT: '3' },
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('globpipe: --shard auto: the Slurm array from 0 to 3');
      expect(result.stderr).toContain('an array with gaps cannot be numbered into shards');
    }
    expect(existsSync(out)).toBe(false);
  });

  it('numbers a stepped Slurm array (--array=0-12:4) whose Slurm sets no step', async () => {
    const cwd = tree(8);
    const env = { ...noEngine, SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0' };
    const result = await runCli(['-C', cwd, '-o', join(tempDir(), 'o'), '--shard', 'auto', '--dry-run'], {
      env: { ...env, SLURM_ARRAY_TASK_MAX: '12', SLURM_ARRAY_TASK_COUNT: '4' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('globpipe: shard 2/4 (Slurm array task 4)\n');
  });

  it('names a count too large to be exact as typed', async () => {
    const result = await runCli([
      '-C',
      tree(2),
      '-o',
      join(tempDir(), 'o'),
      '--shard',
      '1/99999999999999999999',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'globpipe: --shard 1/99999999999999999999: the shard count must be an integer from 1 to 9007199254740991, got 99999999999999999999\n',
    );
  });

  it.each(['hash', 'balanced', 'size'])(
    '%s: the same files in the same shard whatever the order of the patterns, and the union is the tree',
    async (strategy) => {
      const cwd = tree(13);
      const one = await shards(cwd, 4, ['d0/**', 'd1/**', 'd2/**', '--shard-strategy', strategy]);
      const other = await shards(cwd, 4, ['d2/**', 'd0/**', 'd1/**', '--shard-strategy', strategy]);
      expect(other).toEqual(one);
      expect(one.flat().sort()).toEqual([...readTree(cwd).keys()].sort());
      if (strategy === 'balanced') expect(one.map((files) => files.length).sort()).toEqual([3, 3, 3, 4]);
    },
  );

  it('balanced: as many shards as files is one file each; more shards than files leaves only the extra ones empty', async () => {
    const cwd = tree(5);
    const even = await shards(cwd, 5, ['--shard-strategy', 'balanced']);
    expect(even.map((files) => files.length)).toEqual([1, 1, 1, 1, 1]);
    const more = await shards(cwd, 7, ['--shard-strategy', 'balanced']);
    expect(more.map((files) => files.length)).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(more.flat().sort()).toEqual([...readTree(cwd).keys()].sort());
  });

  it('SIGINT during a shard: exit 130, its manifest holds what it did, no temp file, and verify-shards names the rest', async () => {
    const cwd = tree(12);
    const work = tempDir();
    const out = join(work, 'out');
    const args = ['-C', cwd, '-o', out, '-j', '1', '--exec', 'sleep 0.2; cat'];
    const child = spawn(process.execPath, [bin, ...args, '--shard', '1/2', '--manifest', 'm1.json'], {
      cwd: work,
      stdio: 'ignore',
    });
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let waited = 0; !existsSync(out) || readdirSync(out, { recursive: true }).length < 2; waited += 20) {
      if (waited > 20_000) throw new Error('no output after 20 s');
      await sleep(20);
    }
    child.kill('SIGINT');
    expect(await code).toBe(130);
    const second = await runCli([...args, '--shard', '2/2', '--manifest', 'm2.json'], { cwd: work });
    expect(second.code, second.stderr).toBe(0);
    const written = [...readTree(out).keys()];
    expect(written.every((path) => !path.includes('.globpipe-tmp') && !/\.tmp/.test(path))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(work, 'm1.json'), 'utf8')) as {
      inputs: { status: string }[];
    };
    expect(manifest.inputs.every((input) => input.status === 'written')).toBe(true);
    const verify = await runCli(['verify-shards', 'm1.json', 'm2.json', '--json'], { cwd: work });
    const report = JSON.parse(verify.stdout) as { missing: string[]; files: number };
    expect(verify.code).toBe(report.missing.length > 0 ? 1 : 0);
    expect(report.files + report.missing.length).toBe(12);
    expect(written.length).toBe(report.files);
  }, 30_000);
});
