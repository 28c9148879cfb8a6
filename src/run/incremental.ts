import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, type Stats, statSync } from 'node:fs';
import { sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Entry } from '../discover.js';
import type { FileMeta, IoPort } from '../io/port.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { fsPath } from '../paths.js';
import type { FileResult, IncrementalReport } from '../types.js';
import { checkManifestPlace, manifestPath, pipelineHash } from './incremental-setup.js';
import type { Fields } from './job.js';
import {
  contentHash,
  entryOf,
  formatEntry,
  hashFile,
  type InputRecord,
  loadManifest,
  type Manifest,
  type OutputRecord,
  STALE_HASH,
  saveManifest,
} from './manifest.js';
import { asWritten, removeEmptiedDirs, removeOutputs } from './stale-outputs.js';

export const UNCHANGED = 'unchanged since the last run';
/** A run of many files saves its manifest this often, so that kill -9 loses at most this much work. */
const CHECKPOINT_MS = 5000;
/**
 * An input modified this close to the manifest's save may have changed again within one tick of
 * the file system's clock (same size, same mtime): its content is compared instead (git's racy check).
 */
const RACY_MS = 2000;

const stat = (path: string, follow: boolean): Stats | undefined => {
  const target = fsPath(path);
  return follow ? statSync(target, { throwIfNoEntry: false }) : lstatSync(target, { throwIfNoEntry: false });
};

/**
 * One incremental run: decides for each match whether it must be processed (synchronously,
 * from stats alone when nothing changed: the hot path of a rerun), records what each file
 * read and wrote, removes stale outputs, and keeps the manifest saved.
 */
export class Incremental {
  readonly path: string;
  readonly #settings: Settings;
  readonly #outBase: string;
  readonly #cwdBase: string;
  #manifest: Manifest;
  #dirty = false;
  /** Inputs the glob matched: kept with --delete-stale only, which needs them. */
  readonly #seen: Set<string> | undefined;
  /** Entries found malformed, not trusted. */
  #malformed = 0;
  /** What the transforms of each file in flight read: its size, mtime and content hash. */
  readonly #reads = new Map<string, { size: number; mtimeMs: number; hash: string }>();
  readonly #notices: string[] = [];
  readonly #removed: string[] = [];
  readonly #kept: { path: string; reason: string }[] = [];
  #unchanged = 0;
  /** Called once, at the first match that must be processed. */
  onChange: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(settings: Settings, path: string, manifest: Manifest) {
    this.#settings = settings;
    this.path = path;
    this.#manifest = manifest;
    this.#outBase = settings.out.endsWith(sep) ? settings.out : settings.out + sep;
    this.#cwdBase = settings.cwd.endsWith(sep) ? settings.cwd : settings.cwd + sep;
    this.#seen = settings.deleteStale ? new Set() : undefined;
  }

  /** Finds and loads the manifest (a usage error when it has no place), before anything is written. */
  static open(settings: Settings, site: Site): Incremental {
    const path = manifestPath(settings, site);
    if (!settings.dryRun && !settings.discard) checkManifestPlace(path, settings);
    const pipeline = pipelineHash(settings);
    const loaded = loadManifest(path, { cwd: site.realCwd, out: site.realOut });
    const files = loaded.manifest?.files ?? (Object.create(null) as Record<string, unknown>);
    const manifest: Manifest = {
      cwd: site.realCwd,
      out: site.realOut,
      pipeline,
      savedAt: loaded.manifest?.savedAt ?? 0,
      files,
    };
    const run = new Incremental(settings, path, manifest);
    if (loaded.notice !== undefined) run.#notices.push(loaded.notice);
    if (loaded.manifest !== undefined && loaded.manifest.pipeline !== pipeline) {
      // Outputs of the old pipeline are still globpipe's (--delete-stale), but none is current.
      for (const input of Object.keys(files)) {
        const record = entryOf(files, input);
        if (record) files[input] = formatEntry(input, { ...record, hash: STALE_HASH });
      }
      run.#dirty = true;
      if (Object.keys(files).length > 0)
        run.#notices.push('the pipeline changed since the last run: every file is processed');
    }
    if (!settings.dryRun && !settings.discard) {
      run.#timer = setInterval(() => run.checkpoint(), CHECKPOINT_MS);
      run.#timer.unref();
    }
    return run;
  }

