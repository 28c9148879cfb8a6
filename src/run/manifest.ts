import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { isNormal } from '../paths.js';

/**
 * The incremental manifest: what a run wrote, so that the next one processes only what
 * changed. On disk, one JSON object; each input is keyed by its path relative to `--cwd` as
 * the glob gives it (a name that is not UTF-8 holds each stray byte as U+DC80 + byte, which
 * JSON keeps as a `\udcXX` escape: the key round-trips to the very bytes, paths.ts):
 *
 * ```json
 * {"globpipe":"incremental","version":1,"cwd":"/real/dist","out":"/real/dist",
 *  "pipeline":"…","savedAt":1764107263000,
 *  "files":{"app.js":[4096,1764107200000.5,"<sha256>",[["app.js.gz",1201,1764107263001.2]]]}}
 * ```
 *
 * An entry is `[size, mtimeMs, content hash, outputs]`, each output `[path relative to
 * --out, size, mtimeMs]` as it was right after globpipe wrote it. An empty hash marks an
 * entry written by another pipeline: its outputs are still globpipe's (for --delete-stale),
 * but its input is processed again.
 */

export const MANIFEST_VERSION = 1;
const MAGIC = 'incremental';

export type OutputRecord = [path: string, size: number, mtimeMs: number];

export interface InputRecord {
  size: number;
  mtimeMs: number;
  /** sha256 of the content the transforms read, base64url; '' when it must be processed again. */
  hash: string;
  outputs: OutputRecord[];
}

export interface Manifest {
  /** Real paths: a manifest made for another tree is not trusted. */
  readonly cwd: string;
  readonly out: string;
  readonly pipeline: string;
  /** When it was last saved (ms since the epoch): an input modified this close to it is hashed again. */
  readonly savedAt: number;
  readonly files: Map<string, InputRecord>;
}

export type LoadedManifest =
  | { readonly manifest: Manifest; readonly notice?: undefined }
  | { readonly manifest: undefined; readonly notice: string | undefined };

/** Content hashes: sha256, base64url (43 characters). */
export function contentHash(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

/** A large file hashed in 1 MiB reads, synchronously: what it holds now. */
export function hashFile(path: string | Buffer): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      hash.update(chunk.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('base64url');
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** An output path a manifest may name: relative and normal, so it can only lie beneath `--out`. */
export function isSafeOutput(path: unknown): path is string {
  return typeof path === 'string' && isNormal(path) && !path.includes('\0') && !path.includes('\\');
}

function parseEntry(value: unknown): InputRecord | undefined {
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [size, mtimeMs, hash, outputs] = value as unknown[];
  if (!isCount(size) || !isCount(mtimeMs) || typeof hash !== 'string' || !Array.isArray(outputs))
    return undefined;
  const records: OutputRecord[] = [];
  for (const output of outputs as unknown[]) {
    if (!Array.isArray(output) || output.length !== 3) return undefined;
    const [path, outSize, outMtime] = output as unknown[];
    if (!isSafeOutput(path) || !isCount(outSize) || !isCount(outMtime)) return undefined;
    records.push([path, outSize, outMtime]);
  }
  return { size, mtimeMs, hash, outputs: records };
}

/**
 * Reads the manifest at `path`, or says why it is not trusted: not valid JSON, another
 * version, made for another `--cwd` or `--out`, or any entry malformed (an output path that
 * is absolute or climbs out with `..` distrusts the whole file: a forged manifest must
 * not steer --delete-stale). A missing file is the first run: no notice.
 */
export function loadManifest(path: string, expected: { cwd: string; out: string }): LoadedManifest {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: undefined, notice: undefined };
    return distrust(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return distrust(path, 'is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || (data as { globpipe?: unknown }).globpipe !== MAGIC)
    return distrust(path, 'is not a globpipe incremental manifest');
  const { version, cwd, out, pipeline, savedAt, files } = data as Record<string, unknown>;
  if (version !== MANIFEST_VERSION)
    return distrust(path, `has version ${JSON.stringify(version)}, not ${MANIFEST_VERSION}`);
  if (cwd !== expected.cwd || out !== expected.out)
    return distrust(
      path,
      `was made for another tree (cwd ${JSON.stringify(cwd)}, out ${JSON.stringify(out)})`,
    );
  if (typeof pipeline !== 'string' || !isCount(savedAt) || typeof files !== 'object' || files === null)
    return distrust(path, 'is malformed');
  const map = new Map<string, InputRecord>();
  for (const [key, value] of Object.entries(files)) {
    const entry = key === '' || key.includes('\0') ? undefined : parseEntry(value);
    if (entry === undefined) return distrust(path, `has a malformed entry for ${JSON.stringify(key)}`);
    map.set(key, entry);
  }
  return { manifest: { cwd, out, pipeline, savedAt, files: map } };
}

function distrust(path: string, why: string): LoadedManifest {
  return {
    manifest: undefined,
    notice: `incremental manifest ${path} ${why}: not trusted, every file is processed`,
  };
}

export function serializeManifest(manifest: Manifest): string {
  const files: Record<string, unknown> = {};
  for (const [key, { size, mtimeMs, hash, outputs }] of manifest.files)
    files[key] = [size, mtimeMs, hash, outputs];
  const { cwd, out, pipeline, savedAt } = manifest;
  return JSON.stringify({ globpipe: MAGIC, version: MANIFEST_VERSION, cwd, out, pipeline, savedAt, files });
}

let saves = 0;

/**
 * Replaces the manifest atomically: a temp beside it, renamed over it, so that a run killed at
 * any moment (kill -9 included) leaves either the old manifest or the new one, never part of
 * one. With `fsync`, the temp is flushed before the rename and the directory after it.
 * Synchronous: it runs at the end of a run and at checkpoints, where nothing else waits.
 */
export function saveManifest(path: string, manifest: Manifest, fsync: boolean): void {
  fs.mkdirSync(dirname(path), { recursive: true });
  saves += 1;
  const temp = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${process.pid}-${saves}.tmp`);
  try {
    fs.writeFileSync(temp, serializeManifest(manifest), { flag: 'wx', mode: 0o644, flush: fsync });
    fs.renameSync(temp, path);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  if (fsync) {
    const fd = fs.openSync(dirname(path), 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
