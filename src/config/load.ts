import { resolve } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { checkKeys, checkOptions } from '../options/check.js';
import { keyNames } from '../options/names.js';
import { findConfig } from './find.js';
import { resolvePaths } from './merge.js';
import { resolveConfig } from './resolve.js';
import { checkConfig } from './shape.js';
import type { ConfigOptions, LoadConfigOptions, ResolvedConfig, UserConfig } from './types.js';

/** Types a config file's export; returns its argument unchanged. */
export function defineConfig<T extends UserConfig>(config: T): T {
  return config;
}

const loadKeys = ['cwd', 'configFile', 'pipelines', 'overrides'];

/**
 * The runs a config file describes, as the CLI finds and resolves them: `configFile`, else
 * `globpipe.config.{ts,mts,js,mjs,cjs,json}` or package.json's `"globpipe"` key, nearest
 * first, from `cwd` upward. Each pipeline asked for (default: all, in the file's order)
 * comes back as options for run(), paths absolute, checked as run() checks them; add `signal`
 * and `onEvent` and run them in turn. Rejects with a GlobpipeError (EUSAGE) naming the file
 * and the key for a bad config; resolves with no `file` and the overrides alone when there is
 * no config file.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  if (typeof options !== 'object' || options === null)
    throw new GlobpipeError('EUSAGE', `Expected options object, got ${keyNames.value(options)}`);
  checkKeys(Object.keys(options), loadKeys, keyNames.name);
  if (options.overrides !== undefined) checkOptions(options.overrides);
  const from = resolve(options.cwd ?? '.');
  const found = await findConfig(from, options.configFile);
  const config = found === undefined ? undefined : await checkConfig(found);
  const overrides: ConfigOptions = resolvePaths(options.overrides ?? {}, from);
  const pipelines = await resolveConfig(config, {
    overrides,
    naming: 'key',
    pipelines: options.pipelines,
    from,
  });
  return { file: config?.file, pipelines };
}
