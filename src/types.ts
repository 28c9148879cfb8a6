import type { Duplex } from 'node:stream';
import type { ErrorCode } from './errors.js';
import type { IoPort } from './io/port.js';

/** What a transform learns about the file it works on. */
export interface FileInfo {
  /** Path relative to `cwd`, with forward slashes: `docs/a b.md`. */
  readonly path: string;
  /** Absolute input path. */
  readonly absolutePath: string;
  /** Size in bytes, from the open file. */
  readonly size: number;
  /** Modification time, from the open file. */
  readonly mtime: Date;
}

export type TransformResult = Buffer | Uint8Array | string;

interface TransformBase {
  /** Shown in errors and in the summary. */
  readonly name: string;
  /** Output path (relative, forward slashes) for an input path: `a.md` -> `a.html`. Identity when absent. */
  readonly rename?: (relativePath: string) => string;
}

/** Whole-file work: receives the content, returns the new content. */
export interface BufferTransform extends TransformBase {
  readonly buffer: (content: Buffer, file: FileInfo) => TransformResult | Promise<TransformResult>;
  readonly stream?: undefined;
}

/** Constant-memory work on files of any size: returns a fresh Duplex per file. */
export interface StreamTransform extends TransformBase {
  readonly stream: (file: FileInfo) => Duplex;
  readonly buffer?: undefined;
}

/** A user transform: a name, an optional `rename`, and exactly one of `buffer` or `stream`. */
export type Transform = BufferTransform | StreamTransform;

/** A built-in name (`gzip`), a module path (`./md-to-html.mjs`) or a transform object. */
export type TransformSpec = string | Transform;

/**
 * One step of the pipeline: a single transform, or several that fan out
 * (each reads the same input and writes its own output).
 */
export type TransformStage = TransformSpec | readonly TransformSpec[];

