import { describe, expect, it } from 'vitest';
import { GlobpipeError } from '../../src/errors.js';
import { flagNames, OptionError } from '../../src/options/names.js';
import {
  assignShards,
  hashShard,
  inHashShard,
  parseShard,
  pathHash,
  type ShardFile,
  type ShardStrategy,
  selectShard,
} from '../../src/run/shard.js';

/** `count` paths spread over a few directories, as a tree would name them. */
function paths(count: number, from = 0): string[] {
  return Array.from(
    { length: count },
    (_, i) => `dir${(from + i) % 17}/sub${(from + i) % 5}/file-${from + i}.txt`,
  );
}

/** A seeded generator (mulberry32): the same heavy-tailed set on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function counts(shards: number[], count: number): number[] {
  const sizes = new Array<number>(count).fill(0);
  for (const shard of shards) sizes[shard - 1] = (sizes[shard - 1] as number) + 1;
  return sizes;
}

describe('parseShard', () => {
  it('reads <index>/<count>, 1-based, and auto', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('4/4')).toEqual({ index: 4, count: 4 });
    expect(parseShard('auto')).toBe('auto');
  });

  it.each([
    ['0/3', '--shard 0/3: the index is 1-based and must be 1 to 3, got 0'],
    ['4/3', '--shard 4/3: the index is 1-based and must be 1 to 3, got 4'],
    ['1/0', '--shard 1/0: the shard count must be an integer >= 1, got 0'],
    ['a/b', "Expected --shard to be <index>/<count> (e.g. 2/4) or auto, got 'a/b'"],
    ['2', "Expected --shard to be <index>/<count> (e.g. 2/4) or auto, got '2'"],
    ['-1/3', "Expected --shard to be <index>/<count> (e.g. 2/4) or auto, got '-1/3'"],
  ])('%s is a usage error naming the flag', (text, message) => {
    let thrown: unknown;
    try {
      parseShard(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OptionError);
    const shown = (thrown as OptionError).in(flagNames);
    expect(shown).toBeInstanceOf(GlobpipeError);
    expect(shown.code).toBe('EUSAGE');
    expect(shown.message).toBe(message);
    expect((thrown as OptionError).message).toContain('`shard`');
  });
});

describe('hash', () => {
  it('moves no existing file when 1% more files are added', () => {
    for (const count of [2, 4, 7]) {
      const before = paths(2000);
      const after = [...before, ...paths(20, 2000)];
      const first = assignShards(
        before.map((path) => ({ path })),
        count,
        'hash',
      );
      const second = assignShards(
        after.map((path) => ({ path })),
        count,
        'hash',
      );
      expect(second.slice(0, before.length)).toEqual(first);
    }
  });

  it('keeps shard sizes within 10% of even at 2,000 files over 4 shards', () => {
    const sizes = counts(
      assignShards(
        paths(2000).map((path) => ({ path })),
        4,
        'hash',
      ),
      4,
    );
    for (const size of sizes) expect(Math.abs(size - 500)).toBeLessThanOrEqual(50);
    expect(sizes.reduce((a, b) => a + b)).toBe(2000);
  });

  it('gives the predicate the same answer as the assignment', () => {
    const all = paths(300);
    const shards = assignShards(
      all.map((path) => ({ path })),
      3,
      'hash',
    );
    for (let index = 1; index <= 3; index++) {
      const take = inHashShard({ index, count: 3 });
      expect(all.filter(take)).toEqual(all.filter((_, i) => shards[i] === index));
    }
  });

  it('hashes the path bytes with FNV-1a 64: known values stay put', () => {
    // Pinned: a change here would move every file of every existing sharded run.
    // FNV-1a 64's published vectors (`a`, `foobar`), top 53 bits.
    expect(pathHash('a')).toBe(Number(0xaf63dc4c8601ec8cn >> 11n));
    expect(pathHash('foobar')).toBe(Number(0x85944171f73967e8n >> 11n));
    expect([hashShard('a.txt', 4), hashShard('dir/b.txt', 4), hashShard('é/ü.txt', 4)]).toEqual([4, 4, 1]);
    expect(hashShard('é/ü.txt', 1000003)).toBe(517700);
    expect(hashShard('a.txt', 1)).toBe(1);
  });
});

describe('balanced', () => {
  it.each([
    [5, 5],
    [7, 3],
    [3, 3],
    [10, 4],
    [2000, 7],
  ])('%i files over %i shards: floor plus remainder, none empty', (files, count) => {
    const sizes = counts(
      assignShards(
        paths(files).map((path) => ({ path })),
        count,
        'balanced',
      ),
      count,
    );
    const base = Math.floor(files / count);
    expect(sizes).toEqual(sizes.map((_, i) => base + (i < files % count ? 1 : 0)));
    expect(Math.min(...sizes)).toBeGreaterThan(0);
  });

  it('leaves shards empty only when there are fewer files than shards', () => {
    expect(
      counts(
        assignShards(
          paths(2).map((path) => ({ path })),
          3,
          'balanced',
        ),
        3,
      ),
    ).toEqual([1, 1, 0]);
  });
});

describe('size', () => {
  it('keeps bytes per shard within 10% of even on a heavy-tailed (Pareto) set', () => {
    const random = seeded(14);
    // Pareto, alpha 1.2, minimum 1 KiB: a few files hold much of the bytes.
    const files: ShardFile[] = paths(2000).map((path) => ({
      path,
      bytes: Math.floor(1024 / (1 - random()) ** (1 / 1.2)),
    }));
    const total = files.reduce((sum, file) => sum + (file.bytes ?? 0), 0);
    const largest = Math.max(...files.map((file) => file.bytes ?? 0));
    // The set is heavy-tailed indeed, yet no single file exceeds an even share.
    expect(largest).toBeGreaterThan(total / 100);
    expect(largest).toBeLessThan(total / 4);
    for (const count of [4, 8]) {
      const shards = assignShards(files, count, 'size');
      const bytes = new Array<number>(count).fill(0);
      shards.forEach((shard, i) => {
        bytes[shard - 1] = (bytes[shard - 1] as number) + ((files[i] as ShardFile).bytes ?? 0);
      });
      for (const sum of bytes)
        expect(Math.abs(sum - total / count)).toBeLessThanOrEqual((total / count) * 0.1);
    }
  });

  it('breaks ties by path, not by the order given', () => {
    const files = paths(40).map((path) => ({ path, bytes: 100 }));
    const reversed = [...files].reverse();
    const forward = new Map(files.map((file, i) => [file.path, assignShards(files, 3, 'size')[i]]));
    const backward = assignShards(reversed, 3, 'size');
    reversed.forEach((file, i) => {
      expect(backward[i]).toBe(forward.get(file.path));
    });
  });
});

describe.each<ShardStrategy>(['hash', 'balanced', 'size'])('%s', (strategy) => {
  const random = seeded(7);
  const files = paths(500).map((path) => ({ path, bytes: Math.floor(random() * 10_000) }));

  it('is deterministic, whatever order the glob gave', () => {
    const once = assignShards(files, 4, strategy);
    expect(assignShards(files, 4, strategy)).toEqual(once);
    const shuffled = [...files].sort((a, b) => (a.bytes ?? 0) - (b.bytes ?? 0));
    const byPath = new Map(files.map((file, i) => [file.path, once[i]]));
    assignShards(shuffled, 4, strategy).forEach((shard, i) => {
      expect(shard).toBe(byPath.get((shuffled[i] as ShardFile).path));
    });
  });

  it('puts every file in exactly one shard: the union of the shards is the whole', () => {
    const selected = [1, 2, 3, 4].flatMap((index) => selectShard(files, { index, count: 4 }, strategy));
    expect(selected.length).toBe(files.length);
    expect(new Set(selected.map((file) => file.path))).toEqual(new Set(files.map((file) => file.path)));
  });
});
