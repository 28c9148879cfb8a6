// fast-glob's own pattern helpers: the very regexes its entry and deep filters build.
import globUtils from 'fast-glob/out/utils/index.js';
import type { Settings } from '../options/settings.js';
import { patternPlan } from './patterns.js';

/**
 * Whether the glob would match a relative path (`a/b.txt`, forward slashes), decided from the
 * path alone, as fast-glob's filters decide it during a walk: a positive pattern matches the
 * path (with `dot` as given), no exclusion (a `!pattern` or an ignore) matches it (dot or not,
 * as fast-glob's entry filter matches them), and no exclusion that prunes the walk
 * (`node_modules`, `dist/**`) matches one of its parent directories. A run over a list of
 * changed paths (`only`) selects by this instead of walking the tree.
 */
export function selection(settings: Settings): (path: string) => boolean {
  const { convertPatternsToRe, matchAny, isAffectDepthOfReadingPattern } = globUtils.pattern;
  const plan = patternPlan(settings);
  const options = { dot: settings.dot, posix: true, strictSlashes: false };
  const positive = convertPatternsToRe(
    plan.positive.map(({ relative }) => relative),
    options,
  );
  const excluded = [...plan.glob.filter((p) => p.startsWith('!')).map((p) => p.slice(1)), ...settings.ignore];
  const negative = convertPatternsToRe(excluded, { ...options, dot: true });
  const pruning = convertPatternsToRe(excluded.filter(isAffectDepthOfReadingPattern), options);
  return (path) => {
    if (!matchAny(path, positive) || matchAny(path, negative)) return false;
    for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
      if (matchAny(path.slice(0, slash), pruning)) return false;
    }
    return true;
  };
}

/**
 * Whether the walk would never enter a directory (relative path): an exclusion that prunes
 * matches it (`node_modules`, `dist/**`), or its name starts with a dot and no pattern could
 * match such a name (without `dot`, only a pattern segment that starts with a dot does). A
 * watch does not even watch these: a dev server's `node_modules` or `.git` is no change.
 */
export function pruned(settings: Settings): (path: string) => boolean {
  const { convertPatternsToRe, matchAny, isAffectDepthOfReadingPattern } = globUtils.pattern;
  const plan = patternPlan(settings);
  const excluded = [
    ...plan.glob.filter((p) => p.startsWith('!')).map((p) => p.slice(1)),
    ...settings.ignore,
  ].filter(isAffectDepthOfReadingPattern);
  const pruning = convertPatternsToRe(excluded, { dot: settings.dot, posix: true, strictSlashes: false });
  const dotNames =
    !settings.dot && !plan.positive.some(({ relative }) => /(^|\/)\./.test(relative.replace(/^\.\//, '')));
  return (path) => {
    if (path === '' || path === '.') return false;
    if (dotNames && /(^|\/)\.[^/]*$/.test(path)) return true;
    return matchAny(path, pruning);
  };
}
