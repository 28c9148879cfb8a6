import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Settings } from '../../src/options/settings.js';
import { checkPlan } from '../../src/plan/checks.js';
import { compressedSkip, MatchTally, unmatchedError } from '../../src/plan/matching.js';
import { planOutputs } from '../../src/plan/outputs.js';
import { patternPlan, relativeToCwd, tidy, unpaired } from '../../src/plan/patterns.js';
import { builtin } from '../../src/transforms/builtins.js';
import type { ResolvedTransform } from '../../src/transforms/resolved.js';
import { tempDir } from '../helpers.js';
import { testSettings } from '../settings.js';

const copy = builtin('copy', {});
const gzip = builtin('gzip', {});
const brotli = builtin('brotli', {});
const gunzip = builtin('gunzip', {});

const settings = testSettings;

describe('unpaired braces and brackets', () => {
  it('accepts patterns whose braces and brackets pair up, escaped ones, and literal ones inside a class', () => {
    for (const pattern of [
      '**/*',
      '**/*.{js,css}',
      '{a,{b,c}}/*',
      'c/q{1}.txt',
      '[abc]*',
      '[]a]',
      '[!]a]',
      '[^]a]',
      '[[:alpha:]]*',
      '[{]x',
      '[}]x',
      '\\{x',
      'a\\}',
      '\\[a',
      'a\\]',
      'c/q\\{1\\}.txt',
    ]) {
      expect(unpaired(pattern), pattern).toBeUndefined();
    }
  });

  it('finds the first brace or bracket without its pair', () => {
    expect(unpaired('**/*.{js')).toEqual({ char: '{', index: 5 });
    expect(unpaired('{a,{b}')).toEqual({ char: '{', index: 0 });
    expect(unpaired('**/*.{js,css}}')).toEqual({ char: '}', index: 13 });
    expect(unpaired('a}')).toEqual({ char: '}', index: 1 });
    expect(unpaired('[a')).toEqual({ char: '[', index: 0 });
    expect(unpaired('[[:alpha:]')).toEqual({ char: '[', index: 0 });
    expect(unpaired('x/a]')).toEqual({ char: ']', index: 3 });
    expect(unpaired('\\{a}')).toEqual({ char: '}', index: 3 });
  });

  it('refuses them as usage errors naming the pattern, positive, negated or ignored', () => {
    expect(() => patternPlan(settings({ patterns: ['**/*.{js'] }))).toThrow(
      'Pattern `**/*.{js` has a `{` (character 6) that is never closed: close it (`{js,css}`), or put a backslash before it to match it literally',
    );
    expect(() => patternPlan(settings({ patterns: ['*', '!a]'] }))).toThrow(
      'Pattern `!a]` has a `]` (character 3) that closes nothing: remove it, or put a backslash before it to match it literally',
    );
    expect(() => patternPlan(settings({ ignore: ['[ab'] }))).toThrow(
      expect.objectContaining({
        code: 'EUSAGE',
        message:
          'Ignore pattern `[ab` has a `[` (character 1) that is never closed: close it (`[abc]`), or put a backslash before it to match it literally',
      }),
    );
  });
});

