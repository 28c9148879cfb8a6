import { parseShard, type Shard, type ShardStrategy, shardStrategies } from '../run/shard.js';
import { type Env, resolveShardAuto } from '../run/shard-env.js';
import type { RunOptions } from '../types.js';
import { OptionError } from './names.js';

/** This run's shard of the tree (run/shard.ts), resolved once: `auto` read from the environment. */
export interface ShardSettings extends Shard {
  readonly strategy: ShardStrategy;
  /** `Slurm array task 2`: where `auto` found the shard; undefined when it was given as i/n. */
  readonly source: string | undefined;
}

/** `shard`, `shardStrategy` and `shardCount`, checked; `env` is the process's, passed in for tests. */
export function shardSettings(options: RunOptions, env: Env): ShardSettings | undefined {
  const { shard, shardStrategy, shardCount } = options;
  if (shardStrategy !== undefined && !(shardStrategies as readonly string[]).includes(shardStrategy)) {
    throw new OptionError(
      (n) =>
        `Expected ${n.name('shardStrategy')} to be one of ${shardStrategies.join(', ')}, got ${n.value(shardStrategy)}`,
    );
  }
  if (shardCount !== undefined && (!Number.isSafeInteger(shardCount) || shardCount < 1)) {
    throw new OptionError(
      (n) => `Expected ${n.name('shardCount')} to be an integer >= 1, got ${n.value(shardCount)}`,
    );
  }
  if (shard === undefined) {
    if (shardStrategy !== undefined || shardCount !== undefined) {
      throw new OptionError(
        (n) =>
          `${n.name(shardStrategy !== undefined ? 'shardStrategy' : 'shardCount')} applies to a sharded run: it needs ${n.name('shard')}`,
      );
    }
    return undefined;
  }
  const parsed = parseShard(shard);
  const strategy = shardStrategy ?? 'hash';
  if (parsed === 'auto') {
    const { index, count, source } = resolveShardAuto(env, shardCount);
    return { index, count, strategy, source };
  }
  if (shardCount !== undefined && shardCount !== parsed.count) {
    throw new OptionError(
      (n) => `${n.name('shardCount')} ${shardCount} disagrees with ${n.name('shard')} ${shard}`,
    );
  }
  return { ...parsed, strategy, source: undefined };
}