export interface RunOptions {
  /** Base directory for patterns and mirrored output paths. Default: `process.cwd()`. */
  cwd?: string;
  /** fast-glob patterns relative to `cwd`; `!pattern` excludes. Default: `['**\/*']`. */
  patterns?: string | readonly string[];
  /** Output directory; each file lands at `<out>/<path relative to cwd>`. */
  out?: string;
  /** Replace each input with its result. Exclusive with `out`. */
  inPlace?: boolean;
  /** Stages applied in order; an array stage fans out. Default: `['copy']`. */
  transforms?: TransformStage | readonly TransformStage[];
  /** Replace the extension of every output path: `.html`. */
  ext?: string;
  /** Globs to exclude. The output directory is always excluded. */
  ignore?: readonly string[];
  /** Match files and directories whose names start with a dot. */
  dot?: boolean;
  /** Follow symbolic links to files and directories. */
  followSymlinks?: boolean;
  /** A pattern that matches no file fails the run before anything is written. Default: `true`. */
  errorOnUnmatchedPattern?: boolean;
  /** Files in flight. Default: chosen from the machine and the transforms. */
  concurrency?: number;
  /** One file at a time; the same as `concurrency: 1`. */
  sequential?: boolean;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  /** Start nothing new after the first failure. */
  failFast?: boolean;
  /** Start nothing new after this many failures. */
  maxErrors?: number;
  /** fsync each output and its directory. */
  fsync?: boolean;
  /** Skip inputs whose output already exists. */
  skipExisting?: boolean;
  /** Skip inputs whose output is newer than the input. */
  ifNewer?: boolean;
  /** Continue an interrupted in-place run: files it finished are skipped, never transformed twice. */
  resume?: boolean;
  /**
   * Shell commands run per file, after `transforms`: the file on stdin, the result
   * from stdout (or from the file named by `{out}`); `{in}` and `{rel}` give the
   * input's paths. A non-zero exit fails that file.
   */
  exec?: string | readonly string[];
  /** `replace`: the pattern (a RegExp, `/source/flags`, or a plain source: global either way). */
  from?: string | RegExp;
  /** `replace`: the replacement, with `$1`, `$<name>`, `$&`. */
  to?: string;
  /** `eol`: `lf` or `crlf`. */
  eol?: 'lf' | 'crlf';
  /**
   * `encoding`: the input's encoding, any name iconv-lite knows, as `iconv -l` spells them:
   * utf-8, utf-16le, latin1, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r, ….
   */
  fromEncoding?: string;
  /** `encoding`: the output's encoding (default utf-8). */
  toEncoding?: string;
  /** `encoding`: write a byte-order mark. */
  bom?: boolean;
  /** `encoding`: convert input that is already UTF-8 too (by default it is skipped, so a rerun never encodes twice). */
  force?: boolean;
  /** Compression level for gzip (1-9) and brotli (0-11). */
  level?: number;
  /** Skip inputs smaller than this many bytes. Default: 1024 when every output is compressed, else 0. */
  minSize?: number;
  /**
   * Keep a compressor's output only when output/input <= this (0.8: it saves a fifth at
   * least); a dropped output's stale file from an earlier run is removed. Default: 0.8
   * when a compressor runs; only compressors have it.
   */
  minRatio?: number;
  /** Compress every type: by default a compressor skips types not worth it (png, woff2, zip…). */
  allTypes?: boolean;
  /** Remove each input once all its outputs are written (renamed into place, fsynced with `fsync`). */
  deleteOriginal?: boolean;
  /**
   * How files are read, for measuring IO modes (`globpipe bench`): `auto` (default) as
   * globpipe chooses; `batch` whole files, many per request to the IO workers; `single` one
   * file per request; `stream` every file streamed; `direct` whole files with O_DIRECT,
   * bypassing the page cache (files of 8 MiB or more still stream). Outputs are the same.
   */
  read?: ReadStrategy;
  /** Read and transform every file, write nothing (for measuring reads): files are counted as discarded. */
  discard?: boolean;
  /**
   * Process only what changed since the last run: inputs new or changed (size, mtime, then
   * content), outputs missing or changed by someone else; a changed pipeline (transforms, their
   * options, a module's code, globpipe's version) processes everything. `true` keeps the
   * manifest in `node_modules/.cache/globpipe/` (the nearest node_modules from `cwd` upward); a
   * string is the manifest's path.
   */
  incremental?: boolean | string;
  /**
   * With `incremental`: remove the outputs of inputs that are gone, only those the manifest says
   * globpipe wrote, beneath `out`, and only while they are as globpipe wrote them. `watch()`
   * removes, as they go, the outputs of inputs deleted while it watches.
   */
  deleteStale?: boolean;
  /**
   * Process one shard of the matches: `'2/4'` (1-based), or `'auto'` to read it from the
   * environment of a Kubernetes Indexed Job, a Slurm array, GitLab, CircleCI or Buildkite
   * (run/shard-env.ts). Every shard globs the whole tree and takes its own files; the summary
   * counts only those (`matched` is this shard's files).
   */
  shard?: string;
  /**
   * How files are split between shards: `hash` (default) by the path alone, so a file keeps its
   * shard as others come and go; `balanced`, even counts; `size`, even bytes. The last two
   * need the whole glob before the first file starts.
   */
  shardStrategy?: 'hash' | 'balanced' | 'size';
  /** The number of shards for `shard: 'auto'` where the engine does not say (a Kubernetes Indexed Job). */
  shardCount?: number;
  /**
   * After the run, write this JSON file (atomically): what was globbed with which options, and
   * each input's status, bytes and outputs with their sha256, so that `globpipe verify-shards`
   * can check that runs over parts of one tree covered it once, and that no output changed since.
   */
  manifest?: string;
  /** Cancels the run: nothing new starts, in-flight files are aborted, temp files removed. */
  signal?: AbortSignal;
  /** Progress as data: called for every event, synchronously. */
  onEvent?: (event: GlobpipeEvent) => void;
  /** @internal The io port; tests pass one that injects faults (test/faults.ts). */
  port?: IoPort;
  /** @internal Forces an executor (run/strategy.ts): the parity suite runs each case through both. */
  executor?: 'batch' | 'single';
  /**
   * @internal Only these paths (relative to `cwd`), each looked up instead of walking the
   * tree, still selected by the patterns and ignores: a watch's batch of changed files.
   */
  only?: readonly string[];
  /** @internal Observes the queue: jobs waiting (including the one being added) and jobs in flight. */
  probe?: { onEnqueue(waiting: number, inFlight: number): void };
}

export type FileStatus = 'written' | 'skipped' | 'failed' | 'planned' | 'discarded';

/** See RunOptions.read. */
export type ReadStrategy = 'auto' | 'batch' | 'single' | 'stream' | 'direct';

export interface FileResult {
  /** Input path relative to `cwd`. */
  readonly input: string;
  /** Output paths relative to the output directory (planned ones for a dry run). */
  readonly outputs: readonly string[];
  readonly status: FileStatus;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Milliseconds spent on this file. */
  readonly ms: number;
  /** Why the file was skipped. */
  readonly reason?: string;
  /** Outputs not written because they did not pay (`minRatio`), each with why; `outputs` lists the rest. */
  readonly dropped?: readonly DroppedOutput[];
  /** `deleteOriginal`: the input was removed, or why it was kept. */
  readonly original?: { readonly deleted: true } | { readonly deleted: false; readonly reason: string };
  /** Figures the transforms reported, such as `replacements` for `replace`. */
  readonly details?: Readonly<Record<string, number>>;
  /** Why the file failed. */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
  /**
   * Present when a name is not valid UTF-8: `input` and `outputs` then hold each byte that
   * does not decode as the character U+DC80 + (byte - 0x80), and these hold the exact bytes,
   * in base64.
   */
  readonly inputBase64?: string;
  readonly outputsBase64?: readonly string[];
}

/** An output a run did not write because compressing did not pay. */
export interface DroppedOutput {
  /** Relative to the output directory, as in `outputs`. */
  readonly output: string;
  readonly reason: string;
  /** Output bytes / input bytes. */
  readonly ratio: number;
}

