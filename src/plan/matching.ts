// fast-glob's own pattern helpers: the same brace expansion and the same micromatch regexes,
// with the same options, that its filter matched the entry with.
import globUtils from 'fast-glob/out/utils/index.js';
import { GlobpipeError } from '../errors.js';
import type { Settings } from '../options/settings.js';
import {
  COMPRESSED_EXTENSIONS,
  extensionOf,
  isCompressor,
  notWorthCompressing,
} from '../transforms/web-types.js';
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

/**
 * When the pipeline compresses (gzip, brotli, zstd), files not worth compressing are
 * skipped: those already compressed (`.gz`, `.br`, `.zst`, whichever compressor wrote
 * them), as gzipper and precompress skip them, so a rerun over its own outputs makes no
 * `a.css.gz.gz` and `a.css` is not refused for overwriting the input `a.css.gz`; and
 * files whose type says so (png, jpg, woff2, zip, mp4…: web-types.ts decides, from
 * mime-types and compressible) unless `allTypes` is set. A pattern names an extension
 * when one of its brace alternatives ends in it (`**\/*.gz`, `*.png`, `a.txt.gz`,
 * `**\/*.{gz,br}`; not `**\/*` or `**\/*.g?`): a file such a pattern matches is
 * processed. Returns, per path, the reason it is skipped, or undefined.
 */
export function compressedSkip(settings: Settings): ((path: string) => string | undefined) | undefined {
  if (!settings.stages.some((stage) => stage.some(isCompressor))) return undefined;
  const { expandBraceExpansion } = globUtils.pattern;
  const alternatives = patternPlan(settings).positive.flatMap(({ relative }) =>
    expandBraceExpansion(relative),
  );
  /** Per extension, lower case: whether a pattern naming it selects the path. */
  const keptBy = new Map<string, Test>();
  const kept = (ext: string): Test => {
    let test = keptBy.get(ext);
    if (test === undefined) {
      const naming = alternatives
        .filter((a) => a.toLowerCase().endsWith(ext))
        .map((a) => matcher(a, settings));
      // Kept when a naming alternative matched it: all are when every alternative names it.
      test =
        naming.length === 0
          ? () => false
          : naming.length === alternatives.length
            ? () => true
            : (path) => naming.some((t) => t(path));
      keptBy.set(ext, test);
    }
    return test;
  };
  /** Per extension as written (a run sees few): its skip reason, or '' when it is compressed. */
  const verdicts = new Map<string, string>();
  return (path) => {
    const ext = extensionOf(path);
    if (ext === '') return undefined;
    let why = verdicts.get(ext);
    if (why === undefined) {
      const own = (COMPRESSED_EXTENSIONS as readonly string[]).includes(ext.toLowerCase());
      why = own || !settings.allTypes ? (notWorthCompressing(ext) ?? '') : '';
      // Patterns match case as written: `C.GZ` is selected by one ending in `.GZ`.
      if (why !== '')
        why = `${why}; a pattern ending in ${ext} selects it${own ? '' : allTypesHint(settings)}`;
      verdicts.set(ext, why);
    }
    if (why === '' || kept(ext.toLowerCase())(bare(path))) return undefined;
    return why;
  };
}

/** ` (--all-types: every type)`, or with run()'s keys `` (`allTypes`: every type) ``. */
function allTypesHint(settings: Settings): string {
  return ` (${settings.naming === 'flag' ? '--all-types' : '`allTypes`'}: every type)`;
}
