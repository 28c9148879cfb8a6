import { type Names, OptionError } from '../options/names.js';
import { checkShard, type Shard } from './shard.js';

/**
 * `--shard auto`: the shard read from the variables the engine that started this process
 * sets, so one command line serves every task of a job. Pure: the environment is passed in.
 *
 * | engine     | index (base)                   | count                                        |
 * | ---------- | ------------------------------ | -------------------------------------------- |
 * | Slurm      | SLURM_ARRAY_TASK_ID (MIN)      | SLURM_ARRAY_TASK_COUNT                       |
 * | Kubernetes | JOB_COMPLETION_INDEX (0)       | `--shard-count`, else JOB_COMPLETIONS        |
 * | GitLab     | CI_NODE_INDEX (1)              | CI_NODE_TOTAL                                |
 * | CircleCI   | CIRCLE_NODE_INDEX (0)          | CIRCLE_NODE_TOTAL                            |
 * | Buildkite  | BUILDKITE_PARALLEL_JOB (0)     | BUILDKITE_PARALLEL_JOB_COUNT                 |
 *
 * An Indexed Job does not tell its pods how many completions it has: the count is given
 * with `--shard-count`, or set in the pod template as JOB_COMPLETIONS (the Job's `completions`).
 * A Slurm array may start anywhere (`--array=1-4` or `0-3`) and step (`0-15:4`): the index
 * is (ID - MIN) / STEP + 1 (STEP from MIN, MAX and COUNT where Slurm does not set it; an array
 * with gaps is refused). The engines are tried in the table's order; the first whose
 * index variable is set decides, and its other variables must then be right. Slurm comes
 * first: its tasks inherit the variables of whatever submitted them.
 */
export type ShardEngine = 'Kubernetes' | 'Slurm' | 'GitLab' | 'CircleCI' | 'Buildkite';

