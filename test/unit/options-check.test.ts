import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { GlobpipeError } from '../../src/errors.js';
import { checkKeys, checkOptions, didYouMean, editDistance } from '../../src/options/check.js';
import {
  flagNames,
  keyNames,
  NAMING,
  namingOf,
  OptionError,
  optionTable,
  withNaming,
} from '../../src/options/names.js';

describe('editDistance (Damerau-Levenshtein, neighbours swapped count as one edit)', () => {
  it.each([
    ['concurency', 'concurrency', 1],
    ['dryrun', 'dryrun', 0],
    ['ab', 'ba', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['ofset', 'offset', 1],
    ['fsnyc', 'fsync', 1],
  ])('%s -> %s: %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('didYouMean', () => {
  const keys = ['out', 'dryRun', 'concurrency', 'skipExisting', 'ifNewer', 'exec', 'ext'];
  it.each([
    ['dryrun', 'dryRun'], // another case
    ['DRY_RUN', 'dryRun'], // another spelling
    ['dry-run', 'dryRun'],
    ['concurency', 'concurrency'], // one edit
    ['concurrancy', 'concurrency'],
    ['cnocurrency', 'concurrency'], // a swap
    ['ot', 'out'], // short names: one edit at most
    ['conc', 'concurrency'], // a prefix
    ['skip', 'skipExisting'],
    ['outdir', 'out'], // a known name it starts with
  ])('%s -> %s', (name, meant) => {
    expect(didYouMean(name, keys)).toBe(meant);
  });

  it.each([['frobnicate'], ['xy'], ['zz'], ['ifnwer-also']])('%s -> nothing', (name) => {
    expect(didYouMean(name, keys)).toBeUndefined();
  });

  it('takes the nearest of several, and flags as well as keys', () => {
    expect(didYouMean('if-neewr', keys)).toBe('ifNewer');
    expect(didYouMean('dryRun', ['dry-run', 'dot'])).toBe('dry-run');
  });
});

describe('checkKeys', () => {
  const show = (name: string) => `--${name}`;
  it('passes known keys', () => {
    expect(() => checkKeys(['out', 'dot'], ['out', 'dot', 'json'], show)).not.toThrow();
  });

  it('names one unknown key with its likely meaning, or alone', () => {
    expect(() => checkKeys(['dryrun'], ['dry-run'], show)).toThrow(
      new GlobpipeError('EUSAGE', 'Unknown option --dryrun: did you mean --dry-run?'),
    );
    expect(() => checkKeys(['frobnicate'], ['dry-run'], show)).toThrow('Unknown option --frobnicate');
  });

  it('names every unknown key at once', () => {
    expect(() =>
      checkKeys(['concurency', 'out', 'dryrun', 'zzz'], ['out', 'concurrency', 'dry-run'], show),
    ).toThrow(
      'Unknown options: --concurency (did you mean --concurrency?), --dryrun (did you mean --dry-run?), --zzz',
    );
  });

  it('suggests only from its suggestions', () => {
    expect(() => checkKeys(['prob'], ['probe', 'out'], show, ['out'])).toThrow(/^Unknown option --prob$/);
  });
});

describe('checkOptions: run options against the known keys and kinds', () => {
  it('accepts every known key with a value of its kind, internal ones too', () => {
    expect(() =>
      checkOptions({
        cwd: '.',
        patterns: ['*'],
        out: 'o',
        transforms: ['gzip', ['copy', { name: 'x', buffer: (c: Buffer) => c }]],
        ignore: 'x',
        concurrency: 2,
        dryRun: true,
        from: /a/g,
        signal: new AbortController().signal,
        onEvent: () => {},
        executor: 'single',
        port: {},
        probe: { onEnqueue() {} },
        level: undefined,
      }),
    ).not.toThrow();
  });

  it('rejects an unknown key with a suggestion, never an internal key', () => {
    expect(() => checkOptions({ concurency: 2, dryrun: true })).toThrow(
      'Unknown options: `concurency` (did you mean `concurrency`?), `dryrun` (did you mean `dryRun`?)',
    );
    expect(() => checkOptions({ prob: {} })).toThrow(/^Unknown option `prob`$/);
  });

  it('names options as flags when asked (a config key for a flag, or a CLI check)', () => {
    expect(() => checkOptions({ dryrun: true }, 'flag')).toThrow(
      'Unknown option --dryrun: did you mean --dry-run?',
    );
    expect(() => checkOptions({ concurrency: '2' }, 'flag')).toThrow(
      "Expected --concurrency to be a number, got '2'",
    );
  });

  it.each([
    [{ concurrency: '2' }, 'Expected `concurrency` to be a number, got `2` (string)'],
    [{ maxErrors: true }, 'Expected `maxErrors` to be a number, got `true` (boolean)'],
    [{ dryRun: 'yes' }, 'Expected `dryRun` to be a boolean, got `yes` (string)'],
    [{ out: 3 }, 'Expected `out` to be a string, got `3` (number)'],
    [{ ignore: ['a', 1] }, 'Expected `ignore` to be a string or a list of strings, got `["a",1]` (array)'],
    [{ from: 3 }, 'Expected `from` to be a string or a RegExp, got `3` (number)'],
    [{ onEvent: {} }, 'Expected `onEvent` to be a function, got an object'],
    [{ signal: 'stop' }, 'Expected `signal` to be an AbortSignal, got `stop` (string)'],
    [
      { transforms: 3 },
      'Expected `transforms` to be a transform (a name, a module path or an object) or a list of them, got `3` (number)',
    ],
    [{ level: null }, 'Expected `level` to be a number, got `null` (null)'],
  ])('rejects %j', (options, message) => {
    expect(() => checkOptions(options)).toThrow(new GlobpipeError('EUSAGE', message));
  });
});

describe('naming', () => {
  it('names a key in backticks for run(), as its flag for the CLI', () => {
    expect(keyNames.name('inPlace')).toBe('`inPlace`');
    expect(flagNames.name('inPlace')).toBe('--in-place');
    expect(flagNames.name('fromEncoding')).toBe('--from-encoding');
    expect(flagNames.name('transforms')).toBe('--transform');
    // No flag: the key, as the library knows it; a typo: what it would be as a flag.
    expect(flagNames.name('onEvent')).toBe('`onEvent`');
    expect(flagNames.name('fooBar')).toBe('--foo-bar');
    expect(flagNames.name('x')).toBe('-x');
  });

  it('shows a value with its type for run(), as typed for the CLI', () => {
    expect(keyNames.value('4')).toBe('`4` (string)');
    expect(keyNames.value(4)).toBe('`4` (number)');
    expect(keyNames.value(/a/g)).toBe('`/a/g` (RegExp)');
    expect(keyNames.value(() => 1)).toBe('a function');
    const loop: unknown[] = [];
    loop.push(loop);
    expect(keyNames.value(loop)).toBe('an array');
    expect(flagNames.value('a/b')).toBe("'a/b'");
    expect(flagNames.value(12)).toBe('12');
  });

  it('marks options for the CLI with a symbol no key check sees', () => {
    const options = withNaming({ out: 'x' }, 'flag');
    expect(namingOf(options)).toBe('flag');
    expect(namingOf({ ...options })).toBe('flag');
    expect(namingOf({ out: 'x' })).toBe('key');
    expect(Object.keys(options)).toEqual(['out']);
    expect(() => checkOptions(options)).not.toThrow();
    expect((options as Record<symbol, unknown>)[NAMING]).toBe('flag');
  });

  it('an OptionError names keys, and renders as flags on demand, code and cause kept', () => {
    const cause = new Error('why');
    const error = new OptionError((n) => `${n.name('inPlace')} and ${n.name('out')}: ${n.value(3)}`, cause);
    expect(error).toBeInstanceOf(GlobpipeError);
    expect(error).toMatchObject({ code: 'EUSAGE', message: '`inPlace` and `out`: `3` (number)', cause });
    expect(error.in('key')).toBe(error);
    expect(error.in('flag')).toMatchObject({ code: 'EUSAGE', message: '--in-place and --out: 3', cause });
    expect(error.in('flag').isUsageError).toBe(true);
  });

  it('every flag in the table is one the CLI takes', async () => {
    const help = await parseArgs(['--help'], '1.0.0');
    if (help.kind !== 'exit') throw new Error('expected help output');
    const flags = Object.values(optionTable).flatMap((info) => (info.flag === undefined ? [] : [info.flag]));
    expect(flags.length).toBeGreaterThan(20);
    for (const flag of flags) expect(help.output).toMatch(new RegExp(`${flag}\\s`));
  });
});
