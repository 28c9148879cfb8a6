import { basename, dirname } from 'node:path';
import type { Entry } from '../discover.js';
import { GlobpipeError } from '../errors.js';
import type { IoPort } from '../io/port.js';
import { namesFor } from '../options/names.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { isInside } from '../paths.js';
import { type OutputTarget, type PlannedFile, planOutputs } from './outputs.js';

/**
 * The checks on a whole plan, made before anything is written: two outputs on
 * one path, or an output over an input (by path, and by the identity of the
 * directory it really lands in).
 */

/**
 * Each piece of advice is one that works there. --in-place lets an output replace
 * its own input only (and `--out` then goes: the two exclude each other), so it
 * is given only when that is all that is wrong. An output over another input is
 * solved by leaving that input out of the match (the output then replaces a file
 * that is not an input, as any rerun does), or by writing to another directory
 * when no two outputs share a path there.
 */
function overwrite(path: string, input: string, settings: Settings, elsewhere: boolean): GlobpipeError {
  const n = namesFor(settings.naming);
  return new GlobpipeError(
    'EOVERWRITE',
    input === path
      ? `Output of \`${path}\` would overwrite the input itself; use ${n.name('inPlace')} instead of ${n.name('out')} to replace inputs`
      : `Output of \`${path}\` would overwrite the input \`${input}\`; leave \`${input}\` out of the match (${n.name('ignore')}, or a narrower pattern)${elsewhere && !settings.inPlace ? `, or write to another directory (${n.name('out')})` : ''}`,
    { path },
  );
}

/**
 * Two branches of a fan-out on one output: when --ext gave it, their own names
 * differ without it (gzip,brotli: `.gz` and `.br`); otherwise their renames
 * agree, and only separate runs, to separate directories, can write both.
 */
function sameOutput(
  entry: Entry,
  target: OutputTarget,
  targets: readonly OutputTarget[],
  settings: Settings,
) {
  const withoutExt = settings.ext === undefined ? [] : planOutputs(entry, { ...settings, ext: undefined });
  const distinct = new Set(withoutExt.map((t) => t.relative)).size === targets.length;
  const n = namesFor(settings.naming);
  const advice = distinct
    ? `${n.name('ext')} ${settings.ext} gives them one name: leave ${n.name('ext')} out`
    : `run them one at a time${settings.inPlace ? '' : `, each with its own ${n.name('out')}`}`;
  return new GlobpipeError(
    'ECOLLISION',
    `Two transforms of \`${entry.path}\` write the same output \`${target.relative}\`; ${advice}`,
    { path: entry.path },
  );
}

/**
 * Checks a whole plan by path: two outputs on one path, or an output over an
 * input. Every conflict is looked at before one is told, so that its advice
 * holds for the whole plan: an output over another input first, then two outputs
 * on one path, then an output over its own input.
 */
export function checkPlan(plans: readonly PlannedFile[], settings: Settings, site: Site): void {
  const key = (path: string) => (site.caseInsensitive ? path.normalize('NFC').toLowerCase() : path);
  const inputs = new Map<string, string>();
  for (const { entry } of plans) inputs.set(key(entry.absolutePath), entry.path);
  const owners = new Map<string, string>();
  let overOther: [path: string, input: string] | undefined;
  let collision: GlobpipeError | undefined;
  let overItself: string | undefined;
  for (const { entry, targets } of plans) {
    for (const target of targets) {
      const previous = owners.get(key(target.absolute));
      if (previous === entry.path) collision ??= sameOutput(entry, target, targets, settings);
      else if (previous !== undefined) {
        collision ??= new GlobpipeError(
          'ECOLLISION',
          `\`${previous}\` and \`${entry.path}\` would both be written to \`${target.relative}\`${site.caseInsensitive ? ' (the output file system ignores case)' : ''}`,
          { path: entry.path },
        );
      } else owners.set(key(target.absolute), entry.path);
      const input = inputs.get(key(target.absolute));
      if (input === undefined || (settings.inPlace && input === entry.path)) continue;
      if (input !== entry.path) overOther ??= [entry.path, input];
      else overItself ??= entry.path;
    }
  }
  if (overOther !== undefined) throw overwrite(...overOther, settings, collision === undefined);
  if (collision !== undefined) throw collision;
  if (overItself !== undefined) throw overwrite(overItself, overItself, settings, true);
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
  site: Site,
  port: IoPort,
): Promise<void> {
  const dirIds = new Map<string, Promise<string | undefined>>();
  const dirId = (dir: string) => {
    let id = dirIds.get(dir);
    if (id === undefined) {
      id = port.stat(dir).then(
        (s) => `${s.dev}:${s.ino}`,
        () => undefined,
      );
      dirIds.set(dir, id);
    }
    return id;
  };
  const name = (path: string) =>
    site.caseInsensitive ? basename(path).normalize('NFC').toLowerCase() : basename(path);
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
  let overItself: string | undefined;
  for (let start = 0; start < outputs.length; start += width) {
    await Promise.all(
      outputs.slice(start, start + width).map(async ({ entry, target }) => {
        const id = await dirId(dirname(target.absolute));
        const input = id === undefined ? undefined : inputs.get(`${id}/${name(target.absolute)}`);
        if (input === undefined || (settings.inPlace && input === entry.path)) return;
        // As in checkPlan (which found no two outputs on one path): another input first.
        if (input !== entry.path) throw overwrite(entry.path, input, settings, true);
        overItself ??= entry.path;
      }),
    );
  }
  if (overItself !== undefined) throw overwrite(overItself, overItself, settings, true);
}

/**
 * An output directory that is really a directory of the inputs would let outputs
 * replace inputs: refused, per file, before anything is written there. No
 * symlink under `out` is followed (io/beneath.ts), so this happens only when
 * `out` itself, or a directory above it, has come to lead there since the run
 * checked it: no option makes that safe, so none is suggested.
 */
export function refuseInputDirectory(settings: Settings, site: Site, dir: string, real: string): void {
  if (settings.inPlace || isInside(real, site.realOut) || !isInside(real, site.realCwd)) return;
  throw new GlobpipeError(
    'EOVERWRITE',
    `output directory \`${dir}\` is really \`${real}\`, inside the inputs under \`${settings.cwd}\` (\`${settings.out}\` now leads there): writing there could replace inputs`,
  );
}
