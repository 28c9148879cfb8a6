import { globpipeVersion } from '../bench/machine.js';
import type { Settings } from '../options/settings.js';
import { patternPlan } from '../plan/patterns.js';
import type { FileResult, FileStatus, RunOptions } from '../types.js';

/**
 * The run manifest (`--manifest <file>`): what one run globbed, with which options, and what
 * became of each input, with a sha256 of every output as written. Runs over parts of one tree
 * (shards) each write one; `globpipe verify-shards` reads them back and checks that together
 * they cover the tree once and that their outputs are still as written (report/verify-shards.ts).
 *
 * ```json
 * {"format":"globpipe-run-manifest","version":1,"globpipe":"0.1.0","cwd":"/src","out":"/dst",
 *  "patterns":["**\/*"],"ignore":[],"glob":["**\/*"],"globIgnore":["dst/**"],"dot":false,
 *  "followSymlinks":false,"transforms":[["gzip"]],"shard":"1/4",
 *  "inputs":[{"path":"a.css","status":"written","bytesIn":120,"bytesOut":80,
 *             "outputs":[{"path":"a.css.gz","size":80,"sha256":"9f86…"}]}]}
 * ```
 *
 * Unlike the incremental manifest (run/manifest.ts), it is read by people and other tools, so
 * it is plain JSON objects, and its names are the paths as FileResult gives them (a name that
 * is not UTF-8 also has its bytes in base64).
 */

export const RUN_MANIFEST_FORMAT = 'globpipe-run-manifest';
export const RUN_MANIFEST_VERSION = 1;

export interface ManifestOutput {
  /** Relative to `out`. */
  readonly path: string;
  readonly pathBase64?: string;
  /** Size and sha256 (hex) of the file as it was right after the run; null when it was not there (a dry run). */
  readonly size: number | null;
  readonly sha256: string | null;
}

export interface ManifestInput {
  /** Relative to `cwd`, POSIX. */
  readonly path: string;
  readonly pathBase64?: string;
  readonly status: FileStatus;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly outputs: readonly ManifestOutput[];
  readonly reason?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RunManifest {
  readonly format: typeof RUN_MANIFEST_FORMAT;
  readonly version: typeof RUN_MANIFEST_VERSION;
  readonly globpipe: string;
  readonly cwd: string;
  readonly out: string;
  /** The patterns and ignores as given: what shards of one run must agree on. */
  readonly patterns: readonly string[];
  readonly ignore: readonly string[];
  /** What fast-glob was given (patterns made relative; ignores plus --out and manifests inside cwd). */
  readonly glob: readonly string[];
  readonly globIgnore: readonly string[];
  readonly dot: boolean;
  readonly followSymlinks: boolean;
  /** Each stage's transform names (`-t gzip,brotli` is one stage of two). */
  readonly transforms: readonly (readonly string[])[];
  /** `i/n` when the run was one shard of n; null for a run over its whole glob. */
  readonly shard: string | null;
  readonly inputs: readonly ManifestInput[];
}

/** The manifest's header, from the settings the run used. */
export function manifestHeader(settings: Settings, options: RunOptions): Omit<RunManifest, 'inputs'> {
  return {
    format: RUN_MANIFEST_FORMAT,
    version: RUN_MANIFEST_VERSION,
    globpipe: globpipeVersion(),
    cwd: settings.cwd,
    out: settings.out,
    patterns: [...settings.patterns],
    ignore: options.ignore === undefined ? [] : [options.ignore].flat(),
    glob: [...patternPlan(settings).glob],
    globIgnore: [...settings.ignore],
    dot: settings.dot,
    followSymlinks: settings.followSymlinks,
    transforms: settings.stages.map((stage) => stage.map((transform) => transform.name)),
    // The shard the run resolved (`--shard auto` from the scheduler's variables), as `i/n`.
    shard: settings.shard === undefined ? null : `${settings.shard.index}/${settings.shard.count}`,
  };
}

/** One input's entry, its outputs not yet hashed. */
export function inputEntry(result: FileResult): ManifestInput {
  return {
    path: result.input,
    ...(result.inputBase64 === undefined ? {} : { pathBase64: result.inputBase64 }),
    status: result.status,
    bytesIn: result.bytesIn,
    bytesOut: result.bytesOut,
    outputs: result.outputs.map((path, index) => {
      const bytes = result.outputsBase64?.[index];
      return { path, ...(bytes === undefined ? {} : { pathBase64: bytes }), size: null, sha256: null };
    }),
    ...(result.reason === undefined ? {} : { reason: result.reason }),
    ...(result.error === undefined
      ? {}
      : { error: { code: result.error.code, message: result.error.message } }),
  };
}
