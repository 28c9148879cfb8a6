import { existsSync } from 'node:fs';
import { basename, extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GlobpipeError } from '../errors.js';
import { didYouMean } from '../options/check.js';
import type { TransformSpec, TransformStage } from '../types.js';
import {
  type BuiltinOptions,
  builtin,
  knownNames as builtinNames,
  isBuiltinName,
  PRECOMPRESS,
} from './builtins.js';
import type { ResolvedTransform } from './resolved.js';

const typeScriptExtensions = new Set(['.ts', '.mts', '.cts']);
const moduleExtensions = new Set(['.js', '.mjs', '.cjs', ...typeScriptExtensions]);

/** TypeScript modules go through jiti (loaded only when one is asked for): types stripped, ESM and CJS both. */
async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false, interopDefault: false });
  return (await jiti.import(file)) as Record<string, unknown>;
}

/** A spec that names a module file rather than a built-in: `./x.mjs`, `lib/x`, `x.ts`. */
export function looksLikePath(spec: string): boolean {
  return (
    spec.includes('/') || spec.includes('\\') || spec.startsWith('.') || moduleExtensions.has(extname(spec))
  );
}

/** Checks the shape of a transform object; `origin` names where it came from in errors. */
export function validateTransform(value: unknown, origin: string): ResolvedTransform {
  const fail = (what: string) =>
    new GlobpipeError('ENOTRANSFORM', `Transform ${origin} ${what}`, { path: origin });
  if (typeof value !== 'object' || value === null) {
    throw fail(`must be an object with \`name\` and \`buffer\` or \`stream\`, got ${describe(value)}`);
  }
  const t = value as Record<string, unknown>;
  if (typeof t.name !== 'string' || t.name.length === 0) {
    throw fail(`needs a \`name\` string, got ${describe(t.name)}`);
  }
  const hasBuffer = t.buffer !== undefined;
  const hasStream = t.stream !== undefined;
  if (hasBuffer === hasStream) {
    throw fail(`must define exactly one of \`buffer\` or \`stream\`, got ${hasBuffer ? 'both' : 'neither'}`);
  }
  for (const key of ['buffer', 'stream', 'rename'] as const) {
    if (t[key] !== undefined && typeof t[key] !== 'function') {
      throw fail(`has a \`${key}\` that is not a function (${describe(t[key])})`);
    }
  }
  return {
    name: t.name,
    rename: t.rename as ResolvedTransform['rename'],
    buffer: t.buffer as ResolvedTransform['buffer'],
    stream: t.stream as ResolvedTransform['stream'],
    cpuBound: false,
  };
}

function describe(value: unknown): string {
  if (value === null) return '`null`';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `\`${String(value)}\` (${typeof value})`;
}

async function loadModule(spec: string): Promise<ResolvedTransform> {
  const file = resolvePath(spec);
  if (!existsSync(file)) {
    throw new GlobpipeError('ENOTRANSFORM', `Transform module \`${spec}\` not found (looked at ${file})`, {
      path: spec,
    });
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = typeScriptExtensions.has(extname(file))
      ? await importTypeScript(file)
      : await import(pathToFileURL(file).href);
  } catch (error) {
    const cause = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
    throw new GlobpipeError('ENOTRANSFORM', `Transform module \`${spec}\` failed to load: ${cause}`, {
      cause: error,
      path: spec,
    });
  }
  // ESM `export default`, or CommonJS `module.exports` (which import() exposes as default).
  const exported = loaded.default ?? loaded;
  return { ...validateTransform(exported, `module \`${basename(spec)}\``), modulePath: file };
}

async function resolveSpec(spec: TransformSpec, options: BuiltinOptions): Promise<ResolvedTransform> {
  if (typeof spec !== 'string') return validateTransform(spec, describeObject(spec));
  if (isBuiltinName(spec)) return builtin(spec, options);
  if (looksLikePath(spec)) return loadModule(spec);
  const meant = didYouMean(spec, builtinNames);
  throw new GlobpipeError(
    'ENOTRANSFORM',
    meant === undefined
      ? `Unknown transform \`${spec}\`: expected a built-in (${builtinNames.join(', ')}) or a path to a module`
      : `Unknown transform \`${spec}\`: did you mean \`${meant}\`? (built-ins: ${builtinNames.join(', ')}; a module is a path, such as ./${spec}.mjs)`,
    { path: spec },
  );
}

function describeObject(spec: unknown): string {
  const name = (spec as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? `\`${name}\`` : 'object';
}

/** Normalises `transforms` into stages of one or more (fan-out) transforms each, loading each module once. */
export async function resolveStages(
  input: TransformStage | readonly TransformStage[] | undefined,
  options: BuiltinOptions,
): Promise<ResolvedTransform[][]> {
  const stages: readonly TransformStage[] =
    input === undefined ? ['copy'] : Array.isArray(input) ? input : [input as TransformStage];
  if (stages.length === 0) {
    throw new GlobpipeError(
      'EUSAGE',
      'Expected `transforms` to name at least one transform, got an empty list',
    );
  }
  const resolved: ResolvedTransform[][] = [];
  for (const stage of stages) {
    const specs: readonly TransformSpec[] = Array.isArray(stage) ? stage : [stage as TransformSpec];
    if (specs.length === 0) throw new GlobpipeError('EUSAGE', 'A transform stage is empty');
    const group: ResolvedTransform[] = [];
    for (const spec of specs) {
      if (spec === PRECOMPRESS.name) {
        group.push(builtin('gzip', { ...options, level: options.level ?? PRECOMPRESS.gzip }));
        group.push(builtin('brotli', { ...options, level: options.level ?? PRECOMPRESS.brotli }));
      } else group.push(await resolveSpec(spec, options));
    }
    resolved.push(group);
  }
  return resolved;
}