  /**
   * Why `entry` need not be processed (its skip), or undefined: it is new, its content changed,
   * or one of its outputs is missing or was changed by someone else. Same size and mtime: never
   * read; same size, other mtime: its content is hashed, and an equal one only updates the mtime.
   */
  decide(entry: Entry): Fields | undefined {
    // A symlink the run does not follow is no input file: one now where a file was, it is gone.
    if (entry.kind !== 'symlink') this.#seen?.add(entry.path);
    const skip = this.#decide(entry);
    if (skip === undefined && this.onChange !== undefined) {
      this.onChange();
      this.onChange = undefined;
    }
    return skip;
  }

  #decide(entry: Entry): Fields | undefined {
    // --delete-original removed every input it processed: one here again (the same bytes put
    // back) is processed, so that it is removed too, not left as unchanged.
    if (entry.kind !== 'file' || this.#settings.deleteOriginal) return undefined;
    const record = entryOf(this.#manifest.files, entry.path);
    if (record === null) this.#malformed += 1;
    if (!record || record.hash === STALE_HASH) return undefined;
    const { size, mtimeMs, hash, outputs } = record;
    // The glob's dirent said a regular file; a followed link is stat'ed through.
    const now = stat(entry.absolutePath, this.#settings.followSymlinks);
    if (now === undefined || !now.isFile() || now.size !== size) return undefined;
    if (now.mtimeMs !== mtimeMs || mtimeMs + RACY_MS >= this.#manifest.savedAt) {
      try {
        if (hashFile(fsPath(entry.absolutePath)) !== hash) return undefined;
      } catch {
        return undefined;
      }
      // Saved now, the entry is no longer racy: the next run trusts its stat again.
      if (now.mtimeMs !== mtimeMs || mtimeMs + RACY_MS < Date.now()) this.#dirty = true;
      this.#manifest.files[entry.path] = formatEntry(entry.path, { ...record, mtimeMs: now.mtimeMs });
    }
    const paths: string[] = [];
    for (const [path, outSize, outMtime] of outputs) {
      const output = stat(this.#outBase + path, false);
      if (output === undefined || !output.isFile() || output.size !== outSize || output.mtimeMs !== outMtime)
        return undefined;
      paths.push(path);
    }
    this.#unchanged += 1;
    return { outputs: paths, status: 'skipped', bytesIn: 0, bytesOut: 0, reason: UNCHANGED };
  }

  /** The content a file's transforms read (whole), with the size and mtime of the open file. */
  read(path: string, meta: FileMeta, data: Uint8Array): void {
    this.#reads.set(path, { size: meta.size, mtimeMs: meta.mtimeMs, hash: contentHash(data) });
  }

  /**
   * A streamed file, once its outputs are complete and its input found unchanged (stream.ts
   * checks size, mtime and bytes read): hashed by a second read, from the page cache.
   */
  async readLarge(entry: Entry, meta: FileMeta): Promise<void> {
    const hash = createHash('sha256');
    try {
      await pipeline(createReadStream(fsPath(entry.absolutePath)), hash);
    } catch {
      return; // Not recorded: the next run processes it again.
    }
    const digest = hash.digest('base64url').slice(0, 22);
    this.#reads.set(entry.path, { size: meta.size, mtimeMs: meta.mtimeMs, hash: digest });
  }

  /** Records a file's outcome: written (with each output's size and mtime now), or forgotten. */
  settle(result: FileResult): void {
    const read = this.#reads.get(result.input);
    this.#reads.delete(result.input);
    if (result.status === 'planned' || result.status === 'discarded') return;
    if (result.status === 'skipped' && read === undefined) return;
    this.#dirty = true;
    const files = this.#manifest.files;
    const before = entryOf(files, result.input) ?? undefined;
    // Outputs written before (by this pipeline or another, --ext .md then --ext .html) and still
    // as globpipe left them stay recorded: --delete-stale removes them once the input goes.
    const earlier = (keep: readonly string[]): OutputRecord[] =>
      (before?.outputs ?? []).filter((o) => !keep.includes(o[0]) && asWritten(this.#outBase, o));
    if (result.status === 'failed' || read === undefined) {
      // Processed again next time; what it wrote before is still globpipe's.
      const outputs = earlier([]);
      if (outputs.length === 0) delete files[result.input];
      else
        files[result.input] = formatEntry(result.input, { size: 0, mtimeMs: 0, hash: STALE_HASH, outputs });
      return;
    }
    // Skipped by its transform after the read (SkipFile): unchanged, it is skipped again.
    const outputs: OutputRecord[] = [];
    if (result.status === 'written') {
      for (const path of result.outputs) {
        const now = stat(this.#outBase + path, false);
        if (now === undefined) {
          delete files[result.input];
          return;
        }
        outputs.push([path, now.size, now.mtimeMs]);
      }
    }
    files[result.input] = formatEntry(result.input, {
      ...read,
      outputs: [...outputs, ...earlier(result.outputs)],
    });
  }

  /** Saves what is known so far (every few seconds of a long run): kill -9 then loses little. */
  checkpoint(): void {
    if (!this.#dirty) return;
    try {
      this.#save();
    } catch {
      // The next checkpoint, or the end of the run, tries again.
    }
  }

  #save(): void {
    this.#manifest = { ...this.#manifest, savedAt: Date.now() };
    saveManifest(this.path, this.#manifest, this.#settings.fsync);
    this.#dirty = false;
  }

  /**
   * The end of the run: once the glob saw the whole tree, inputs it did not see that lstat says
   * are gone have their outputs removed (--delete-stale), then the manifest is saved. An
   * interrupted or failed glob proves nothing gone.
   */
  async finish(port: IoPort, complete: boolean): Promise<void> {
    this.close();
    if (this.#malformed > 0)
      this.#notices.push(
        `the incremental manifest had ${this.#malformed} malformed entries, not trusted: those files were processed`,
      );
    if (this.#settings.dryRun || this.#settings.discard) return;
    const seen = this.#seen;
    if (complete && seen !== undefined) await this.#deleteStale(seen, port);
    if (!this.#dirty) return;
    try {
      this.#save();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      this.#notices.push(
        `incremental manifest ${this.path} cannot be saved (${code}): the next run processes these files again`,
      );
    }
  }

  /**
   * Inputs the manifest names that the glob did not see and lstat says are gone: their outputs
   * go, then their entries. A malformed entry among them (an output path absolute or with `..`:
   * forged) distrusts the manifest for removals: nothing is removed.
   */
  async #deleteStale(seen: ReadonlySet<string>, port: IoPort): Promise<void> {
    const files = this.#manifest.files;
    const gone: [string, InputRecord][] = [];
    for (const input of Object.keys(files)) {
      if (seen.has(input)) continue;
      // A directory now at the input's path (f.txt replaced by f.txt/x), or a symlink the run
      // did not take as a file (not followed, or dangling): the file is gone.
      const now = stat(this.#cwdBase + input, false);
      if (now !== undefined && !now.isDirectory() && !now.isSymbolicLink()) continue;
      const record = entryOf(files, input);
      if (!record) {
        this.#notices.push(
          `the incremental manifest has a malformed entry for ${JSON.stringify(input)}: not trusted, no stale output removed`,
        );
        delete files[input];
        this.#dirty = true;
        return;
      }
      gone.push([input, record]);
    }
    if (gone.length === 0) return;
    for (const [input] of gone) delete files[input];
    this.#dirty = true;
    // An output another input now writes (a.js gone, a.ts new, both to a.out) is that input's.
    const current = new Set<string>();
    for (const input of Object.keys(files))
      for (const [path] of entryOf(files, input)?.outputs ?? []) current.add(path);
    const before = this.#removed.length;
    for (const [, record] of gone)
      await removeOutputs(
        record.outputs.filter(([path]) => !current.has(path)),
        { outBase: this.#outBase, out: this.#settings.out, port },
        { removed: this.#removed, kept: this.#kept },
      );
    await removeEmptiedDirs(this.#removed.slice(before), this.#settings.out, port);
  }

  /** No more checkpoints (a run that threw ends here: its last checkpoint, or the old manifest, stands). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  report(): IncrementalReport {
    return {
      manifest: this.path,
      unchanged: this.#unchanged,
      removed: [...this.#removed].sort(),
      kept: this.#kept,
      notices: this.#notices,
    };
  }
}