export interface ResolvedShard extends Shard {
  readonly engine: ShardEngine;
  /** `Slurm array task 7`: what the index was read from, for the line printed on stderr. */
  readonly source: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

const lookedFor =
  'SLURM_ARRAY_TASK_ID (Slurm), JOB_COMPLETION_INDEX (Kubernetes), CI_NODE_INDEX (GitLab), ' +
  'CIRCLE_NODE_INDEX (CircleCI), BUILDKITE_PARALLEL_JOB (Buildkite)';

function fail(render: (n: Names) => string): never {
  throw new OptionError((n) => `${n.name('shard')} auto: ${render(n)}`);
}

/** A variable that must hold a non-negative integer. */
function integer(env: Env, name: string, engine: ShardEngine): number {
  const text = env[name];
  if (text === undefined || text === '') fail(() => `${engine} sets no ${name}`);
  if (!/^\d+$/.test(text.trim())) fail(() => `${name} must be a non-negative integer, got '${text}'`);
  return Number(text.trim());
}

/** `{index, count, engine}` from `env`, or a usage error naming the variables it looked for. */
export function resolveShardAuto(env: Env, shardCount?: number): ResolvedShard {
  const found = fromEnv(env, shardCount);
  if (found === undefined) {
    fail(
      (n) =>
        `found no shard in the environment: looked for ${lookedFor}. ` +
        `Outside these engines, give ${n.name('shard')} <index>/<count>`,
    );
  }
  const { index, count, engine, source } = found;
  if (shardCount !== undefined && shardCount !== count) {
    fail(
      (n) => `${n.name('shardCount')} ${shardCount} disagrees with ${engine}'s count ${count} (${source})`,
    );
  }
  return { ...checkShard(index, count, (n) => `${n.name('shard')} auto (${source})`), engine, source };
}

interface Found {
  readonly index: number;
  readonly count: number;
  readonly engine: ShardEngine;
  readonly source: string;
}

function fromEnv(env: Env, shardCount: number | undefined): Found | undefined {
  // Slurm first: a task inherits the environment of whatever submitted it (a Kubernetes pod,
  // a CI job), and only Slurm's variables are the task's own.
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = integer(env, 'SLURM_ARRAY_TASK_ID', 'Slurm');
    const min = integer(env, 'SLURM_ARRAY_TASK_MIN', 'Slurm');
    const count = integer(env, 'SLURM_ARRAY_TASK_COUNT', 'Slurm');
    const step = slurmStep(env, min, count);
    if (step < 1 || id < min || (id - min) % step !== 0) {
      fail(() => `SLURM_ARRAY_TASK_ID ${id} is not on the array from ${min} by ${step}; use --array=<a>-<b>`);
    }
    return { index: (id - min) / step + 1, count, engine: 'Slurm', source: `Slurm array task ${id}` };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const id = integer(env, 'JOB_COMPLETION_INDEX', 'Kubernetes');
    let count = shardCount;
    if (count === undefined) {
      if (env.JOB_COMPLETIONS === undefined) {
        fail(
          (n) => `a Kubernetes Indexed Job needs ${n.name('shardCount')} or JOB_COMPLETIONS for the count`,
        );
      }
      count = integer(env, 'JOB_COMPLETIONS', 'Kubernetes');
    }
    return { index: id + 1, count, engine: 'Kubernetes', source: `Kubernetes completion index ${id}` };
  }
  if (env.CI_NODE_INDEX !== undefined) {
    const index = integer(env, 'CI_NODE_INDEX', 'GitLab');
    const count = integer(env, 'CI_NODE_TOTAL', 'GitLab');
    return { index, count, engine: 'GitLab', source: `GitLab node ${index}` };
  }
  if (env.CIRCLE_NODE_INDEX !== undefined) {
    const id = integer(env, 'CIRCLE_NODE_INDEX', 'CircleCI');
    const count = integer(env, 'CIRCLE_NODE_TOTAL', 'CircleCI');
    return { index: id + 1, count, engine: 'CircleCI', source: `CircleCI node ${id}` };
  }
  if (env.BUILDKITE_PARALLEL_JOB !== undefined) {
    const id = integer(env, 'BUILDKITE_PARALLEL_JOB', 'Buildkite');
    const count = integer(env, 'BUILDKITE_PARALLEL_JOB_COUNT', 'Buildkite');
    return { index: id + 1, count, engine: 'Buildkite', source: `Buildkite parallel job ${id}` };
  }
  return undefined;
}

/**
 * The step between a Slurm array's task IDs. Where Slurm sets no SLURM_ARRAY_TASK_STEP, it
 * follows from MIN, MAX and COUNT. An array with gaps (`--array=0,2,3`) has no step: each task
 * could only guess its shard, and the shard nobody guessed would go unrun in silence, so
 * every task refuses it the same way.
 */
function slurmStep(env: Env, min: number, count: number): number {
  const given =
    env.SLURM_ARRAY_TASK_STEP === undefined ? undefined : integer(env, 'SLURM_ARRAY_TASK_STEP', 'Slurm');
  if (env.SLURM_ARRAY_TASK_MAX === undefined || count < 1) return given ?? 1;
  const max = integer(env, 'SLURM_ARRAY_TASK_MAX', 'Slurm');
  const step = given ?? (count > 1 ? (max - min) / (count - 1) : 1);
  if (!Number.isInteger(step) || max - min !== (count - 1) * step) {
    const spacing = Number.isInteger(step) ? `not one every ${step}` : 'not evenly spaced';
    fail(
      () =>
        `the Slurm array from ${min} to ${max} (SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_MAX) has ${count} tasks, ` +
        `${spacing}: an array with gaps cannot be numbered into shards; use --array=<a>-<b> or <a>-<b>:<step>`,
    );
  }
  return step;
}

/** `shard 2/4 (Slurm array task 2)`: the line `--shard auto` prints on stderr. */
export function describeShard(shard: ResolvedShard): string {
  return `shard ${shard.index}/${shard.count} (${shard.source})`;
}
