import { isAbsolute, resolve } from 'node:path';
import { isBuiltinName } from '../transforms/builtins.js';
import { looksLikePath } from '../transforms/resolve.js';
import type { RawOptions } from './shape.js';

/** Where a merged option came from: the overrides (the command line), or a place in the file (`pipelines.images.`). */
export type Origin = { readonly override: true } | { readonly override: false; readonly prefix: string };

export interface Layer {
  readonly options: RawOptions;
  readonly origin: Origin;
}

export interface Merged {
  readonly options: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, Origin>;
}

/**
 * Options that exclude each other: a layer that sets one drops the others from the layers
 * below, so `--in-place` over a file's `out`, or `-j 8` over its `sequential`, is an
 * override and not a contradiction. Within one layer both are still an error (normalize.ts).
 */
const EXCLUSIVE: readonly (readonly string[])[] = [
  ['out', 'inPlace'],
  ['concurrency', 'sequential'],
  ['failFast', 'maxErrors'],
  ['skipExisting', 'ifNewer'],
];

/**
 * Each layer over the ones before it, key by key: a value replaces, never merges (a pipeline's
 * `ignore` or a flag's `-t` list replaces the file's). Undefined is "not given".
 */
export function mergeLayers(layers: readonly Layer[]): Merged {
  const options: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const { options: given, origin } of layers) {
    for (const [key, value] of Object.entries(given)) {
      if (value === undefined) continue;
      if (value !== false) {
        for (const other of EXCLUSIVE.find((group) => group.includes(key)) ?? []) {
          if (other === key || given[other] !== undefined) continue;
          delete options[other];
          origins.delete(other);
        }
      }
      options[key] = value;
      origins.set(key, origin);
    }
  }
  return { options, origins };
}

function resolveSpec(spec: unknown, dir: string): unknown {
  if (Array.isArray(spec)) return spec.map((item) => resolveSpec(item, dir));
  if (typeof spec !== 'string' || isBuiltinName(spec) || !looksLikePath(spec) || isAbsolute(spec))
    return spec;
  return resolve(dir, spec);
}

/**
 * The options' paths made absolute from `dir` (a config file's directory), so that a file means
 * the same from wherever it is run (an npm script runs from the package, a shell from anywhere):
 * `cwd`, `out`, an `incremental` manifest path (`true` stays the default place), the run
 * `manifest`, and transform
 * modules (`./md.mjs`; built-in names stay names). Patterns and ignores stay relative: they are
 * globs under `cwd`.
 */
export function resolvePaths(options: RawOptions, dir: string): RawOptions {
  const resolved: Record<string, unknown> = { ...options };
  for (const key of ['cwd', 'out', 'incremental', 'manifest'] as const) {
    const value = options[key];
    if (typeof value === 'string' && value !== '') resolved[key] = resolve(dir, value);
  }
  if (options.transforms !== undefined) resolved.transforms = resolveSpec(options.transforms, dir);
  return resolved;
}
