import { basename, dirname } from 'node:path';
import type { Entry } from '../discover.js';
import { GlobpipeError } from '../errors.js';
import type { IoPort } from '../io/port.js';
import type { Site } from '../options/probe.js';
import type { Settings } from '../options/settings.js';
import { isInside } from '../paths.js';
import type { OutputTarget, PlannedFile } from './outputs.js';

/**
 * The checks on a whole plan, made before anything is written: two outputs on
 * one path, or an output over an input (by path, and by the identity of the
 * directory it really lands in).
 */

function overwrite(path: string, input: string, settings: Settings): GlobpipeError {
  return new GlobpipeError(
    'EOVERWRITE',
    input === path
      ? `Output of \`${path}\` would overwrite the input itself; use --in-place to replace inputs`
      : `Output of \`${path}\` would overwrite the input \`${input}\`${settings.inPlace ? '' : '; use --in-place to replace inputs'}`,
    { path },
  );
}

/** Checks a whole plan by path: two outputs on one path, or an output over an input. */
export function checkPlan(plans: readonly PlannedFile[], settings: Settings, site: Site): void {
  const key = (path: string) => (site.caseInsensitive ? path.normalize('NFC').toLowerCase() : path);
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
            : `\`${previous}\` and \`${entry.path}\` would both be written to \`${target.relative}\`${site.caseInsensitive ? ' (the output file system ignores case)' : ''}`,
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

/**
 * An output directory that is really a directory of the inputs (`out/sub` a
 * symlink to `cwd/sub`) would let outputs replace inputs: refused, per file,
 * before anything is written there.
 */
export function refuseInputDirectory(settings: Settings, site: Site, dir: string, real: string): void {
  if (settings.inPlace || isInside(real, site.realOut) || !isInside(real, site.realCwd)) return;
  throw new GlobpipeError(
    'EOVERWRITE',
    `output directory \`${dir}\` is really \`${real}\`, inside the inputs under \`${settings.cwd}\`: writing there could replace inputs; use --in-place to replace inputs`,
  );
}
