import { describe, expect, it } from 'vitest';
import { type BenchCliOptions, parseArgs, UsageError } from '../../src/cli/args.js';
import { runCli } from '../helpers.js';

/**
 * `globpipe bench`'s own parser: every matrix option a comma list (or the flag repeated),
 * each bad value named as typed, and the exports and switches passed on to bench().
 */

async function bench(...argv: string[]): Promise<BenchCliOptions> {
  const parsed = await parseArgs(['bench', ...argv], '1.0.0');
  if (parsed.kind !== 'bench') throw new Error(`parsed as ${parsed.kind}`);
  return parsed.options;
}

/** The usage error `argv` raises: its message. */
async function refused(...argv: string[]): Promise<string> {
  const error = await parseArgs(['bench', ...argv], '1.0.0').then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

describe('parseArgs bench', () => {
  it('takes comma lists and repeated flags alike, in the order given', async () => {
    const { bench: options } = await bench('-C', 'data', '-j', '1,8,64', '-j', '256', '--cache', 'warm');
    expect(options.concurrency).toEqual([1, 8, 64, 256]);
    expect(options.cache).toEqual(['warm']);
    const again = await bench('-C', 'data', '--cache', 'warm', '--cache', 'cold', '--read', 'batch, direct');
    expect(again.bench.cache).toEqual(['warm', 'cold']);
    expect(again.bench.read).toEqual(['batch', 'direct']);
  });

  it('maps every option to bench()', async () => {
    const parsed = await bench(
      ...['-C', 'data', '**/*.txt', '!skip/**', '--work', 'read,transform', '-t', 'gzip', '-t', 'brotli'],
      ...['--threadpool', '4,16', '--runs', '5', '--warmup', '0', '--cold-method', 'fadvise'],
      ...['--scratch', '/var/tmp/s', '--baseline', 'before.json', '--fio', '-q', '--no-progress'],
    );
    expect(parsed.bench).toEqual({
      cwd: 'data',
      patterns: ['**/*.txt', '!skip/**'],
      work: ['read', 'transform'],
      transforms: ['gzip', 'brotli'],
      threadpool: [4, 16],
      runs: 5,
      warmup: 0,
      coldMethod: 'fadvise',
      scratch: '/var/tmp/s',
      baseline: 'before.json',
      fio: true,
      quick: false,
      references: true,
    });
    expect(parsed.quiet).toBe(true);
    expect(parsed.progress).toBe(false);
  });

  it('leaves unset options out, so that bench() applies its defaults', async () => {
    const { bench: options, exports } = await bench('-C', 'data');
    expect(options).toEqual({ cwd: 'data', patterns: [], quick: false, fio: false, references: true });
    expect(Object.values(exports).filter((path) => path !== undefined)).toEqual([]);
  });

  it('turns the references off with --no-references, and --quick on', async () => {
    const { bench: options } = await bench('-C', 'data', '--no-references', '--quick');
    expect(options.references).toBe(false);
    expect(options.quick).toBe(true);
  });

  it('passes each export path on', async () => {
    const { exports } = await bench(
      ...['-C', 'data', '--export-json', 'r.json', '--export-markdown', 'r.md'],
      ...['--export-csv', 'r.csv', '--export-svg', 'out dir/r.svg'],
    );
    expect(exports).toEqual({ json: 'r.json', markdown: 'r.md', csv: 'r.csv', svg: 'out dir/r.svg' });
  });

  it('names a bad value exactly as typed', async () => {
    expect(await refused('-C', 'd', '--cache', 'tepid')).toBe("--cache expects warm, cold, got 'tepid'");
    expect(await refused('-C', 'd', '--cache', 'warm,tepid')).toBe("--cache expects warm, cold, got 'tepid'");
    expect(await refused('-C', 'd', '-j', '0')).toBe("-j/--concurrency expects an integer >= 1, got '0'");
    expect(await refused('-C', 'd', '-j', '1,8.5')).toBe(
      "-j/--concurrency expects an integer >= 1, got '8.5'",
    );
    expect(await refused('-C', 'd', '--read', 'mmap')).toBe(
      "--read expects auto, batch, single, stream, direct, got 'mmap'",
    );
    expect(await refused('-C', 'd', '--work', 'write')).toBe(
      "--work expects read, copy, transform, fsync, got 'write'",
    );
    expect(await refused('-C', 'd', '--threadpool', '0')).toBe(
      "--threadpool expects an integer >= 1, got '0'",
    );
    expect(await refused('-C', 'd', '--runs', '0')).toBe("--runs expects an integer >= 1, got '0'");
    expect(await refused('-C', 'd', '--warmup', '-1')).toMatch(/--warmup/);
    expect(await refused('-C', 'd', '--cold-method', 'freeze')).toBe(
      "--cold-method expects drop-caches, fadvise, got 'freeze'",
    );
    expect(await refused('-C', 'd', '--cold-method', 'fadvise,drop-caches')).toBe(
      '--cold-method takes one method',
    );
  });

  it('refuses an empty item in a list', async () => {
    expect(await refused('-C', 'd', '-j', '1,,4')).toBe("-j/--concurrency has an empty item in '1,,4'");
    expect(await refused('-C', 'd', '--cache', 'warm,')).toBe("--cache has an empty item in 'warm,'");
  });

  it('takes a single-valued flag once', async () => {
    expect(await refused('-C', 'd', '--runs', '1', '--runs', '2')).toBe(
      '--runs may be given once, got 2 values',
    );
    expect(await refused('-C', 'a', '-C', 'b')).toBe('-C/--cwd may be given once, got 2 values');
  });

  it('needs -C, and says how to make a dataset', async () => {
    expect(await refused()).toBe(
      'bench needs -C <dir>, the dataset to measure (make one with globpipe gen <dir>)',
    );
  });

  it('names an unknown flag', async () => {
    expect(await refused('-C', 'd', '--cachee', 'warm')).toMatch(/--cachee.*--cache/);
  });

  it('answers --help with its text and exit 0', async () => {
    const parsed = await parseArgs(['bench', '--help'], '1.0.0');
    expect(parsed).toMatchObject({ kind: 'exit', code: 0 });
  });
});

describe('globpipe bench --help', () => {
  it('exits 0 and lists every option', async () => {
    const { code, stdout, stderr } = await runCli(['bench', '--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^globpipe bench \[patterns\.\.\] -C <dir> \[options\]/);
    const flags = [
      ...['-C, --cwd', '-j, --concurrency', '--cache', '--read', '--work', '--threadpool'],
      ...['-t, --transform', '--runs', '--warmup', '--quick', '--cold-method', '--scratch'],
      ...['--references', '--fio', '--baseline', '--export-json', '--export-markdown'],
      ...['--export-csv', '--export-svg', '--progress', '-q, --quiet', '-h, --help'],
    ];
    for (const flag of flags) expect(stdout, flag).toContain(flag);
    expect(stdout).toContain('Exit codes: 0 measured');
  });

  it('sends bad usage to stderr with exit 2 and a pointer to the help', async () => {
    const { code, stdout, stderr } = await runCli(['bench', '-C', 'data', '--cache', 'tepid']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("--cache expects warm, cold, got 'tepid'");
    expect(stderr).toContain('globpipe bench --help');
  });
});
