import type { RunOptions } from '../types.js';

/**
 * What a file cannot hold: a signal and a callback belong to the process that runs, and the
 * internal keys to the tests. Config files are checked against RunOptions less these.
 */
export const RUNTIME_KEYS = ['signal', 'onEvent', 'port', 'executor', 'probe'] as const;

/** run()'s options as a config file holds them. Paths are relative to the file's directory. */
export type ConfigOptions = Omit<RunOptions, (typeof RUNTIME_KEYS)[number]>;

/**
 * A config file's export (`globpipe.config.ts`, `.mjs`, `.json`, a `"globpipe"` key in
 * package.json). Top-level options are shared by every pipeline; each pipeline overrides them.
 */
export interface UserConfig extends ConfigOptions {
  /** Named pipelines, run in this order (`--pipeline <name>` picks some). */
  pipelines?: Readonly<Record<string, ConfigOptions>>;
}

/** One run, ready for run(): the file's options, a pipeline's and the overrides merged, paths absolute. */
export interface ResolvedPipeline {
  /** The pipeline's key under `pipelines`; undefined for a config without pipelines. */
  readonly name: string | undefined;
  readonly options: RunOptions;
}

export interface ResolvedConfig {
  /** The config file's absolute path; undefined when none was found (options are then the overrides alone). */
  readonly file: string | undefined;
  /** The runs, in order: the pipelines asked for, else every one in the file's order. */
  readonly pipelines: readonly ResolvedPipeline[];
}

export interface LoadConfigOptions {
  /** Where the search for a config file starts, upward. Default: `process.cwd()`. */
  cwd?: string;
  /** This file instead of a search (relative to `cwd`); it must exist. */
  configFile?: string;
  /** Pipelines to resolve, in this order. Default: every one, in the file's order. */
  pipelines?: readonly string[];
  /** Options that win over the file's, as the command line's flags do (paths relative to `cwd`). */
  overrides?: ConfigOptions;
}
