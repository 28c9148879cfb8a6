import { describe, expect, it } from 'vitest';
import { parseArgs, parseTransformFlags, UsageError } from '../../src/cli/args.js';

describe('parseTransformFlags', () => {
  it('repeats chain, commas fan out', () => {
    expect(parseTransformFlags(['gzip'])).toEqual(['gzip']);
    expect(parseTransformFlags(['./a.mjs', 'gzip, brotli'])).toEqual(['./a.mjs', ['gzip', 'brotli']]);
    expect(() => parseTransformFlags(['gzip,'])).toThrow(UsageError);
  });
});

describe('parseArgs', () => {
  it('maps flags to run options', async () => {
    const parsed = await parseArgs(
      [
        '-C',
        'src',
        '**/*.md',
        '!x.md',
        '-o',
        'out',
        '-t',
        'gzip',
        '-j',
        '8',
        '--ext',
        '.html',
        '-i',
        'a',
        '-i',
        'b',
        '--dot',
        '--json',
      ],
      '1.0.0',
    );
    expect(parsed).toMatchObject({
      kind: 'run',
      options: {
        json: true,
        quiet: false,
        run: {
          cwd: 'src',
          out: 'out',
          patterns: ['**/*.md', '!x.md'],
          transforms: ['gzip'],
          concurrency: 8,
          ext: '.html',
          ignore: ['a', 'b'],
          dot: true,
        },
      },
    });
  });

  it('leaves what was not typed undefined, for a config file to give: cwd and out too', async () => {
    const parsed = await parseArgs(['--config', 'c.mjs', '--pipeline', 'b', '--pipeline', 'a'], '1.0.0');
    expect(parsed).toMatchObject({ kind: 'run', options: { config: 'c.mjs', pipelines: ['b', 'a'] } });
    const run = parsed.kind === 'run' ? parsed.options.run : {};
    expect(Object.entries(run).filter(([, value]) => value !== undefined)).toEqual([]);
  });

  it('returns help and version as output with exit 0', async () => {
    expect(await parseArgs(['--version'], '1.2.3')).toEqual({ kind: 'exit', code: 0, output: '1.2.3' });
    const help = await parseArgs(['--help'], '1.2.3');
    expect(help).toMatchObject({ kind: 'exit', code: 0 });
    // Whatever else is given, as before the unknown-flag check.
    expect(await parseArgs(['--version', '--dryrun'], '1.2.3')).toEqual({
      kind: 'exit',
      code: 0,
      output: '1.2.3',
    });
    expect(await parseArgs(['--dryrun', '--help'], '1.2.3')).toMatchObject({ kind: 'exit', code: 0 });
  });

  it.each([
    [['-o', 'x', '--nope'], 'Unknown option --nope'],
    [['-o', 'x', '--dryrun'], 'Unknown option --dryrun: did you mean --dry-run?'],
    [
      ['-o', 'x', '--concurency', '2', '-Z'],
      'Unknown options: --concurency (did you mean --concurrency?), -Z',
    ],
    [['-o', 'x', '-j', '-3'], /-j\/--concurrency expects an integer >= 1/],
    [['-o', 'x', '--max-errors', '0'], "--max-errors expects an integer >= 1, got '0'"],
    [['-o', 'x', '-o', 'y'], '-o/--out may be given once, got 2 values'],
    [['-o', 'x', '--pipeline'], 'Not enough arguments following: pipeline'],
  ])('rejects %j', async (argv, message) => {
    await expect(parseArgs(argv, '1.0.0')).rejects.toThrow(message);
  });
});

describe('--min-ratio', () => {
  const given = async (value: string) => {
    const parsed = await parseArgs(['-t', 'gzip', '-o', 'out', '--min-ratio', value], '1.0.0');
    return parsed.kind === 'run' ? parsed.options.run.minRatio : undefined;
  };
  it('takes a number > 0, in any notation a number has, or Infinity', async () => {
    expect(await given('0.8')).toBe(0.8);
    expect(await given('.75')).toBe(0.75);
    expect(await given('1e-9')).toBe(1e-9);
    expect(await given('2E0')).toBe(2);
    expect(await given('Infinity')).toBe(Number.POSITIVE_INFINITY);
  });
  it.each(['0', '-1', 'abc', 'NaN', '', '1e', '0e5'])('refuses %j, naming the flag', async (value) => {
    await expect(given(value)).rejects.toThrow('--min-ratio expects a number > 0');
  });
});
