import { join } from 'node:path';
import { GlobpipeError } from '../errors.js';
import type { RunManifest } from './run-manifest.js';

/**
 * `globpipe verify-shards`: do the manifests of runs over parts of one tree add up to one run
 * over all of it? Every file the glob finds now is in exactly one manifest, no manifest names a
 * file the glob no longer finds, every output is as its manifest hashed it, and shards `i/n`
 * are all there. Pure but for the two callbacks, so that it is tested on manifests in memory.
 */

export interface LoadedManifest {
  /** The manifest's file, as given: how every message names it. */
  readonly file: string;
  readonly manifest: RunManifest;
}

/** What a glob needs to find again the files one run saw. */
export interface GlobQuery {
  readonly cwd: string;
  readonly glob: readonly string[];
  readonly ignore: readonly string[];
  readonly dot: boolean;
  readonly followSymlinks: boolean;
}

export interface VerifyTree {
  /** The paths (relative to cwd, POSIX) that the glob finds now. */
  glob(query: GlobQuery): Promise<readonly string[]>;
  /** sha256 (hex) of a file as it is now; undefined when it is gone or unreadable. */
  hash(path: string): Promise<string | undefined>;
  /**
   * Why what is at an output's path now is not the regular file a run wrote (`a symlink now`);
   * undefined for a regular file or nothing. Asked before `hash`: a symlink to the same bytes is
   * not the output as written, and a FIFO would never end a read.
   */
  notAFile?(path: string): Promise<string | undefined>;
}

export interface VerifyReport {
  /** Complete and consistent: no missing or unexpected file, overlap, changed output or missing shard. */
  readonly ok: boolean;
  readonly manifests: readonly string[];
  readonly cwd: string;
  /** `i/n` of each manifest, in order (null: a run that was no shard). */
  readonly shards: readonly (string | null)[];
  readonly missingShards: readonly string[];
  /** Merged figures over every manifest. */
  readonly files: number;
  readonly written: number;
  readonly skipped: number;
  readonly failed: number;
  readonly outputs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly failures: readonly {
    readonly path: string;
    readonly manifest: string;
    readonly message: string;
  }[];
  /** Files the glob finds that no manifest names. */
  readonly missing: readonly string[];
  /** Files a manifest names that the glob no longer finds. */
  readonly unexpected: readonly { readonly path: string; readonly manifest: string }[];
  /** Files named by more than one manifest. */
  readonly overlaps: readonly { readonly path: string; readonly manifests: readonly string[] }[];
  /** Outputs (absolute paths) whose content is not what the manifest hashed, or that are gone. */
  readonly changed: readonly { readonly path: string; readonly manifest: string; readonly reason: string }[];
}

const usage = (message: string) => new GlobpipeError('EUSAGE', message);

/** What shards of one run must agree on; runs that are no shards may glob different patterns. */
const AGREED = ['cwd', 'ignore', 'transforms', 'dot', 'followSymlinks'] as const;

/** Throws a usage error naming the first field two manifests disagree on. */
export function checkAgreement(loaded: readonly LoadedManifest[]): void {
  const [first, ...rest] = loaded;
  if (first === undefined) throw usage('verify-shards needs at least one manifest');
  const sharded = loaded.filter(({ manifest }) => manifest.shard !== null);
  if (sharded.length > 0 && sharded.length < loaded.length) {
    const plain = loaded.find(({ manifest }) => manifest.shard === null) as LoadedManifest;
    throw usage(
      `${(sharded[0] as LoadedManifest).file} is shard ${(sharded[0] as LoadedManifest).manifest.shard} and ${plain.file} is no shard: give the manifests of one sharded run`,
    );
  }
  // A dry run's inputs are only planned: among runs that wrote, its files would pass for done.
  const dry = loaded.filter(({ manifest }) => manifest.inputs.some((input) => input.status === 'planned'));
  const wrote = loaded.find((one) => !dry.includes(one));
  if (dry.length > 0 && wrote !== undefined) {
    throw usage(
      `${(dry[0] as LoadedManifest).file} is a dry run (nothing written) and ${wrote.file} is not: give the manifests of runs that wrote`,
    );
  }
  const fields: readonly (keyof RunManifest)[] = sharded.length > 0 ? [...AGREED, 'patterns'] : AGREED;
  for (const other of rest) {
    for (const field of fields) {
      const a = JSON.stringify(first.manifest[field]);
      const b = JSON.stringify(other.manifest[field]);
      if (a !== b)
        throw usage(`the manifests disagree on ${field}: ${first.file} has ${a}, ${other.file} has ${b}`);
    }
  }
  const counts = new Set(sharded.map(({ manifest }) => (manifest.shard as string).split('/')[1]));
  if (counts.size > 1)
    throw usage(
      `the manifests are shards of different counts (${[...counts].map((n) => `of ${n}`).join(', ')}): give those of one run`,
    );
}

