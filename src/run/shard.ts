import { OptionError } from '../options/names.js';
import { fsPath } from '../paths.js';

/**
 * Which files a shard of a run takes. Every shard globs the whole tree and decides on its
 * own, with no coordinator: the assignment is a pure function of the paths (and sizes).
 */
export type ShardStrategy = 'hash' | 'balanced' | 'size';

export const shardStrategies: readonly ShardStrategy[] = ['hash', 'balanced', 'size'];

/** One shard of `count`, 1-based as in jest and vitest (`--shard 2/4`). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** A file as sharding sees it: its POSIX path relative to cwd, and its size for `size`. */
export interface ShardFile {
  readonly path: string;
  readonly bytes?: number;
}

/** `2/4` -> `{index: 2, count: 4}`; `auto` is left to shard-env.ts. Anything else is a usage error. */
export function parseShard(text: string): Shard | 'auto' {
  if (text.trim() === 'auto') return 'auto';
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) {
    throw new OptionError(
      (n) => `Expected ${n.name('shard')} to be <index>/<count> (e.g. 2/4) or auto, got ${n.value(text)}`,
    );
  }
  const [index, count] = [match[1] as string, match[2] as string];
  // Past 2^53 a number is no longer exact: named as typed, not as the number it rounds to.
  if (!Number.isSafeInteger(Number(count))) {
    throw new OptionError(
      (n) =>
        `${n.name('shard')} ${text}: the shard count must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${count}`,
    );
  }
  return checkShard(Number(index), Number(count), (n) => `${n.name('shard')} ${text}`);
}

/** A shard that exists: count >= 1 and 1 <= index <= count; `what` names where it came from. */
export function checkShard(
  index: number,
  count: number,
  what: ConstructorParameters<typeof OptionError>[0],
): Shard {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new OptionError((n) => `${what(n)}: the shard count must be an integer >= 1, got ${count}`);
  }
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new OptionError((n) => `${what(n)}: the index is 1-based and must be 1 to ${count}, got ${index}`);
  }
  return { index, count };
}

/**
 * FNV-1a 64 of the path's bytes (raw, for a name that is no UTF-8: paths.ts), its top 53
 * bits as a number: the same on every machine and Node version, which is all assignment
 * needs. Plain arithmetic on two 32-bit halves: no BigInt, and no node:crypto to load.
 */
export function pathHash(path: string): number {
  const given = fsPath(path);
  const bytes = typeof given === 'string' ? Buffer.from(given, 'utf8') : given;
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of bytes) {
    lo ^= byte;
    // (hi, lo) * 0x100000001b3 mod 2^64: lo * 0x1b3 carries into hi, and lo << 40 lands in hi.
    const low = (lo >>> 0) * 0x1b3;
    hi = (hi * 0x1b3 + Math.floor(low / 0x100000000) + ((lo << 8) >>> 0)) >>> 0;
    lo = low >>> 0;
  }
  return hi * 0x200000 + (lo >>> 11);
}

/**
 * `hash`: a file's shard depends on its path alone, so it keeps its shard when others are
 * added or removed (per-shard incremental manifests stay valid). Decided as the glob streams.
 */
export function hashShard(path: string, count: number): number {
  return (pathHash(path) % count) + 1;
}

/** The `hash` test for one path, for a filter on a streaming glob. */
export function inHashShard(shard: Shard): (path: string) => boolean {
  return (path) => hashShard(path, shard.count) === shard.index;
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Each file's shard (1-based), in the order given. Needs every file for `balanced` and `size`. */
export function assignShards(files: readonly ShardFile[], count: number, strategy: ShardStrategy): number[] {
  if (strategy === 'hash') return files.map((file) => hashShard(file.path, count));
  return strategy === 'balanced' ? balancedShards(files, count) : sizeShards(files, count);
}

/** The files of `shard`, in the order given. */
export function selectShard<F extends ShardFile>(
  files: readonly F[],
  shard: Shard,
  strategy: ShardStrategy,
): F[] {
  const shards = assignShards(files, shard.count, strategy);
  return files.filter((_, i) => shards[i] === shard.index);
}

/**
 * `balanced`: files sorted by hash (ties by path), cut into contiguous slices of floor(N/n),
 * the first N mod n slices one longer. No shard is empty while there are as many files as shards.
 */
function balancedShards(files: readonly ShardFile[], count: number): number[] {
  const order = files
    .map((file, i) => ({ i, hash: pathHash(file.path), path: file.path }))
    .sort((a, b) => a.hash - b.hash || byPath(a.path, b.path));
  const base = Math.floor(files.length / count);
  const longer = files.length % count;
  const shards: number[] = new Array(files.length);
  let at = 0;
  for (let shard = 1; shard <= count; shard++) {
    const end = at + base + (shard <= longer ? 1 : 0);
    for (; at < end; at++) shards[(order[at] as { i: number }).i] = shard;
  }
  return shards;
}

/**
 * `size`: largest first (ties by path), each into the shard with the fewest bytes so far
 * (ties by the lower index): greedy packing that evens out bytes on heavy-tailed trees.
 * Deterministic for the same paths and sizes; a changed size may move files.
 */
function sizeShards(files: readonly ShardFile[], count: number): number[] {
  const order = files
    .map((file, i) => ({ i, bytes: file.bytes ?? 0, path: file.path }))
    .sort((a, b) => b.bytes - a.bytes || byPath(a.path, b.path));
  const heap = new LightestFirst(count);
  const shards: number[] = new Array(files.length);
  for (const { i, bytes } of order) shards[i] = heap.take(bytes);
  return shards;
}

/** Shards in a binary heap by (bytes, index): the lightest in O(log n), for many shards. */
class LightestFirst {
  readonly #bytes: number[] = [];
  readonly #index: number[] = [];

  constructor(count: number) {
    for (let shard = 1; shard <= count; shard++) {
      this.#bytes.push(0);
      this.#index.push(shard);
    }
  }

  /** Adds `bytes` to the lightest shard and returns that shard. */
  take(bytes: number): number {
    const shard = this.#index[0] as number;
    this.#bytes[0] = (this.#bytes[0] as number) + bytes;
    this.#down(0);
    return shard;
  }

  #less(a: number, b: number): boolean {
    const ba = this.#bytes[a] as number;
    const bb = this.#bytes[b] as number;
    return ba < bb || (ba === bb && (this.#index[a] as number) < (this.#index[b] as number));
  }

  #down(at: number): void {
    const size = this.#bytes.length;
    for (;;) {
      let least = at;
      for (const child of [2 * at + 1, 2 * at + 2])
        if (child < size && this.#less(child, least)) least = child;
      if (least === at) return;
      this.#swap(at, least);
      at = least;
    }
  }

  #swap(a: number, b: number): void {
    [this.#bytes[a], this.#bytes[b]] = [this.#bytes[b] as number, this.#bytes[a] as number];
    [this.#index[a], this.#index[b]] = [this.#index[b] as number, this.#index[a] as number];
  }
}