export type GlobpipeEvent =
  /** A file was matched by the glob; `matched` counts matches so far. */
  | { readonly type: 'match'; readonly path: string; readonly matched: number }
  /** The glob is complete: the total is final. */
  | { readonly type: 'glob-end'; readonly matched: number }
  /**
   * A large file is under way: `bytes` of its `size` have been read so far. Only files
   * that stream (8 MiB or more; smaller ones are read whole) send these, at most four times
   * a second each and only when the count moved; its `file` event follows.
   */
  | { readonly type: 'progress'; readonly path: string; readonly bytes: number; readonly size: number }
  /**
   * A sharded run's shard, before its glob starts; `source` says where `shard: 'auto'` found
   * it (`Slurm array task 2`), undefined when it was given as `'2/4'`.
   */
  | {
      readonly type: 'shard';
      readonly index: number;
      readonly count: number;
      readonly strategy: ShardSummary['strategy'];
      readonly source: string | undefined;
    }
  /** One file is done, whatever its outcome. */
  | { readonly type: 'file'; readonly result: FileResult };

export interface Failure {
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface Summary {
  /** Absolute base directory. */
  readonly cwd: string;
  /** Absolute output directory. */
  readonly out: string;
  /**
   * Files the glob matched (symlinks and special files included). Every one is counted once
   * below: matched = written + planned + skipped + failed + notProcessed + discarded.
   */
  readonly matched: number;
  /** Files whose outputs were all written. */
  readonly written: number;
  /** Files read and transformed whose outputs were dropped (`discard`). */
  readonly discarded: number;
  /** Files a dry run would write (0 in a real run). */
  readonly planned: number;
  readonly skipped: number;
  /** Files that failed; each is in `failures`. */
  readonly failed: number;
  /** Matched files the run never finished: it was interrupted, stopped by `failFast`/`maxErrors`, or its glob failed. */
  readonly notProcessed: number;
  /** Directories the glob could not walk (no matched file's failure); each is in `directoryFailures`. */
  readonly failedDirectories: number;
  /** Output files written, or planned by a dry run (more than the files when transforms fan out). */
  readonly outputs: number;
  /** Bytes read from the inputs. */
  readonly bytesIn: number;
  /** Bytes written to the outputs. */
  readonly bytesOut: number;
  readonly elapsedSeconds: number;
  /** Files done (written, planned, skipped or failed) per second of the run. */
  readonly filesPerSecond: number;
  /** `bytesIn` per second, in MB (10^6 bytes). */
  readonly mbPerSecond: number;
  /** `bytesIn` per second, in MiB (2^20 bytes): the figure the text summary shows. */
  readonly mibPerSecond: number;
  /** Milliseconds each file written (or discarded) took, from its first step to its last (waits in the queue excluded). */
  readonly latencyMs: Latency | undefined;
  readonly concurrency: number;
  readonly dryRun: boolean;
  /** The run was cancelled through its signal; some files were never started. */
  readonly interrupted: boolean;
  /** Every failed file, by path. */
  readonly failures: readonly Failure[];
  /** Every directory the glob could not walk, by path (absolute for an unreadable one). */
  readonly directoryFailures: readonly Failure[];
  /** Why files were skipped: each reason once, with how many and the first few paths. */
  readonly skips: readonly SkipReason[];
  /** An `incremental` run: its manifest, and what `deleteStale` removed. */
  readonly incremental?: IncrementalReport;
  /** A sharded run (`shard`): which shard; every count above is this shard's files only. */
  readonly shard?: ShardSummary;
  /** The run manifest (`manifest`): where it was written, or why it could not be. */
  readonly manifest?: { readonly path: string; readonly error?: string };
  /** Outputs not written because compressing did not pay (`minRatio`), grouped by reason (paths are outputs). */
  readonly dropped: readonly SkipReason[];
  /** `deleteOriginal`: inputs removed. */
  readonly originalsDeleted: number;
  /** `deleteOriginal`: inputs written but kept, grouped by why. */
  readonly originalsKept: readonly SkipReason[];
}

/** `shard 2/4`, 1-based, and how files were split. */
export interface ShardSummary {
  readonly index: number;
  readonly count: number;
  readonly strategy: 'hash' | 'balanced' | 'size';
}

export interface IncrementalReport {
  /** The manifest's path. */
  readonly manifest: string;
  /** Files skipped as unchanged since the last run. */
  readonly unchanged: number;
  /** Outputs removed as stale (`deleteStale`), relative to `out`. */
  readonly removed: readonly string[];
  /** Stale outputs left in place, each with why: changed since globpipe wrote it, or not removable. */
  readonly kept: readonly { readonly path: string; readonly reason: string }[];
  /** What the run could not trust (a corrupt or foreign manifest) or had to redo: one line each. */
  readonly notices: readonly string[];
}

/** Percentiles (nearest rank) and maximum of a per-file time, in milliseconds. */
export interface Latency {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface SkipReason {
  readonly reason: string;
  readonly count: number;
  /** Up to five of them. */
  readonly paths: readonly string[];
}
