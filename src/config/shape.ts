import { GlobpipeError } from '../errors.js';
import { checkKeys, checkKinds } from '../options/check.js';
import { keyNames, type Names, type OptionInfo, optionTable } from '../options/names.js';
import { type FoundConfig, firstLine } from './find.js';
import { RUNTIME_KEYS } from './types.js';

/** A config's options, checked key by key and kind by kind; nothing resolved yet. */
export type RawOptions = Readonly<Record<string, unknown>>;

export interface CheckedConfig {
  readonly file: string;
  readonly shown: string;
  readonly keyPrefix: string;
  /** Top-level options, shared by every pipeline. */
  readonly shared: RawOptions;
  /** The named pipelines in the file's order; undefined when the file has none. */
  readonly pipelines: readonly (readonly [string, RawOptions])[] | undefined;
}

const runtime: ReadonlySet<string> = new Set(RUNTIME_KEYS);
const table = optionTable as Readonly<Record<string, OptionInfo>>;
/** The options a file may hold: run()'s public ones less the runtime ones (the same table run() checks). */
export const fileKeys = Object.keys(table).filter(
  (key) => table[key]?.internal !== true && !runtime.has(key),
);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Names keys as the file writes them: `` `pipelines.images.level` ``, `` `globpipe.out` `` in package.json. */
export function pathNames(prefix: string): Names {
  return { naming: 'key', name: (key) => `\`${prefix}${key}\``, value: keyNames.value };
}

/** The command line's own options: how the command shows a run, not what the run does. */
const CLI_ONLY: Readonly<Record<string, string>> = {
  quiet: '--quiet',
  json: '--json',
  verbose: '--verbose',
  progress: '--progress',
  report: '--report',
  watch: '--watch',
};

/** `options` (at `prefix` in the file) holds only options a file may hold, each of its kind. */
function checkLevel(options: Record<string, unknown>, prefix: string, extra: readonly string[]): void {
  const names = pathNames(prefix);
  const given = Object.keys(options);
  const held = given.find((key) => runtime.has(key) && !table[key]?.internal);
  if (held !== undefined)
    throw new GlobpipeError('EUSAGE', `${names.name(held)} cannot be set in a config file: pass it to run()`);
  const flag = given.find((key) => Object.hasOwn(CLI_ONLY, key));
  if (flag !== undefined)
    throw new GlobpipeError(
      'EUSAGE',
      `${names.name(flag)} cannot be set in a config file: it is the command's ${CLI_ONLY[flag]}, give it there`,
    );
  checkKeys(given, [...fileKeys, ...extra], names.name);
  const { pipelines: _, ...rest } = options;
  checkKinds(rest, names);
}

/** What the loaded file exports as its options: a module's default export, a JSON value, the package key. */
async function exported(found: FoundConfig): Promise<unknown> {
  const { kind, value, shown } = found;
  if (kind === 'package' && value === null)
    throw new GlobpipeError('EUSAGE', `${shown}: has no "globpipe" key`);
  if (kind !== 'module') return value;
  if (value === undefined) throw new GlobpipeError('EUSAGE', `${shown}: is empty`);
  const namespace = value as Record<string, unknown>;
  if (namespace.default === undefined) {
    throw new GlobpipeError(
      'EUSAGE',
      `${shown}: has no default export: write \`export default defineConfig({ ... })\` (or \`module.exports = { ... }\`)`,
    );
  }
  // `export default (async () => ({ ... }))()` is a config too; one that rejects fails to load.
  try {
    return await namespace.default;
  } catch (error) {
    throw new GlobpipeError('EUSAGE', `${shown}: cannot load: ${firstLine(error)}`, { cause: error });
  }
}

/**
 * The loaded file, checked before anything reads it: an object of options and `pipelines`,
 * unknown keys and values of the wrong kind named with the file and where they sit:
 * ``globpipe.config.mjs: Unknown option `concurency`: did you mean `concurrency`?``.
 */
export async function checkConfig(found: FoundConfig): Promise<CheckedConfig> {
  const { shown, keyPrefix } = found;
  const value = await exported(found);
  const what =
    found.kind === 'module'
      ? 'the default export'
      : found.kind === 'json'
        ? 'the file'
        : 'the "globpipe" key';
  if (!isPlainObject(value)) {
    throw new GlobpipeError(
      'EUSAGE',
      `${shown}: expected ${what} to be an object of options, got ${value === null ? '`null`' : keyNames.value(value)}`,
    );
  }
  try {
    checkLevel(value, keyPrefix, ['pipelines']);
    const pipelines = value.pipelines === undefined ? undefined : checkPipelines(value.pipelines, keyPrefix);
    return { file: found.file, shown, keyPrefix, shared: value, pipelines };
  } catch (error) {
    if (!(error instanceof GlobpipeError)) throw error;
    throw new GlobpipeError(error.code, `${shown}: ${error.message}`, { cause: error.cause });
  }
}

function checkPipelines(value: unknown, keyPrefix: string): [string, RawOptions][] {
  const where = `\`${keyPrefix}pipelines\``;
  if (!isPlainObject(value))
    throw new GlobpipeError(
      'EUSAGE',
      `Expected ${where} to be an object of named pipelines, got ${keyNames.value(value)}`,
    );
  const entries = Object.entries(value);
  if (entries.length === 0) throw new GlobpipeError('EUSAGE', `${where} holds no pipeline`);
  for (const [name, options] of entries) {
    const prefix = `${keyPrefix}pipelines.${name}.`;
    if (!isPlainObject(options)) {
      throw new GlobpipeError(
        'EUSAGE',
        `Expected \`${prefix.slice(0, -1)}\` to be an object of options, got ${keyNames.value(options)}`,
      );
    }
    checkLevel(options, prefix, []);
  }
  return entries as [string, RawOptions][];
}
