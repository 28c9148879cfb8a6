import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Loader, lilconfig } from 'lilconfig';
import { GlobpipeError } from '../errors.js';
import { isDirectory } from '../io/file-type.js';

/**
 * The config files, in the order each directory is searched: a `.ts` before the `.js` it may be
 * built into, and package.json's `"globpipe"` key last. lilconfig's own default order starts
 * with package.json; ours is the documented one (`--config`, else a config file, else the key).
 */
export const CONFIG_FILES = [
  'globpipe.config.ts',
  'globpipe.config.mts',
  'globpipe.config.js',
  'globpipe.config.mjs',
  'globpipe.config.cjs',
  'globpipe.config.json',
] as const;

const PACKAGE_KEY = 'globpipe';

/** A config file as found, before any check: `value` is what the file exports, as it exports it. */
export interface FoundConfig {
  /** Absolute path. */
  readonly file: string;
  /** How messages name the file: relative to where the search started (`../globpipe.config.mjs`). */
  readonly shown: string;
  /** Where the options sit in the file, for messages: `globpipe.` in package.json, else nothing. */
  readonly keyPrefix: string;
  /** A module's namespace (its options are the default export), a JSON file's value, package.json's key. */
  readonly kind: 'module' | 'json' | 'package';
  /** What the file exports, as it exports it (null: package.json without the key). */
  readonly value: unknown;
}

/** An error as one line: its name and the first line of its message. */
export function firstLine(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
}

/** TypeScript through jiti, imported only when a TypeScript config is found (as transforms/resolve.ts does). */
async function importTypeScript(file: string): Promise<unknown> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false, interopDefault: false });
  return jiti.import(file);
}

/**
 * The loaders, each failure an EUSAGE naming the file and its cause:
 * `globpipe.config.mjs: cannot load: SyntaxError: Unexpected token '}'`. A module loads to
 * its namespace (default export checked later: shape.ts); JSON to its value.
 */
function loaders(show: (file: string) => string): Record<string, Loader> {
  const guard =
    (load: (file: string, content: string) => unknown): Loader =>
    async (file, content) => {
      try {
        return await load(file, content);
      } catch (error) {
        throw new GlobpipeError('EUSAGE', `${show(file)}: cannot load: ${firstLine(error)}`, {
          cause: error,
        });
      }
    };
  const json = guard((_file, content) => JSON.parse(content.replace(/^\uFEFF/, '')));
  const native = guard((file) => import(pathToFileURL(file).href));
  const ts = guard(importTypeScript);
  return { '.json': json, '.js': native, '.mjs': native, '.cjs': native, '.ts': ts, '.mts': ts, '.cts': ts };
}

/**
 * The config `configFile` names (relative to `from`), or the one found from `from` upward:
 * each directory is searched for CONFIG_FILES then package.json before its parent. The search
 * stops after the home directory, or at the file system's root when `from` is not under home
 * (lilconfig's stopDir: a config above home is nobody's project). Undefined when none is found.
 */
export async function findConfig(from: string, configFile?: string): Promise<FoundConfig | undefined> {
  const show = (file: string) => relative(from, file) || basename(file);
  const byExtension = loaders(show);
  const search = lilconfig(PACKAGE_KEY, {
    searchPlaces: [...CONFIG_FILES, 'package.json'],
    stopDir: homedir(),
    loaders: byExtension,
    // An empty config file is a mistake to report (shape.ts), not a reason to look further up.
    ignoreEmptySearchPlaces: false,
    cache: false,
  });
  let result: { filepath: string; config: unknown } | null;
  if (configFile !== undefined) {
    const file = resolve(from, configFile);
    if (!existsSync(file))
      throw new GlobpipeError('EUSAGE', `Config file \`${configFile}\` not found (looked at ${file})`);
    if (statSync(file).isDirectory())
      throw new GlobpipeError(
        'EUSAGE',
        `Config file \`${configFile}\` is a directory: name the file in it (${join(configFile, CONFIG_FILES[3])}, …)`,
      );
    const ext = extname(file);
    if (basename(file) !== 'package.json' && !Object.hasOwn(byExtension, ext)) {
      throw new GlobpipeError(
        'EUSAGE',
        `${show(file)}: a config file is .ts, .mts, .cts, .js, .mjs, .cjs or .json, got \`${ext || basename(file)}\``,
      );
    }
    result = await guarded(show(file), () => search.load(file));
  } else {
    result = await guarded(from, () => search.search(from));
  }
  if (result === null) return undefined;
  const file = result.filepath;
  // A directory that is not there (process.cwd() of a name that is not UTF-8 comes back with
  // U+FFFD in it) had the search skip it and its own config: one found further up is not its.
  if ((configFile === undefined || !isAbsolute(configFile)) && !isDirectory(from)) {
    const hint = from.includes('\uFFFD')
      ? ': Node cannot name a directory whose name is not UTF-8; run from another one, with --config and --cwd'
      : '';
    throw new GlobpipeError(
      'EUSAGE',
      `Cannot look for a config file from ${from}: no such directory (found ${file}, which may not be this directory's)${hint}`,
    );
  }
  const isPackage = basename(file) === 'package.json';
  return {
    file,
    shown: show(file),
    keyPrefix: isPackage ? `${PACKAGE_KEY}.` : '',
    kind: isPackage ? 'package' : extname(file) === '.json' ? 'json' : 'module',
    value: result.config,
  };
}

/** lilconfig's own failures (a file it cannot read) as usage errors naming where. */
async function guarded<T>(where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GlobpipeError) throw error;
    throw new GlobpipeError('EUSAGE', `${where}: cannot read the config: ${firstLine(error)}`, {
      cause: error,
    });
  }
}
