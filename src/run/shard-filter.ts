import { lstat } from 'node:fs/promises';
import type { DiscoverHooks, Entry } from '../discover.js';
import type { ShardSettings } from '../options/shard-options.js';
import { fsPath } from '../paths.js';
import { assignShards, inHashShard, type ShardFile } from './shard.js';

/** Sizes are looked up this many at a time for `size`: a bound, never one lstat per file at once. */
const LSTATS_IN_FLIGHT = 64;

/**
 * The glob less the other shards' matches. Hooks (matches counted, files skipped) and chunks
 * alike see only this shard's files: another shard's file is no match here, not a skip, so
 * `matched` counts this shard's files and the shards' summaries add up to the whole.
 *
 * `hash` decides each match as the glob streams. `balanced` and `size` need every match
 * first (and `size` every size): they collect the glob, then replay this shard's matches.
 */
export function sharded(
  shard: ShardSettings,
  hooks: DiscoverHooks,
  walk: (hooks: DiscoverHooks) => AsyncGenerator<Entry[]>,
): AsyncGenerator<Entry[]> {
  return shard.strategy === 'hash' ? byHash(shard, hooks, walk) : whole(shard, hooks, walk);
}

async function* byHash(
  shard: ShardSettings,
  hooks: DiscoverHooks,
  walk: (hooks: DiscoverHooks) => AsyncGenerator<Entry[]>,
): AsyncGenerator<Entry[]> {
  const mine = inHashShard(shard);
  const chunks = walk({
    ...hooks,
    onMatch: (entry) => mine(entry.path) && hooks.onMatch(entry),
    onSkip: (entry, reason) => mine(entry.path) && hooks.onSkip(entry, reason),
  });
  for await (const chunk of chunks) {
    const kept = chunk.filter((entry) => mine(entry.path));
    if (kept.length > 0) yield kept;
  }
}

async function* whole(
  shard: ShardSettings,
  hooks: DiscoverHooks,
  walk: (hooks: DiscoverHooks) => AsyncGenerator<Entry[]>,
): AsyncGenerator<Entry[]> {
  const matched: Entry[] = [];
  const skips = new Map<Entry, string>();
  const chunks = walk({
    ...hooks,
    onMatch: (entry) => matched.push(entry),
    onSkip: (entry, reason) => skips.set(entry, reason),
    onEnd: () => {},
  });
  const files = new Set<Entry>();
  for await (const chunk of chunks) for (const entry of chunk) files.add(entry);
  const sizes = shard.strategy === 'size' ? await sizesOf(matched) : undefined;
  const shards = assignShards(
    matched.map((entry, i): ShardFile => ({ path: entry.path, bytes: sizes?.[i] })),
    shard.count,
    shard.strategy,
  );
  const kept: Entry[] = [];
  matched.forEach((entry, i) => {
    if (shards[i] !== shard.index) return;
    hooks.onMatch(entry);
    const reason = skips.get(entry);
    if (reason !== undefined) hooks.onSkip(entry, reason);
    else if (files.has(entry)) kept.push(entry);
  });
  hooks.onEnd();
  if (kept.length > 0) yield kept;
}

/** Each match's size from lstat (a symlink's own, as the glob saw it); 0 for one gone since. */
async function sizesOf(entries: readonly Entry[]): Promise<number[]> {
  const sizes: number[] = new Array(entries.length).fill(0);
  for (let at = 0; at < entries.length; at += LSTATS_IN_FLIGHT) {
    const slice = entries.slice(at, at + LSTATS_IN_FLIGHT);
    const stats = await Promise.all(
      slice.map((entry) => lstat(fsPath(entry.absolutePath)).catch(() => undefined)),
    );
    stats.forEach((stat, i) => {
      sizes[at + i] = stat?.size ?? 0;
    });
  }
  return sizes;
}