describe('absolute patterns', () => {
  /** A cwd whose own path holds glob characters, a subdirectory, and a symlink to it. */
  function site() {
    const base = realpathSync(tempDir());
    const cwd = join(base, 'a[1] {x}', 'legacy');
    mkdirSync(join(cwd, 'sub'), { recursive: true });
    mkdirSync(join(base, 'elsewhere'));
    const link = join(base, 'link');
    symlinkSync(join(base, 'a[1] {x}'), link);
    symlinkSync(join(base, 'elsewhere'), join(cwd, 'out-link'));
    return { base, cwd, link, real: () => cwd };
  }

  it('are made relative when they lie inside cwd, cwd written raw or escaped', () => {
    const { cwd, real } = site();
    expect(relativeToCwd(`${cwd}/*.txt`, cwd, real)).toBe('*.txt');
    expect(relativeToCwd(`${cwd}/sub/**/*.{md,txt}`, cwd, real)).toBe('sub/**/*.{md,txt}');
    const escaped = cwd.replace(/[[\]{}]/g, (c) => `\\${c}`);
    expect(relativeToCwd(`${escaped}/*.txt`, cwd, real)).toBe('*.txt');
    expect(relativeToCwd(cwd, cwd, real)).toBe('.');
    expect(relativeToCwd(`${cwd}/`, cwd, real)).toBe('.');
  });

  it('are made relative through a symlink to cwd, escaping the directories they name', () => {
    const { base, cwd, link, real } = site();
    expect(relativeToCwd(`${link}/legacy/*.txt`, cwd, real)).toBe('*.txt');
    expect(relativeToCwd(`${link}/legacy/sub/*.txt`, cwd, real)).toBe('sub/*.txt');
    // A directory that does not exist: the longest leading run that does is taken.
    expect(relativeToCwd(`${link}/legacy/none/*.txt`, cwd, real)).toBe('none/*.txt');
    expect(relativeToCwd(`${link}/legacy/`, cwd, real)).toBe('.');
    // cwd given through the link, the pattern by its real path.
    const linked = join(link, 'legacy');
    expect(relativeToCwd(`${cwd}/*.txt`, linked, real)).toBe('*.txt');
    const parent = join(base, 'a[1] {x}');
    expect(relativeToCwd(`${link}/legacy/sub/*.txt`, parent, () => parent)).toBe('legacy/sub/*.txt');
    expect(relativeToCwd(`${cwd}/sub/*.txt`, join(base, 'link'), () => parent)).toBe('legacy/sub/*.txt');
    // A directory named in the pattern by its real path, below a cwd given through a link: escaped.
    const baseLink = join(tempDir(), 'base-link');
    symlinkSync(base, baseLink);
    expect(relativeToCwd(`${cwd}/*.txt`, baseLink, () => base)).toBe('a\\[1\\] \\{x\\}/legacy/*.txt');
  });

  it('are left as they are when they lie outside cwd', () => {
    const { base, cwd, real } = site();
    expect(relativeToCwd(`${base}/elsewhere/*.txt`, cwd, real)).toBeUndefined();
    expect(relativeToCwd('/etc/*.conf', cwd, real)).toBeUndefined();
    expect(relativeToCwd(`${base}/*.txt`, cwd, real)).toBeUndefined();
    // Written through cwd, a link inside it stays a path inside it, as `out-link/*.txt` would.
    expect(relativeToCwd(`${cwd}/out-link/*.txt`, cwd, real)).toBe('out-link/*.txt');
  });

  it('in a plan: inside cwd globbed relative, negated ones too; outside refused, naming the pattern', () => {
    const { cwd } = site();
    const plan = patternPlan(settings({ cwd, patterns: [`${cwd}/*.txt`, `!${cwd}/sub/**`, '**/*.md'] }));
    expect(plan.glob).toEqual(['*.txt', '!sub/**', '**/*.md']);
    expect(plan.positive).toEqual([
      { given: `${cwd}/*.txt`, relative: '*.txt' },
      { given: '**/*.md', relative: '**/*.md' },
    ]);
    for (const pattern of ['/etc/*', '../x/**', 'a/../../x', `${cwd}/../*.txt`]) {
      expect(() => patternPlan(settings({ cwd, patterns: [pattern] }))).toThrow(
        expect.objectContaining({
          code: 'EOUTSIDE',
          message: `Pattern \`${pattern}\` reaches outside cwd \`${cwd}\`, so its outputs would escape \`/out\`; set \`cwd\` to a common parent instead`,
        }),
      );
    }
    // An absolute exclusion elsewhere excludes nothing here; it is harmless.
    expect(patternPlan(settings({ cwd, patterns: ['*', '!/etc/**'] })).glob).toEqual(['*', '!/etc/**']);
  });

  it('every pattern negated matches nothing: refused unless unmatched patterns are allowed', () => {
    expect(() => patternPlan(settings({ patterns: ['!**/*.map'] }))).toThrow(
      'Every pattern excludes (`!**/*.map`), so nothing can match; add one that selects files, such as `**/*`',
    );
    expect(
      patternPlan(settings({ patterns: ['!**/*.map'], errorOnUnmatchedPattern: false })).positive,
    ).toEqual([]);
  });
});

