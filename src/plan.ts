import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { type Entry, isNormal } from './discover.js';
import { GlobpipeError } from './errors.js';
import type { Settings } from './settings.js';
import type { ResolvedTransform } from './transforms/resolved.js';

/** Where one chain of transforms writes its result for one input. */
export interface OutputTarget {
  readonly chain: readonly ResolvedTransform[];
  /** Relative to the output directory, forward slashes. */
  readonly relative: string;
  readonly absolute: string;
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

function escapes(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/** The output paths of one input, one per chain; throws EOUTSIDE when one would leave the output directory. */
export function planOutputs(entry: Entry, settings: Settings): OutputTarget[] {
  return settings.chains.map((chain) => {
    let name = entry.path;
    for (const t of chain) {
      if (t.rename === undefined) continue;
      const renamed = t.rename(name);
      if (typeof renamed !== 'string' || renamed.length === 0 || renamed.includes('\0')) {
        const got =
          typeof renamed !== 'string'
            ? typeof renamed
            : renamed.length === 0
              ? 'an empty string'
              : 'a path with a NUL byte';
        throw new GlobpipeError('ETRANSFORM', `${t.name}: rename() returned ${got}, expected a path`, {
          path: entry.path,
        });
      }
      name = renamed.split('\\').join('/');
    }
    if (settings.ext !== undefined) name = replaceExt(name, settings.ext);
    // A normal relative path cannot leave `out`: only others need join() and the check.
    const absolute = isNormal(name) ? outBase(settings) + name : join(settings.out, name);
    if (!isNormal(name) && (escapes(settings.out, absolute) || absolute === settings.out)) {
      throw new GlobpipeError(
        'EOUTSIDE',
        `Output \`${name}\` of \`${entry.path}\` escapes the output directory \`${settings.out}\``,
        {
          path: entry.path,
        },
      );
    }
    return { chain, relative: name, absolute };
  });
}

/** A pattern that can match above cwd (`../x/**`) would put outputs above `out`: refuse it up front. */
export function checkPatterns(settings: Settings): void {
  for (const pattern of settings.patterns) {
    if (pattern.startsWith('!')) continue;
    let depth = 0;
    for (const segment of pattern.split('/')) {
      if (segment === '..') depth -= 1;
      else if (segment !== '.' && segment !== '') depth += 1;
      if (depth < 0 || isAbsolute(pattern)) {
        throw new GlobpipeError(
          'EOUTSIDE',
          `Pattern \`${pattern}\` reaches outside cwd \`${settings.cwd}\`, so its outputs would escape \`${settings.out}\`; set --cwd to a common parent instead`,
          { path: pattern },
        );
      }
    }
  }
}

/**
 * Whether outputs can be planned file by file while the glob runs. Distinct
 * inputs give distinct outputs when every rename only appends (or there is
 * none) and the output file system keeps case; outputs can't be inputs when
 * the output directory, by real path, is outside the glob (elsewhere, or inside
 * cwd and so ignored) and no symlink is followed. Otherwise the whole glob is
 * planned and checked before anything is written.
 */
export function canPlanPerFile(settings: Settings): boolean {
  const injective =
    settings.ext === undefined &&
    !settings.caseInsensitive &&
    settings.chains.every((chain) => chain.every((t) => t.rename === undefined || t.appendsOnly === true));
  const { realCwd, realOut } = settings;
  const outInsideCwd = !escapes(realCwd, realOut) && realOut !== realCwd;
  const outOutsideCwd = escapes(realCwd, realOut) && escapes(realOut, realCwd);
  return injective && !settings.followSymlinks && !settings.inPlace && (outInsideCwd || outOutsideCwd);
}

export interface PlannedFile {
  readonly entry: Entry;
  readonly targets: readonly OutputTarget[];
}

/** Checks a whole plan by path before anything is written: two outputs on one path, or an output over an input. */
export function checkPlan(plans: readonly PlannedFile[], settings: Settings): void {
  const key = (path: string) => (settings.caseInsensitive ? path.normalize('NFC').toLowerCase() : path);
  const inputs = new Map<string, string>();
  for (const { entry } of plans) inputs.set(key(entry.absolutePath), entry.path);
  const owners = new Map<string, string>();
  for (const { entry, targets } of plans) {
    for (const target of targets) {
      const previous = owners.get(key(target.absolute));
      if (previous !== undefined) {
        throw new GlobpipeError(
          'ECOLLISION',
          previous === entry.path
            ? `Two transforms of \`${entry.path}\` write the same output \`${target.relative}\`; give them different extensions`
            : `\`${previous}\` and \`${entry.path}\` would both be written to \`${target.relative}\`${settings.caseInsensitive ? ' (the output file system ignores case)' : ''}`,
          { path: entry.path },
        );
      }
      owners.set(key(target.absolute), entry.path);
      const input = inputs.get(key(target.absolute));
      if (input !== undefined && !(settings.inPlace && input === entry.path))
        throw overwrite(entry.path, input, settings);
    }
  }
}

function overwrite(path: string, input: string, settings: Settings): GlobpipeError {
  return new GlobpipeError(
    'EOVERWRITE',
    input === path
      ? `Output of \`${path}\` would overwrite the input itself; use --in-place to replace inputs`
      : `Output of \`${path}\` would overwrite the input \`${input}\`${settings.inPlace ? '' : '; use --in-place to replace inputs'}`,
    { path },
  );
}

/**
 * Checks that no output lands on an input under another name: through a
 * symlinked directory, `..`, or a second mount of the same tree. Paths are
 * compared as (identity of the real directory, name), since every output is
 * renamed into place: a rename replaces the name in that directory, never the
 * file behind a symlink or a hard link.
 */
export async function checkOverwritesByIdentity(
  plans: readonly PlannedFile[],
  settings: Settings,
): Promise<void> {
  const dirIds = new Map<string, Promise<string | undefined>>();
  const dirId = (dir: string) => {
    let id = dirIds.get(dir);
    if (id === undefined) {
      id = settings.io.stat(dir).then(
        (s) => `${s.dev}:${s.ino}`,
        () => undefined,
      );
      dirIds.set(dir, id);
    }
    return id;
  };
  const name = (path: string) =>
    settings.caseInsensitive ? basename(path).normalize('NFC').toLowerCase() : basename(path);
  const inputs = new Map<string, string>();
  const outputs: { entry: Entry; target: OutputTarget }[] = [];
  for (const plan of plans) for (const target of plan.targets) outputs.push({ entry: plan.entry, target });
  const width = 64;
  for (let start = 0; start < plans.length; start += width) {
    await Promise.all(
      plans.slice(start, start + width).map(async ({ entry }) => {
        const id = await dirId(dirname(entry.absolutePath));
        if (id !== undefined) inputs.set(`${id}/${name(entry.absolutePath)}`, entry.path);
      }),
    );
  }
  for (let start = 0; start < outputs.length; start += width) {
    await Promise.all(
      outputs.slice(start, start + width).map(async ({ entry, target }) => {
        const id = await dirId(dirname(target.absolute));
        const input = id === undefined ? undefined : inputs.get(`${id}/${name(target.absolute)}`);
        if (input === undefined || (settings.inPlace && input === entry.path)) return;
        throw overwrite(entry.path, input, settings);
      }),
    );
  }
}
