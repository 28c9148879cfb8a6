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