describe('MatchTally', () => {
  const tally = (patterns: string[], dot = false) => {
    const s = settings({ patterns, dot });
    return new MatchTally(patternPlan(s), s);
  };

  it('one pattern: the first file settles it, with no test', () => {
    const t = tally(['**/*.nomatch']);
    expect(t.settled).toBe(false);
    t.file('anything.txt');
    expect(t.settled).toBe(true);
    expect(t.unmatched()).toEqual([]);
  });

  it('several: each pattern waits for a file of its own, in the order given', () => {
    const t = tally(['**/*.js', 'docs/*.{md,txt}', '**/*.nomatch', 'src', './lib/*.css', '!**/*.map']);
    t.file('a/b.js');
    t.directory('src');
    t.file('docs/x.txt');
    t.file('./lib/site.css');
    expect(t.settled).toBe(false);
    expect(t.unmatched()).toEqual([
      { pattern: '**/*.nomatch', onlyDirectories: false },
      { pattern: 'src', onlyDirectories: true },
    ]);
    t.file('q.nomatch');
    t.file('src');
    expect(t.settled).toBe(true);
  });

  it('matches as fast-glob does: dotfiles only with dot', () => {
    const without = tally(['**/*.txt', '*.md']);
    without.file('.well-known/security.txt');
    expect(without.unmatched().map((u) => u.pattern)).toEqual(['**/*.txt', '*.md']);
    const withDot = tally(['**/*.txt', '*.md'], true);
    withDot.file('.well-known/security.txt');
    expect(withDot.unmatched().map((u) => u.pattern)).toEqual(['*.md']);
  });

  it('the error names each pattern, and what a directory-only match needs', () => {
    const s = settings({ cwd: '/site' });
    expect(unmatchedError([{ pattern: '**/*.nomatch', onlyDirectories: false }], s).message).toBe(
      'No files match the pattern `**/*.nomatch` in `/site`; check it for typos, or set `errorOnUnmatchedPattern: false` if matching nothing is fine',
    );
    const two = unmatchedError(
      [
        { pattern: '*.nomatch', onlyDirectories: false },
        { pattern: 'src/', onlyDirectories: true },
      ],
      s,
    );
    expect(two).toMatchObject({
      code: 'EUSAGE',
      message:
        'No files match the patterns `*.nomatch`, `src/` in `/site` (`src/` matches only directories: `src/**` matches the files in them); check them for typos, or set `errorOnUnmatchedPattern: false` if matching nothing is fine',
    });
    expect(two.isUsageError).toBe(true);
  });
});

describe('compressedSkip', () => {
  const skip = (stages: ResolvedTransform[][], patterns = ['**/*']) =>
    compressedSkip(settings({ stages, patterns }));

  it('is off unless the pipeline compresses', () => {
    expect(skip([[copy]])).toBeUndefined();
    expect(skip([[gunzip]])).toBeUndefined();
  });

  it('skips .gz and .br (any case) when gzip or brotli runs, in any stage or branch', () => {
    for (const stages of [[[gzip]], [[brotli]], [[gzip, brotli]], [[copy], [gzip]], [[gzip], [brotli]]]) {
      const reason = skip(stages);
      expect(reason?.('a.css.gz')).toBe('already compressed (.gz); a pattern ending in .gz selects it');
      expect(reason?.('d/a.css.br')).toBe('already compressed (.br); a pattern ending in .br selects it');
      // Named as the file writes it: patterns match case as written.
      expect(reason?.('A.GZ')).toBe('already compressed (.GZ); a pattern ending in .GZ selects it');
      expect(reason?.('a.Br')).toBe('already compressed (.Br); a pattern ending in .Br selects it');
      for (const path of ['a.css', 'a.js', 'gz', 'a.gzip', 'a.tgz', 'a.gz.txt', 'br'])
        expect(reason?.(path), path).toBeUndefined();
    }
  });

  it('keeps the files a pattern ending in their extension matches', () => {
    expect(skip([[gzip]], ['**/*.gz'])?.('a.gz')).toBeUndefined();
    expect(skip([[gzip]], ['*.gz'])?.('a.gz')).toBeUndefined();
    expect(skip([[gzip]], ['a.txt.gz'])?.('a.txt.gz')).toBeUndefined();
    const both = skip([[gzip, brotli]], ['**/*.{gz,css}']);
    expect(both?.('x.gz')).toBeUndefined();
    expect(both?.('x.br')).toBe('already compressed (.br); a pattern ending in .br selects it');
    // Named for the files it matches, not for every file another pattern matches.
    const mixed = skip([[gzip]], ['**/*', 'keep/*.gz']);
    expect(mixed?.('keep/a.gz')).toBeUndefined();
    expect(mixed?.('./keep/a.gz')).toBeUndefined();
    expect(mixed?.('other/a.gz')).toBe('already compressed (.gz); a pattern ending in .gz selects it');
    expect(mixed?.('keep/a.br')).toBe('already compressed (.br); a pattern ending in .br selects it');
    // Only a literal ending names it.
    expect(skip([[gzip]], ['**/*.g?'])?.('a.gz')).toBe(
      'already compressed (.gz); a pattern ending in .gz selects it',
    );
  });
});

