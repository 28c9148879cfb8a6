import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import fg from 'fast-glob';
import { GlobpipeError } from '../errors.js';
import { namesFor } from '../options/names.js';
import type { Settings } from '../options/settings.js';
import { isInside, toPosix } from '../paths.js';

/**
 * The user's patterns as the glob will run them, checked once before anything
 * is read: braces and brackets that pair up, absolute patterns inside `--cwd`
 * made relative, nothing that reaches outside `--cwd`.
 */
export interface PatternPlan {
  /** What fast-glob is given: every pattern, relative to cwd (negated ones keep their `!`). */
  readonly glob: readonly string[];
  /** The patterns that select files, each as the user wrote it and as it is globbed. */
  readonly positive: readonly { readonly given: string; readonly relative: string }[];
}

const plans = new WeakMap<Settings, PatternPlan>();

/** The settings' pattern plan, made (and checked) on the first call; throws a usage error for a bad pattern. */
export function patternPlan(settings: Settings): PatternPlan {
  let plan = plans.get(settings);
  if (plan === undefined) {
    plan = makePlan(settings);
    plans.set(settings, plan);
  }
  return plan;
}

function makePlan(settings: Settings): PatternPlan {
  let realCwd: string | undefined;
  const real = () => {
    // cwd was found to be a directory (options/probe.ts); if it went since, its own path stands.
    if (realCwd === undefined) {
      try {
        realCwd = realpathSync(settings.cwd);
      } catch {
        realCwd = settings.cwd;
      }
    }
    return realCwd;
  };
  for (const pattern of settings.ignore) refuseUnpaired(pattern, 'Ignore pattern');
  const glob: string[] = [];
  const positive: { given: string; relative: string }[] = [];
  for (const given of settings.patterns) {
    refuseUnpaired(given, 'Pattern');
    const negated = given.startsWith('!');
    const body = negated ? given.slice(1) : given;
    let rel = body;
    if (isAbsolute(body)) {
      const inside = relativeToCwd(body, settings.cwd, real);
      // An absolute exclusion elsewhere excludes nothing under cwd: fast-glob is given it as it is.
      if (inside === undefined && !negated) throw outside(given, settings);
      // `<cwd>//*.txt` is `*.txt`: the slashes left after cwd's path are no root.
      rel = inside === undefined ? body : inside.replace(/^\/+/, '');
    }
    if (!negated && climbsOut(rel)) throw outside(given, settings);
    // `sub/../a.css` is `a.css`: the glob would report it by the longer path, a second name for one file.
    if (/(^|\/)\.\.?(\/|$)|\/\//.test(rel)) rel = tidy(rel);
    if (negated) {
      glob.push(`!${rel}`);
      continue;
    }
    glob.push(rel);
    positive.push({ given, relative: rel });
  }
  if (positive.length === 0 && settings.errorOnUnmatchedPattern) {
    throw new GlobpipeError(
      'EUSAGE',
      `Every pattern excludes (${settings.patterns.map((p) => `\`${p}\``).join(', ')}), so nothing can match; add one that selects files, such as \`**/*\``,
    );
  }
  return { glob, positive };
}

function outside(pattern: string, settings: Settings): GlobpipeError {
  return new GlobpipeError(
    'EOUTSIDE',
    `Pattern \`${pattern}\` reaches outside cwd \`${settings.cwd}\`, so its outputs would escape \`${settings.out}\`; set ${namesFor(settings.naming).name('cwd')} to a common parent instead`,
    { path: pattern },
  );
}

/** Glob syntax in a path segment: a `..` after it cannot be resolved before the walk. */
const MAGIC = /[*?[\]{}()!+@]/;

/**
 * `./a/../b//*.css` -> `b/*.css`: `.` and empty segments dropped, `..` resolved against a
 * literal segment before it.
 */
