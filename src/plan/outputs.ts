import { join, sep } from 'node:path';
import type { Entry } from '../discover.js';
import { GlobpipeError } from '../errors.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { isInside, isNormal } from '../paths.js';
import type { ResolvedTransform } from '../transforms/resolved.js';
import { patternPlan } from './patterns.js';

/** Where one chain of transforms writes its result for one input. */
export interface OutputTarget {
  readonly chain: readonly ResolvedTransform[];
  /** Relative to the output directory, forward slashes. */
  readonly relative: string;
  readonly absolute: string;
}

/** One input with the outputs planned for it: the unit every executor works on. */
export interface PlannedFile {
  readonly entry: Entry;
  readonly targets: readonly OutputTarget[];
}

function replaceExt(path: string, ext: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  // A leading dot names a dotfile (`.env`), not an extension.
  return dot > slash + 1 ? path.slice(0, dot) + ext : path + ext;
}

const outBases = new WeakMap<Settings, string>();
function outBase(settings: Settings): string {
  let base = outBases.get(settings);
  if (base === undefined) {
    base = settings.out.endsWith(sep) ? settings.out : settings.out + sep;
    outBases.set(settings, base);
  }
  return base;
}

function renamed(t: ResolvedTransform, name: string, input: string): string {
  const result = (t.rename as (path: string) => unknown)(name);
  if (typeof result !== 'string' || result.length === 0 || result.includes('\0')) {
    const got =
      typeof result !== 'string'
        ? typeof result
        : result.length === 0
          ? 'an empty string'
          : 'a path with a NUL byte';
    throw new GlobpipeError('ETRANSFORM', `${t.name}: rename() returned ${got}, expected a path`, {
      path: input,
    });
  }
  return result.split('\\').join('/');
}

/** The output paths of one input, one per chain; throws EOUTSIDE when one would leave the output directory. */
export function planOutputs(entry: Entry, settings: Settings): OutputTarget[] {
  return settings.chains.map((chain) => {
    let name = entry.path;
    for (const t of chain) if (t.rename !== undefined) name = renamed(t, name, entry.path);
    if (settings.ext !== undefined) name = replaceExt(name, settings.ext);
    // A normal relative path cannot leave `out`: only others need join() and the check.
    if (isNormal(name)) return { chain, relative: name, absolute: outBase(settings) + name };
    const absolute = join(settings.out, name);
    if (!isInside(absolute, settings.out) || absolute === settings.out) {
      throw new GlobpipeError(
        'EOUTSIDE',
        `Output \`${name}\` of \`${entry.path}\` escapes the output directory \`${settings.out}\``,
        { path: entry.path },
      );
    }
    return { chain, relative: name, absolute };
  });
}

/**
 * Checks the patterns before anything is globbed (patterns.ts): braces and brackets
 * that pair up, and none that can match above cwd (`../x/**`, an absolute path
 * elsewhere), whose outputs would land above `out`.
 */
export function checkPatterns(settings: Settings): void {
  patternPlan(settings);
}

/**
 * The text each chain appends to every input's name, when all its renames only
 * append (or there are none): `.gz` for gzip, `` for copy; undefined otherwise.
 */
function appended(chain: readonly ResolvedTransform[]): string | undefined {
  let name = '';
  for (const t of chain) {
    if (t.rename === undefined) continue;
    if (t.appendsOnly !== true) return undefined;
    name = t.rename(name);
  }
  return name;
}

/**
 * Whether outputs can be planned file by file while the glob runs. Distinct
 * inputs give distinct outputs when every rename only appends (or there is
 * none), no chain's suffix ends with another's (`-t gzip,brotli`: `.gz`, `.br`;
 * not `-t copy,gzip`, where `a`'s `a.gz` would be `a.gz`'s copy, nor two chains
 * with no rename) and the output file system keeps case; outputs can't be
 * inputs when the output directory, by real path, is outside the glob
 * (elsewhere, or inside cwd and so ignored) and no symlink is followed.
 * Otherwise the whole glob is planned and checked before anything is written
 * (checks.ts).
 */
export function canPlanPerFile(settings: Settings, site: Site): boolean {
  const suffixes = settings.chains.map(appended);
  const injective =
    settings.ext === undefined &&
    !site.caseInsensitive &&
    suffixes.every(
      (s, i) => s !== undefined && suffixes.every((t, j) => i === j || t === undefined || !s.endsWith(t)),
    );
  const { realCwd, realOut } = site;
  const outInsideCwd = isInside(realOut, realCwd) && realOut !== realCwd;
  const apart = !isInside(realOut, realCwd) && !isInside(realCwd, realOut);
  return injective && !settings.followSymlinks && !settings.inPlace && (outInsideCwd || apart);
}