describe('plan advice', () => {
  const entry = (path: string) => ({ path, absolutePath: `/src/${path}`, kind: 'file' as const });
  const plan = (s: Settings, paths: string[]) =>
    paths.map((p) => ({ entry: entry(p), targets: planOutputs(entry(p), s) }));
  const site = { realCwd: '/src', realOut: '/src', caseInsensitive: false };

  it('two fan-out branches on one name: leave --ext out when that is what made it one', () => {
    const s = settings({ stages: [[gzip, brotli]], ext: '.z' });
    expect(() => checkPlan(plan(s, ['a.js']), s, site)).toThrow(
      'Two transforms of `a.js` write the same output `a.js.z`; `ext` .z gives them one name: leave `ext` out',
    );
    const same = settings({ stages: [[copy, copy]] });
    expect(() => checkPlan(plan(same, ['a.js']), same, site)).toThrow(
      'Two transforms of `a.js` write the same output `a.js`; run them one at a time, each with its own `out`',
    );
  });

  it('an output over another input is told before the rest, and --out is offered only where it works', () => {
    const s = settings({ out: '/src', stages: [[gunzip]] });
    // a.txt over itself, and a.txt.gz both over a.txt and onto a.txt's output: writing elsewhere would still collide.
    expect(() => checkPlan(plan(s, ['a.txt', 'a.txt.gz']), s, site)).toThrow(
      'Output of `a.txt.gz` would overwrite the input `a.txt`; leave `a.txt` out of the match (`ignore`, or a narrower pattern)',
    );
    const inPlace = settings({ out: '/src', inPlace: true, stages: [[gzip]] });
    expect(() => checkPlan(plan(inPlace, ['a', 'a.gz']), inPlace, site)).toThrow(
      'Output of `a` would overwrite the input `a.gz`; leave `a.gz` out of the match (`ignore`, or a narrower pattern)',
    );
    const self = settings({ out: '/src' });
    expect(() => checkPlan(plan(self, ['a', 'b']), self, site)).toThrow(
      'Output of `a` would overwrite the input itself; use `inPlace` instead of `out` to replace inputs',
    );
  });
});

describe('tidy', () => {
  it('drops . segments and resolves .. against a literal segment, never against glob syntax', () => {
    expect(tidy('sub/../f1.css')).toBe('f1.css');
    expect(tidy('./a/./b/*.css')).toBe('a/b/*.css');
    expect(tidy('a/b/../../c')).toBe('c');
    expect(tidy('**/../x')).toBe('**/../x');
    expect(tidy('{a,b}/../x')).toBe('{a,b}/../x');
    expect(tidy('a/..')).toBe('.');
    expect(tidy('a//b/*.txt')).toBe('a/b/*.txt');
    expect(tidy('.//*.txt')).toBe('*.txt');
  });
});
