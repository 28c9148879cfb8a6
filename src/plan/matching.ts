// fast-glob's own pattern helpers: the same brace expansion and the same micromatch regexes,
// with the same options, that its filter matched the entry with.
import globUtils from 'fast-glob/out/utils/index.js';
import { GlobpipeError } from '../errors.js';
import type { Settings } from '../options/settings.js';
import type { ResolvedTransform } from '../transforms/resolved.js';
import { type PatternPlan, patternPlan } from './patterns.js';

type Test = (path: string) => boolean;

/** A test for whether fast-glob's filter, with these settings, matches a path (relative, `/`) by `pattern`. */
function matcher(pattern: string, settings: Settings): Test {
  const { expandBraceExpansion, makeRe, removeDuplicateSlashes } = globUtils.pattern;
  const options = { dot: settings.dot, posix: true, strictSlashes: false };
  const res = expandBraceExpansion(pattern).map((p) => makeRe(removeDuplicateSlashes(p), options));
  return (path) => res.some((re) => re.test(path));
}

/** fast-glob's paths keep a pattern's leading `./` (`./a/x.txt`); its filter matches them without. */
function bare(path: string): string {
  return path.startsWith('./') ? path.slice(2) : path;
}

/** A positive pattern that matched no file. */
export interface Unmatched {
  readonly pattern: string;
  /** It matched directories: the files in them need `dir/**`. */
  readonly onlyDirectories: boolean;
}

/**
 * Which of the positive patterns have matched a file so far. With one pattern,
 * every match is its own (no test); with several, each match is tested only
 * against the patterns still waiting for their first, so once all have matched
 * nothing more is done per entry.
 */
export class MatchTally {
  readonly #waiting: { pattern: string; test: Test | undefined; dirs: boolean }[];

  constructor(plan: PatternPlan, settings: Settings) {
    const single = plan.positive.length === 1;
    this.#waiting = plan.positive.map(({ given, relative }) => ({
      pattern: given,
      test: single ? undefined : matcher(relative, settings),
      dirs: false,
    }));
  }

  /** Every pattern has matched a file. */
  get settled(): boolean {
    return this.#waiting.length === 0;
  }

  file(path: string): void {
    const p = bare(path);
    for (let i = this.#waiting.length - 1; i >= 0; i -= 1) {
      const test = this.#waiting[i]?.test;
      if (test === undefined || test(p)) this.#waiting.splice(i, 1);
    }
  }

  /** fast-glob tests a directory with and without a trailing slash (`src/` matches directories only). */
  directory(path: string): void {
    const p = bare(path);
    for (const waiting of this.#waiting) {
      if (!waiting.dirs)
        waiting.dirs = waiting.test === undefined || waiting.test(p) || waiting.test(`${p}/`);
    }
  }

  unmatched(): Unmatched[] {
    return this.#waiting.map(({ pattern, dirs }) => ({ pattern, onlyDirectories: dirs }));
  }
}

/**
 * The run's refusal of patterns that matched nothing (a typo, `**\/*.nomatch`),
 * as prettier and eslint refuse them: a usage error naming each one.
 * `--no-error-on-unmatched-pattern` turns it off. A coming `--watch` will wait for
 * such patterns to match instead of calling this.
 */
export function unmatchedError(unmatched: readonly Unmatched[], settings: Settings): GlobpipeError {
  const named = unmatched.map(({ pattern }) => `\`${pattern}\``).join(', ');
  const what = unmatched.length === 1 ? `the pattern ${named}` : `the patterns ${named}`;
  // `src` matched the directory `src`: what was meant is most likely the files in it.
  const notes = unmatched
    .filter((u) => u.onlyDirectories)
    .map(({ pattern }) => {
      const dir = pattern.replace(/\/+$/, '');
      return ` (\`${pattern}\` matches only directories: \`${dir}/**\` matches the files in them)`;
    })
    .join('');
  return new GlobpipeError(
    'EUSAGE',
    `No files match ${what} in \`${settings.cwd}\`${notes}; check ${unmatched.length === 1 ? 'it' : 'them'} for typos, or ${settings.naming === 'flag' ? 'pass --no-error-on-unmatched-pattern' : 'set `errorOnUnmatchedPattern: false`'} if matching nothing is fine`,
    { path: unmatched[0]?.pattern },
  );
}

/** What globpipe's compressors write: a file that ends so is compressed already. */
const COMPRESSED = ['.gz', '.br'] as const;

/** A built-in compressor: its rename only appends, and what it appends is a compressed type. */
function isCompressor(t: ResolvedTransform): boolean {
  if (t.appendsOnly !== true || t.rename === undefined) return false;
  const appended = t.rename('x').slice(1);
  return (COMPRESSED as readonly string[]).includes(appended);
}

/**
 * When the pipeline compresses (gzip, brotli), files already compressed (`.gz`,
 * `.br`, whichever compressor wrote them) are skipped, as gzipper and precompress
 * skip them: a rerun over its own outputs must not make `a.css.gz.gz`, nor have
 * `a.css` refused for overwriting the input `a.css.gz`. A pattern names an
 * extension when one of its brace alternatives ends in it (`**\/*.gz`, `*.gz`,
 * `a.txt.gz`, `**\/*.{gz,br}`; not `**\/*` or `**\/*.g?`): a file such a pattern
 * matches is processed. Returns, per path, the reason it is skipped, or undefined.
 */
export function compressedSkip(settings: Settings): ((path: string) => string | undefined) | undefined {
  if (!settings.stages.some((stage) => stage.some(isCompressor))) return undefined;
  const { expandBraceExpansion } = globUtils.pattern;
  const alternatives = patternPlan(settings).positive.flatMap(({ relative }) =>
    expandBraceExpansion(relative),
  );
  const rules = COMPRESSED.map((ext) => {
    const naming = alternatives.filter((a) => a.toLowerCase().endsWith(ext)).map((a) => matcher(a, settings));
    // Kept when a naming alternative matched it: all are when every alternative names it.
    const kept: Test =
      naming.length === 0
        ? () => false
        : naming.length === alternatives.length
          ? () => true
          : (path) => naming.some((test) => test(path));
    return { ext, kept, reason: compressedReason(ext) };
  });
  const [gz, br] = rules as [(typeof rules)[number], (typeof rules)[number]];
  return (path) => {
    // `.gz` or `.br` in any case, read off the last three characters: no string made per file.
    const n = path.length;
    if (n < 3 || path.charCodeAt(n - 3) !== 0x2e) return undefined;
    const a = path.charCodeAt(n - 2) | 0x20;
    const b = path.charCodeAt(n - 1) | 0x20;
    const rule = a === 0x67 && b === 0x7a ? gz : a === 0x62 && b === 0x72 ? br : undefined;
    if (rule === undefined || rule.kept(bare(path))) return undefined;
    // Patterns match case as written: `C.GZ` is selected by one ending in `.GZ`.
    const actual = path.slice(n - 3);
    return actual === rule.ext ? rule.reason : compressedReason(actual);
  };
}

function compressedReason(ext: string): string {
  return `already compressed (${ext}); a pattern ending in ${ext} selects it`;
}
