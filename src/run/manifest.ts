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
 *  "files":{"app.js":"4096 1764107200000.5 q3YbJ0tG7Rj5y2y0m2b8xQ 1201 1764107263001.2 3 +.gz"}}
 * ```
 *
 * An entry is one string: the input's size, mtimeMs and content hash, then for each output its
 * size and mtimeMs as they were right after globpipe wrote it, and its path relative to --out
 * with its length first (so that a name may hold spaces): `+.gz` for the input's own path plus
 * `.gz`, `=other/path` otherwise. Strings, because JSON.parse reads 20,000 of them about four
 * times faster than as many arrays of numbers and strings, and a rerun parses every one. A
 * hash of `-` marks an entry of another pipeline: its outputs are still globpipe's (for
 * --delete-stale), but its input is processed again.
 */

export const MANIFEST_VERSION = 1;
const MAGIC = 'incremental';

export type OutputRecord = readonly [path: string, size: number, mtimeMs: number];

export interface InputRecord {
  readonly size: number;
  readonly mtimeMs: number;
  /** sha256 of the content the transforms read, 128 bits in base64url; `-`: process it again. */
  readonly hash: string;
  readonly outputs: readonly OutputRecord[];
}

/** The hash of an entry written by another pipeline. */
export const STALE_HASH = '-';

export interface Manifest {
  /** Real paths: a manifest made for another tree is not trusted. */
  readonly cwd: string;
  readonly out: string;
  readonly pipeline: string;
  /** When it was last saved (ms since the epoch): an input modified this close to it is hashed again. */
  readonly savedAt: number;
  /**
   * The entries as parsed, with no prototype (an input named `constructor` is no entry), each
   * checked when it is used (entryOf): a rerun of 20,000 files then parses its manifest once and
   * builds nothing more.
   */
  readonly files: Record<string, unknown>;
}

export type LoadedManifest =
  | { readonly manifest: Manifest; readonly notice?: undefined }
  | { readonly manifest: undefined; readonly notice: string | undefined };

/** Content hashes: sha256 cut to 128 bits, base64url (22 characters): it tells versions of a file apart. */
export function contentHash(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url').slice(0, 22);
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
  return hash.digest('base64url').slice(0, 22);
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** An output path a manifest may name: relative and normal, so it can only lie beneath `--out`. */
export function isSafeOutput(path: unknown): path is string {
  return typeof path === 'string' && isNormal(path) && !path.includes('\0') && !path.includes('\\');
}

/** An entry as its string (see the top of this file). */
export function formatEntry(input: string, record: InputRecord): string {
  let text = `${record.size} ${record.mtimeMs} ${record.hash}`;
  for (const [path, size, mtimeMs] of record.outputs) {
    const spec =
      path.startsWith(input) && path.length > input.length ? `+${path.slice(input.length)}` : `=${path}`;
    text += ` ${size} ${mtimeMs} ${spec.length} ${spec}`;
  }
  return text;
}

/**
 * The entry for `input`, if there is one and it is well-formed; `null` when it is malformed
 * (corrupt, or forged: an output path that is absolute or climbs out with `..`).
 */
export function entryOf(files: Record<string, unknown>, input: string): InputRecord | undefined | null {
  const text = files[input];
  if (text === undefined) return undefined;
  if (typeof text !== 'string') return null;
  // Hand-rolled: a rerun reads one entry per input, 20,000 of them, and nothing else.
  const first = text.indexOf(' ');
  const second = text.indexOf(' ', first + 1);
  if (first <= 0 || second < 0) return null;
  const size = countOf(text, 0, first);
  const mtimeMs = countOf(text, first + 1, second);
  let end = text.indexOf(' ', second + 1);
  if (end < 0) end = text.length;
  const hash = text.slice(second + 1, end);
  if (Number.isNaN(size) || Number.isNaN(mtimeMs) || hash === '') return null;
  const outputs: OutputRecord[] = [];
  let at = end + 1;
  while (at < text.length) {
    const a = text.indexOf(' ', at);
    const b = a < 0 ? -1 : text.indexOf(' ', a + 1);
    const c = b < 0 ? -1 : text.indexOf(' ', b + 1);
    if (c < 0) return null;
    const outSize = countOf(text, at, a);
    const outMtime = countOf(text, a + 1, b);
    const length = countOf(text, b + 1, c);
    const spec = text.slice(c + 1, c + 1 + length);
    at = c + 1 + length;
    if (
      Number.isNaN(outSize) ||
      Number.isNaN(outMtime) ||
      !Number.isInteger(length) ||
      spec.length !== length
    )
      return null;
    if (at < text.length && text.charCodeAt(at) !== 0x20) return null;
    at += 1;
    const path = spec[0] === '+' ? input + spec.slice(1) : spec[0] === '=' ? spec.slice(1) : undefined;
    if (!isSafeOutput(path)) return null;
    outputs.push([path, outSize, outMtime]);
  }
  return { size, mtimeMs, hash, outputs };
}

/** The count in text[from, to): a finite number >= 0, else NaN. */
function countOf(text: string, from: number, to: number): number {
  if (to <= from) return Number.NaN;
  const value = Number(text.slice(from, to));
  return value >= 0 && value !== Number.POSITIVE_INFINITY ? value : Number.NaN;
}

/**
 * Reads the manifest at `path`, or says why it is not trusted: not valid JSON, another
 * version, made for another `--cwd` or `--out`. Entries are checked as they are used
 * (entryOf): a malformed one, such as an output path that is absolute or climbs out with
 * `..`, is never trusted. A missing file is the first run: no notice.
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
  if (
    typeof pipeline !== 'string' ||
    !isCount(savedAt) ||
    typeof files !== 'object' ||
    files === null ||
    Array.isArray(files)
  )
    return distrust(path, 'is malformed');
  Object.setPrototypeOf(files, null);
  return { manifest: { cwd, out, pipeline, savedAt, files: files as Record<string, unknown> } };
}

function distrust(path: string, why: string): LoadedManifest {
  return {
    manifest: undefined,
    notice: `incremental manifest ${path} ${why}: not trusted, every file is processed`,
  };
}

export function serializeManifest(manifest: Manifest): string {
  const { cwd, out, pipeline, savedAt, files } = manifest;
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