/** Shards `i/n` not among the manifests' (1-based); none when no manifest is a shard. */
export function missingShards(shards: readonly (string | null)[]): string[] {
  const given = shards.filter((shard): shard is string => shard !== null);
  const first = given[0];
  if (first === undefined) return [];
  const count = Number(first.split('/')[1]);
  const have = new Set(given.map((shard) => Number(shard.split('/')[0])));
  const missing: string[] = [];
  for (let index = 1; index <= count; index += 1) if (!have.has(index)) missing.push(`${index}/${count}`);
  return missing;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function verifyShards(
  loaded: readonly LoadedManifest[],
  tree: VerifyTree,
): Promise<VerifyReport> {
  checkAgreement(loaded);
  const { cwd } = (loaded[0] as LoadedManifest).manifest;

  // Each distinct glob once; every manifest's ignores apply to all, so that no run's own
  // manifest inside cwd is taken for a file that nobody processed.
  const ignore = [...new Set(loaded.flatMap(({ manifest }) => manifest.globIgnore))];
  const globs = new Map<string, RunManifest>();
  for (const { manifest } of loaded) globs.set(JSON.stringify(manifest.glob), manifest);
  const expected = new Set<string>();
  for (const manifest of globs.values()) {
    const { glob, dot, followSymlinks } = manifest;
    for (const path of await tree.glob({ cwd, glob, ignore, dot, followSymlinks })) expected.add(path);
  }

  const owners = new Map<string, string[]>();
  const failures: { path: string; manifest: string; message: string }[] = [];
  const changed: { path: string; manifest: string; reason: string }[] = [];
  let written = 0;
  let skipped = 0;
  let outputs = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  for (const { file, manifest } of loaded) {
    for (const input of manifest.inputs) {
      const seen = owners.get(input.path);
      if (seen === undefined) owners.set(input.path, [file]);
      else seen.push(file);
      bytesIn += input.bytesIn;
      bytesOut += input.bytesOut;
      if (input.status === 'written') written += 1;
      if (input.status === 'skipped') skipped += 1;
      if (input.status === 'failed')
        failures.push({ path: input.path, manifest: file, message: input.error?.message ?? 'failed' });
      if (input.status !== 'written') continue;
      for (const output of input.outputs) {
        outputs += 1;
        const path = join(manifest.out, output.path);
        if (output.sha256 === null) {
          changed.push({ path, manifest: file, reason: 'could not be read back after the run' });
          continue;
        }
        const odd = await tree.notAFile?.(path);
        if (odd !== undefined) {
          changed.push({ path, manifest: file, reason: odd });
          continue;
        }
        const now = await tree.hash(path);
        if (now === undefined) changed.push({ path, manifest: file, reason: 'gone' });
        else if (now !== output.sha256) changed.push({ path, manifest: file, reason: 'content changed' });
      }
    }
  }

  const missing = [...expected].filter((path) => !owners.has(path)).sort(byPath);
  const unexpected = [...owners]
    .filter(([path]) => !expected.has(path))
    .map(([path, files]) => ({ path, manifest: files[0] as string }))
    .sort((a, b) => byPath(a.path, b.path));
  const overlaps = [...owners]
    .filter(([, files]) => files.length > 1)
    .map(([path, manifests]) => ({ path, manifests }))
    .sort((a, b) => byPath(a.path, b.path));
  const shards = loaded.map(({ manifest }) => manifest.shard);
  const absent = missingShards(shards);
  return {
    ok:
      missing.length === 0 &&
      unexpected.length === 0 &&
      overlaps.length === 0 &&
      changed.length === 0 &&
      absent.length === 0 &&
      failures.length === 0,
    manifests: loaded.map(({ file }) => file),
    cwd,
    shards,
    missingShards: absent,
    files: owners.size,
    written,
    skipped,
    failed: failures.length,
    outputs,
    bytesIn,
    bytesOut,
    failures,
    missing,
    unexpected,
    overlaps,
    changed,
  };
}
