import { describe, expect, it } from 'vitest';
import { flagNames, OptionError } from '../../src/options/names.js';
import { describeShard, type Env, resolveShardAuto } from '../../src/run/shard-env.js';

/** The usage error `resolveShardAuto` throws, as the command line shows it. */
function failure(env: Env, shardCount?: number): string {
  try {
    resolveShardAuto(env, shardCount);
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    const shown = (error as OptionError).in(flagNames);
    expect(shown.code).toBe('EUSAGE');
    return shown.message;
  }
  throw new Error(`resolved a shard from ${JSON.stringify(env)}`);
}

describe('resolveShardAuto', () => {
  it.each<[string, Env, number | undefined, object, string]>([
    [
      'Kubernetes, count from --shard-count',
      { JOB_COMPLETION_INDEX: '0' },
      4,
      { index: 1, count: 4, engine: 'Kubernetes' },
      'shard 1/4 (Kubernetes completion index 0)',
    ],
    [
      'Kubernetes, count from JOB_COMPLETIONS',
      { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '4' },
      undefined,
      { index: 4, count: 4, engine: 'Kubernetes' },
      'shard 4/4 (Kubernetes completion index 3)',
    ],
    [
      'Slurm array from 1',
      { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' },
      undefined,
      { index: 2, count: 4, engine: 'Slurm' },
      'shard 2/4 (Slurm array task 2)',
    ],
    [
      'Slurm array from 0',
      { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' },
      undefined,
      { index: 3, count: 4, engine: 'Slurm' },
      'shard 3/4 (Slurm array task 2)',
    ],
    [
      'Slurm array from 10 by 5',
      {
        SLURM_ARRAY_TASK_ID: '20',
        SLURM_ARRAY_TASK_MIN: '10',
        SLURM_ARRAY_TASK_STEP: '5',
        SLURM_ARRAY_TASK_COUNT: '3',
      },
      undefined,
      { index: 3, count: 3, engine: 'Slurm' },
      'shard 3/3 (Slurm array task 20)',
    ],
    [
      'GitLab, 1-based',
      { CI_NODE_INDEX: '1', CI_NODE_TOTAL: '3' },
      undefined,
      { index: 1, count: 3, engine: 'GitLab' },
      'shard 1/3 (GitLab node 1)',
    ],
    [
      'CircleCI, 0-based',
      { CIRCLE_NODE_INDEX: '2', CIRCLE_NODE_TOTAL: '3' },
      undefined,
      { index: 3, count: 3, engine: 'CircleCI' },
      'shard 3/3 (CircleCI node 2)',
    ],
    [
      'Buildkite, 0-based',
      { BUILDKITE_PARALLEL_JOB: '0', BUILDKITE_PARALLEL_JOB_COUNT: '2' },
      undefined,
      { index: 1, count: 2, engine: 'Buildkite' },
      'shard 1/2 (Buildkite parallel job 0)',
    ],
    [
      'an engine that agrees with --shard-count',
      { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' },
      2,
      { index: 2, count: 2, engine: 'GitLab' },
      'shard 2/2 (GitLab node 2)',
    ],
  ])('%s', (_, env, shardCount, expected, line) => {
    const shard = resolveShardAuto({ PATH: '/usr/bin', HOME: '/root', ...env }, shardCount);
    expect(shard).toMatchObject(expected);
    expect(describeShard(shard)).toBe(line);
  });

  it('a Slurm task started from a Kubernetes pod or a CI job takes its Slurm index, not the inherited one', () => {
    const slurm = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' };
    for (const inherited of [
      { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' },
      { CI_NODE_INDEX: '1', CI_NODE_TOTAL: '2' },
      { CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '2' },
    ]) {
      expect(resolveShardAuto({ ...inherited, ...slurm })).toMatchObject({
        index: 3,
        count: 4,
        engine: 'Slurm',
      });
    }
  });

  it('fails without any engine, naming what it looked for', () => {
    const message = failure({ PATH: '/usr/bin', CI: 'true', SLURM_JOB_ID: '12' });
    expect(message).toBe(
      '--shard auto: found no shard in the environment: looked for SLURM_ARRAY_TASK_ID (Slurm), ' +
        'JOB_COMPLETION_INDEX (Kubernetes), CI_NODE_INDEX (GitLab), CIRCLE_NODE_INDEX (CircleCI), ' +
        'BUILDKITE_PARALLEL_JOB (Buildkite). Outside these engines, give --shard <index>/<count>',
    );
  });

  it.each<[string, Env, number | undefined, string]>([
    [
      'a Kubernetes index without a count',
      { JOB_COMPLETION_INDEX: '1' },
      undefined,
      '--shard auto: a Kubernetes Indexed Job needs --shard-count or JOB_COMPLETIONS for the count',
    ],
    [
      'a Kubernetes index past the count',
      { JOB_COMPLETION_INDEX: '4' },
      4,
      '--shard auto (Kubernetes completion index 4): the index is 1-based and must be 1 to 4, got 5',
    ],
    [
      'a Slurm task without the array bounds',
      { SLURM_ARRAY_TASK_ID: '1' },
      undefined,
      '--shard auto: Slurm sets no SLURM_ARRAY_TASK_MIN',
    ],
    [
      'a Slurm task below the minimum',
      { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' },
      undefined,
      '--shard auto: SLURM_ARRAY_TASK_ID 0 is not on the array from 1 by 1; use --array=<a>-<b>',
    ],
    [
      'a GitLab index of 0 (GitLab counts from 1)',
      { CI_NODE_INDEX: '0', CI_NODE_TOTAL: '3' },
      undefined,
      '--shard auto (GitLab node 0): the index is 1-based and must be 1 to 3, got 0',
    ],
    [
      'a variable that is no number',
      { CIRCLE_NODE_INDEX: 'one', CIRCLE_NODE_TOTAL: '3' },
      undefined,
      "--shard auto: CIRCLE_NODE_INDEX must be a non-negative integer, got 'one'",
    ],
    [
      'a count that disagrees with --shard-count',
      { BUILDKITE_PARALLEL_JOB: '0', BUILDKITE_PARALLEL_JOB_COUNT: '2' },
      3,
      "--shard auto: --shard-count 3 disagrees with Buildkite's count 2 (Buildkite parallel job 0)",
    ],
  ])('fails on %s', (_, env, shardCount, message) => {
    expect(failure(env, shardCount)).toBe(message);
  });
});