export function tidy(rel: string): string {
  const out: string[] = [];
  // Relative by now (an absolute pattern inside cwd was made relative): no segment is empty.
  for (const segment of rel.split('/')) {
    if (segment === '.' || segment === '') continue;
    const last = out.at(-1);
    if (segment === '..' && last !== undefined && last !== '..' && !MAGIC.test(last)) {
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out.join('/') || '.';
}

/** `a/../../x` climbs above where it starts; `a/../b` does not. */
function climbsOut(pattern: string): boolean {
  let depth = 0;
  for (const segment of pattern.split('/')) {
    if (segment === '..') depth -= 1;
    else if (segment !== '.' && segment !== '') depth += 1;
    if (depth < 0) return true;
  }
  return false;
}

/** `\[a\]` -> `[a]`: the path an escaped pattern text names. */
function unescaped(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/**
 * An absolute pattern as the same pattern relative to cwd, or undefined when it
 * does not lie inside cwd. cwd's own path may be written in it as it is
 * (`"$PWD/*.txt"` from a shell, glob characters and all: `/tmp/a[1]/*.txt` means
 * the directory `a[1]`) or escaped (`/tmp/a\[1\]/*.txt`), and through a symlink
 * or by its real path: the longest leading run of segments that is a directory
 * inside cwd, by real path, is taken as that directory, escaped, and the rest
 * is kept as the pattern it is.
 */
export function relativeToCwd(pattern: string, cwd: string, realCwd: () => string): string | undefined {
  const text = toPosix(pattern);
  const spelled = (dir: string) => {
    for (const form of new Set([toPosix(dir), fg.escapePath(toPosix(dir))])) {
      const prefix = form.endsWith('/') ? form : `${form}/`;
      // cwd itself (`$PWD/legacy`, `$PWD/legacy/`) is `.`, which fast-glob takes; an empty pattern it refuses.
      if (text === form || text === prefix) return '.';
      if (text.startsWith(prefix)) return text.slice(prefix.length);
    }
    return undefined;
  };
  const lexical = spelled(cwd);
  if (lexical !== undefined) return lexical;
  const root = realCwd();
  const segments = text.split('/');
  for (let k = segments.length - 1; k >= 1; k -= 1) {
    const dir = segments.slice(0, k).join('/') || '/';
    for (const candidate of new Set([dir, unescaped(dir)])) {
      let real: string;
      try {
        real = realpathSync(candidate);
      } catch {
        continue;
      }
      if (!isInside(real, root)) continue;
      const rest = segments.slice(k).join('/');
      if (real !== root) return `${fg.escapePath(toPosix(relative(root, real)))}/${rest}`;
      return rest === '' ? '.' : rest;
    }
  }
  return undefined;
}

/** A brace or bracket without its pair: the character and its index in the pattern. */
export interface Unpaired {
  readonly char: '{' | '}' | '[' | ']';
  readonly index: number;
}

/**
 * The first brace or bracket that does not pair up, or undefined when they all
 * do. fast-glob would take an unpaired one literally and quietly match nothing
 * (`**\/*.{js` looks for names ending in `.{js`); a literal one is written
 * escaped (`\{`). Inside a bracket class `{` is literal, a `]` right after `[`,
 * `[!` or `[^` is a member, and `[:alpha:]` is a POSIX class.
 */
export function unpaired(pattern: string): Unpaired | undefined {
  const braces: number[] = [];
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') i += 1;
    else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) return { char: '[', index: i };
      i = end;
    } else if (c === ']') return { char: ']', index: i };
    else if (c === '{') braces.push(i);
    else if (c === '}' && braces.pop() === undefined) return { char: '}', index: i };
  }
  const first = braces[0];
  return first === undefined ? undefined : { char: '{', index: first };
}

/** The index of the `]` that closes the class opened at `open`, or -1. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i += 1;
  if (pattern[i] === ']') i += 1;
  for (; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') i += 1;
    else if (c === ']') return i;
    else if (c === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2);
      if (close >= 0) i = close + 1;
    }
  }
  return -1;
}

/** `Pattern `**\/*.{js` has a `{` (character 6) that is never closed: close it (`{js,css}`), or put a backslash before it to match it literally` */
function refuseUnpaired(pattern: string, label: string): void {
  const found = unpaired(pattern);
  if (found === undefined) return;
  const { char, index } = found;
  const what =
    char === '{'
      ? 'that is never closed: close it (`{js,css}`)'
      : char === '['
        ? 'that is never closed: close it (`[abc]`)'
        : 'that closes nothing: remove it';
  throw new GlobpipeError(
    'EUSAGE',
    `${label} \`${pattern}\` has a \`${char}\` (character ${index + 1}) ${what}, or put a backslash before it to match it literally`,
    { path: pattern },
  );
}
