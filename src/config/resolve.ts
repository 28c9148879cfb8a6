import { dirname } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { didYouMean } from '../options/check.js';
import { keyNames, type Names, type Naming, namesFor, OptionError } from '../options/names.js';
import { normalizeOptions } from '../options/normalize.js';
import { checkDirectory } from '../options/probe.js';
import type { RunOptions } from '../types.js';
import { CONFIG_FILES } from './find.js';
import { type Merged, mergeLayers, type Origin, resolvePaths } from './merge.js';
import type { CheckedConfig, RawOptions } from './shape.js';
import type { ResolvedPipeline } from './types.js';

/** What the caller gave besides the file: its options (flags or run()'s) and the pipelines it picked. */
export interface Request {
  /** Options given outside the file, which win over it: only those the user gave. */
  readonly overrides: RunOptions;
  /** How errors name the overrides: flags for the command line, keys for the library. */
  readonly naming: Naming;
  /** Pipelines to run, in order; undefined or empty: all, in the file's order. */
  readonly pipelines?: readonly string[] | undefined;
  /** Where the search started: named when nothing was found. */
  readonly from: string;
}

const OVERRIDE: Origin = { override: true };
const lookedFor = `globpipe.config.{${CONFIG_FILES.map((name) => name.slice('globpipe.config.'.length)).join(',')}} or a "globpipe" key in package.json`;

/** The pipelines asked for, by name, in the order asked: each known, each once. */
function pick(
  config: CheckedConfig | undefined,
  request: Request,
): (readonly [string | undefined, RawOptions])[] {
  const asked = [...new Set(request.pipelines ?? [])];
  const flag = request.naming === 'flag' ? '--pipeline' : '`pipelines`';
  if (asked.length === 0) return config?.pipelines === undefined ? [[undefined, {}]] : [...config.pipelines];
  if (config === undefined) {
    throw new GlobpipeError(
      'EUSAGE',
      `${flag} picks a pipeline of a config file, and none was found (looked for ${lookedFor}, from ${request.from} upward)`,
    );
  }
  const defined = config.pipelines;
  if (defined === undefined)
    throw new GlobpipeError(
      'EUSAGE',
      `${flag} picks a pipeline, and ${config.shown} defines no \`pipelines\``,
    );
  const names = defined.map(([name]) => name);
  return asked.map((name) => {
    const found = defined.find(([known]) => known === name);
    if (found !== undefined) return found;
    const meant = didYouMean(name, names);
    throw new GlobpipeError(
      'EUSAGE',
      `Unknown pipeline \`${name}\`${meant === undefined ? '' : `: did you mean \`${meant}\`?`} (${config.shown} defines ${names.map((known) => `\`${known}\``).join(', ')})`,
    );
  });
}

/**
 * Names each option where it was given: a flag (`--level`) or a key as the file writes it
 * (`` `pipelines.images.level` ``); `named` tells whether any was the file's, so the message
 * names the file too. A key given nowhere is named as `fallback` writes it (the pipeline's place).
 */
function namesByOrigin(origins: Merged['origins'], naming: Naming, fallback: string) {
  let named = false;
  const names: Names = {
    naming: 'key',
    name: (key) => {
      const origin = origins.get(key);
      if (origin?.override === true) return namesFor(naming).name(key);
      named = true;
      return `\`${origin?.prefix ?? fallback}${key}\``;
    },
    value: keyNames.value,
  };
  return { names, named: () => named };
}

/**
 * Checks a merged run as run() will (normalizeOptions, nothing written), before any pipeline
 * runs: a bad value in the second pipeline must not come after the first one's writes. Errors
 * name each option where it was given, and the file when one of them is the file's:
 * `globpipe.config.mjs: `pipelines.images.level` 12 is out of range: gzip levels are 1–9`.
 */
async function validate(
  merged: Merged,
  config: CheckedConfig,
  name: string | undefined,
  naming: Naming,
): Promise<void> {
  const place = name === undefined ? config.keyPrefix : `${config.keyPrefix}pipelines.${name}.`;
  try {
    await normalizeOptions(merged.options as RunOptions);
  } catch (error) {
    if (error instanceof OptionError) {
      const { names, named } = namesByOrigin(merged.origins, naming, place);
      const rendered = error.in(names);
      throw new GlobpipeError('EUSAGE', named() ? `${config.shown}: ${rendered.message}` : rendered.message, {
        cause: error.cause,
      });
    }
    if (!(error instanceof GlobpipeError)) throw error;
    // Errors that name no option (an unknown transform, a module that does not load) are the
    // transforms' when those came from the file; else they are the pipeline's, if it has a name.
    const origin = merged.origins.get('transforms');
    const where =
      origin !== undefined && !origin.override
        ? `${config.shown}: \`${origin.prefix}transforms\`: `
        : name === undefined
          ? ''
          : `pipeline \`${name}\`: `;
    throw new GlobpipeError(error.code, `${where}${error.message}`, { cause: error.cause, path: error.path });
  }
}

/**
 * The one resolver (vite's resolveConfig): a checked config file, the pipelines asked for and
 * the options given outside the file meet here, in this order of precedence: overrides, then
 * the pipeline's options, then the file's shared ones. Paths in the file are made absolute from
 * its directory, and `cwd` defaults to that directory. Each run is checked as run() checks
 * options before any of them runs. Without a config file, the overrides alone are the run.
 */
export async function resolveConfig(
  config: CheckedConfig | undefined,
  request: Request,
): Promise<ResolvedPipeline[]> {
  const picked = pick(config, request);
  if (config === undefined) return [{ name: undefined, options: request.overrides }];
  const dir = dirname(config.file);
  const { pipelines: _, ...shared } = config.shared;
  const resolved: ResolvedPipeline[] = [];
  for (const [name, own] of picked) {
    const merged = mergeLayers([
      { options: { cwd: dir }, origin: { override: false, prefix: config.keyPrefix } },
      { options: resolvePaths(shared, dir), origin: { override: false, prefix: config.keyPrefix } },
      {
        options: resolvePaths(own, dir),
        origin: { override: false, prefix: `${config.keyPrefix}pipelines.${name}.` },
      },
      { options: request.overrides as RawOptions, origin: OVERRIDE },
    ]);
    await validate(merged, config, name, request.naming);
    resolved.push({ name, options: merged.options as RunOptions });
  }
  return resolved;
}

/**
 * Each run's `cwd`, when the file gives it (no `--cwd` over it), is a directory: found by a run,
 * a missing one would come after the earlier pipelines' writes, and be named as a flag the user
 * never typed. Apart from resolveConfig, which reads no disk.
 */
export async function checkConfigCwds(
  config: CheckedConfig | undefined,
  request: Request,
  runs: readonly ResolvedPipeline[],
): Promise<void> {
  if (config === undefined || request.overrides.cwd !== undefined) return;
  for (const { name, options } of runs) {
    const own = config.pipelines?.find(([known]) => known === name)?.[1];
    const prefix = own?.cwd !== undefined ? `${config.keyPrefix}pipelines.${name}.` : config.keyPrefix;
    const cwd = options.cwd as string;
    await checkDirectory(cwd, `\`${prefix}cwd\``).catch((error: GlobpipeError) => {
      throw new GlobpipeError(error.code, `${config.shown}: ${error.message}`, {
        cause: error.cause,
        path: cwd,
      });
    });
  }
}
