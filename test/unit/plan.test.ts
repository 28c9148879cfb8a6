import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/discover.js';
import type { Site } from '../../src/options/probe.js';
import type { Settings } from '../../src/options/settings.js';
import { checkPlan } from '../../src/plan/checks.js';
import { canPlanPerFile, checkPatterns, planOutputs } from '../../src/plan/outputs.js';
import { builtin } from '../../src/transforms/builtins.js';
import type { ResolvedTransform } from '../../src/transforms/resolved.js';
import { testSettings } from '../settings.js';

const copy = builtin('copy', {});
const gzip = builtin('gzip', {});
const brotli = builtin('brotli', {});
const gunzip = builtin('gunzip', {});

const settings = testSettings;

/** The same object as settings and as site. */
const both = (s: Settings & Site): [Settings, Site] => [s, s];

const entry = (path: string): Entry => ({
  path,
  absolutePath: `/src/${path}`,
  kind: 'file',
});

describe('planOutputs', () => {
  it('mirrors the path under out', () => {
    expect(planOutputs(entry('a/b c/ü.txt'), settings({}))).toMatchObject([
      { relative: 'a/b c/ü.txt', absolute: '/out/a/b c/ü.txt' },
    ]);
  });

  it('applies renames along the chain, one output per fan-out branch', () => {
    const plan = planOutputs(entry('x.js'), settings({ stages: [[copy], [gzip, brotli]] }));
    expect(plan.map((t) => t.relative)).toEqual(['x.js.gz', 'x.js.br']);
    expect(planOutputs(entry('x.txt.gz'), settings({ stages: [[gunzip]] }))[0]?.relative).toBe('x.txt');
    expect(planOutputs(entry('x.txt'), settings({ stages: [[gunzip]] }))[0]?.relative).toBe('x.txt');
  });

  it('--ext replaces the last extension, and leaves dotfile names whole', () => {
    const s = settings({ ext: '.html' });
    expect(planOutputs(entry('docs/a.md'), s)[0]?.relative).toBe('docs/a.html');
    expect(planOutputs(entry('docs/a.tar.gz'), s)[0]?.relative).toBe('docs/a.tar.html');
    expect(planOutputs(entry('docs/.env'), s)[0]?.relative).toBe('docs/.env.html');
    expect(planOutputs(entry('v1.2/README'), s)[0]?.relative).toBe('v1.2/README.html');
  });

  it('refuses an output that escapes out', () => {
    expect(() => planOutputs(entry('../up.txt'), settings({}))).toThrow(/escapes the output directory/);
    const sneaky: ResolvedTransform = {
      name: 'sneaky',
      cpuBound: false,
      rename: () => '../../etc/passwd',
      buffer: (c) => c,
    };
    expect(() => planOutputs(entry('a.txt'), settings({ stages: [[sneaky]] }))).toThrow(
      expect.objectContaining({ code: 'EOUTSIDE' }),
    );
  });

  it('names a rename that returns no path', () => {
    const bad: ResolvedTransform = {
      name: 'bad',
      cpuBound: false,
      rename: () => undefined as never,
      buffer: (c) => c,
    };
    expect(() => planOutputs(entry('a.txt'), settings({ stages: [[bad]] }))).toThrow(
      'bad: rename() returned undefined, expected a path',
    );
  });
});

describe('checkPatterns', () => {
  it('accepts patterns inside cwd and refuses those reaching above it', () => {
    expect(() => checkPatterns(settings({ patterns: ['**/*.js', 'a/../b/*', '!../x'] }))).not.toThrow();
    for (const pattern of ['../x/**', 'a/../../x', '/etc/*']) {
      expect(() => checkPatterns(settings({ patterns: [pattern] }))).toThrow(
        expect.objectContaining({ code: 'EOUTSIDE' }),
      );
    }
  });
});

describe('canPlanPerFile', () => {
  it('streams when renames only append and out is outside the glob', () => {
    expect(canPlanPerFile(...both(settings({})))).toBe(true);
    expect(canPlanPerFile(...both(settings({ stages: [[gzip, brotli]] })))).toBe(true);
    expect(canPlanPerFile(...both(settings({ out: '/src/out' })))).toBe(true);
  });

  it('plans the whole glob first when outputs could collide or overwrite inputs', () => {
    expect(canPlanPerFile(...both(settings({ ext: '.html' })))).toBe(false);
    expect(canPlanPerFile(...both(settings({ stages: [[gunzip]] })))).toBe(false);
    expect(canPlanPerFile(...both(settings({ out: '/src' })))).toBe(false);
    expect(canPlanPerFile(...both(settings({ out: '/' })))).toBe(false);
  });
});

describe('checkPlan', () => {
  const plan = (s: Settings, paths: string[]) =>
    paths.map((p) => ({ entry: entry(p), targets: planOutputs(entry(p), s) }));

  it('finds two inputs on one output', () => {
    const s = settings({ ext: '.html' });
    expect(() => checkPlan(plan(s, ['a.md', 'b.md', 'a.txt']), ...both(s))).toThrow(
      '`a.md` and `a.txt` would both be written to `a.html`',
    );
  });

  it('finds two fan-out branches on one output', () => {
    const s = settings({ stages: [[gzip, brotli]], ext: '.z' });
    expect(() => checkPlan(plan(s, ['a.js']), ...both(s))).toThrow(
      /Two transforms of `a.js` write the same output `a.js.z`/,
    );
  });

  it('finds an output over another input, and over its own input unless in place', () => {
    const s = settings({ out: '/src', stages: [[gzip]] });
    expect(() => checkPlan(plan(s, ['a', 'a.gz']), ...both(s))).toThrow(
      'Output of `a` would overwrite the input `a.gz`; leave `a.gz` out of the match (`ignore`, or a narrower pattern), or write to another directory (`out`)',
    );
    const same = settings({ out: '/src' });
    expect(() => checkPlan(plan(same, ['a']), ...both(same))).toThrow(/would overwrite the input itself/);
    const inPlace = settings({ out: '/src', inPlace: true });
    expect(() => checkPlan(plan(inPlace, ['a', 'b']), ...both(inPlace))).not.toThrow();
  });
});

describe('case-folding output file systems', () => {
  it('a.txt and A.txt collide where the output file system ignores case', () => {
    const s = settings({ caseInsensitive: true });
    const plans = ['docs/a.txt', 'docs/A.txt'].map((p) => ({
      entry: entry(p),
      targets: planOutputs(entry(p), s),
    }));
    expect(() => checkPlan(plans, ...both(s))).toThrow(
      '`docs/a.txt` and `docs/A.txt` would both be written to `docs/A.txt` (the output file system ignores case)',
    );
    expect(() => checkPlan(plans, ...both(settings({})))).not.toThrow();
    expect(canPlanPerFile(...both(s))).toBe(false);
  });
});

describe('isNormal', () => {
  it('accepts plain relative paths and refuses anything join() would change', async () => {
    const { isNormal } = await import('../../src/paths.js');
    for (const path of ['a', 'a/b.txt', '.env', 'a/.hidden/b', 'x..y/z', '...'])
      expect(isNormal(path), path).toBe(true);
    for (const path of ['', '/a', 'a/', './a', 'a/./b', '../a', 'a/../b', 'a//b', '..', '.'])
      expect(isNormal(path), path).toBe(false);
  });
});
