import { describe, expect, it } from 'vitest';
import { flagNames, OptionError } from '../../src/options/names.js';
import { parseShard } from '../../src/run/shard.js';
import { type Env, resolveShardAuto } from '../../src/run/shard-env.js';

/** The usage error as the command line shows it, or the shard when there is none. */
function outcome(resolve: () => unknown): string {
  try {
    return JSON.stringify(resolve());
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return (error as OptionError).in(flagNames).message;
  }
}

/** Every task of a Slurm array: what `--shard auto` makes of each (the other variables as Slurm sets them). */
function array(ids: readonly number[], step?: number): string[] {
  const min = Math.min(...ids);
  const max = Math.max(...ids);
  return ids.map((id) => {
    const env: Env = {
      SLURM_ARRAY_TASK_ID: String(id),
      SLURM_ARRAY_TASK_MIN: String(min),
      SLURM_ARRAY_TASK_MAX: String(max),
      SLURM_ARRAY_TASK_COUNT: String(ids.length),
      ...(step === undefined ? {} : { SLURM_ARRAY_TASK_STEP: String(step) }),
    };
    return outcome(() => {
      const { index, count } = resolveShardAuto(env);
      return `${index}/${count}`;
    });
  });
}

describe('--shard auto on Slurm arrays, task by task', () => {
  it('numbers a stepped array (--array=0-12:4) 1 to n', () => {
    expect(array([0, 4, 8, 12], 4)).toEqual(['"1/4"', '"2/4"', '"3/4"', '"4/4"']);
  });

  it('numbers a stepped array whose Slurm sets no SLURM_ARRAY_TASK_STEP, from MIN, MAX and COUNT', () => {
    expect(array([0, 4, 8, 12])).toEqual(['"1/4"', '"2/4"', '"3/4"', '"4/4"']);
  });

  it('refuses, in every task, an array with gaps (--array=0,2,3): no shard is left unrun in silence', () => {
    const results = array([0, 2, 3], 1);
    for (const result of results) {
      expect(result).toBe(
        '--shard auto: the Slurm array from 0 to 3 (SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_MAX) has 3 tasks, ' +
          'not one every 1: an array with gaps cannot be numbered into shards; use --array=<a>-<b> or <a>-<b>:<step>',
      );
    }
  });

  it('refuses an uneven array without SLURM_ARRAY_TASK_STEP in every task too', () => {
    for (const result of array([0, 1, 5])) expect(result).toContain('an array with gaps');
  });

  it('takes a one-task array', () => {
    expect(array([7], 1)).toEqual(['"1/1"']);
    expect(array([7])).toEqual(['"1/1"']);
  });
});

describe('--shard i/n as typed', () => {
  it('names a count too large to be exact as too large, as typed', () => {
    expect(outcome(() => parseShard('1/99999999999999999999'))).toBe(
      '--shard 1/99999999999999999999: the shard count must be an integer from 1 to 9007199254740991, got 99999999999999999999',
    );
  });

  it('takes auto with the same blanks around it as i/n', () => {
    expect(parseShard(' 1/4 ')).toEqual({ index: 1, count: 4 });
    expect(parseShard(' auto ')).toBe('auto');
  });
});
