import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GlobpipeError } from '../../src/errors.js';
import { withNaming } from '../../src/options/names.js';
import { normalizeOptions } from '../../src/options/normalize.js';
import { probeSite } from '../../src/options/probe.js';
import type { RunOptions } from '../../src/types.js';
import { site, tempDir } from '../helpers.js';

const encodings = 'utf-8, utf-16le, latin1, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r';

/** Every usage message of the options, as run() names it and as the CLI does. */
const cases: [string, RunOptions, string, string][] = [
  [
    'in-place with out',
    { inPlace: true, out: 'x' },
    '`inPlace` and `out` exclude each other: in-place writes each result over its input',
    '--in-place and --out exclude each other: in-place writes each result over its input',
  ],
  [
    'no output',
    { out: undefined },
    'Missing output directory: give `out` or `inPlace`',
    'Missing output directory: give --out or --in-place',
  ],
  [
    'out not a path',
    { out: '' },
    'Expected `out` to be a directory path, got `` (string)',
    "Expected --out to be a directory path, got ''",
  ],
  [
    'cwd not a path',
    { cwd: '' },
    'Expected `cwd` to be a directory path, got `` (string)',
    "Expected --cwd to be a directory path, got ''",
  ],
  [
    'resume without in-place',
    { resume: true },
    '`resume` continues an interrupted in-place run: it needs `inPlace`',
    '--resume continues an interrupted in-place run: it needs --in-place',
  ],
  [
    'sequential with concurrency',
    { sequential: true, concurrency: 4 },
    '`sequential` means concurrency 1, but `concurrency` is `4` (number)',
    '--sequential means concurrency 1, but --concurrency is 4',
  ],
  [
    'concurrency out of range',
    { concurrency: 200_000 },
    'Expected `concurrency` to be an integer from 1 to 100000, got `200000` (number)',
    'Expected --concurrency to be an integer from 1 to 100000, got 200000',
  ],
  [
    'max errors below one',
    { maxErrors: 0 },
    'Expected `maxErrors` to be an integer >= 1, got `0` (number)',
    'Expected --max-errors to be an integer >= 1, got 0',
  ],
  [
    'fail-fast with max-errors',
    { failFast: true, maxErrors: 3 },
    '`failFast` stops at the first failure, but `maxErrors` is `3` (number): give one of them',
    '--fail-fast stops at the first failure, but --max-errors is 3: give one of them',
  ],
  [
    'skip-existing with if-newer',
    { skipExisting: true, ifNewer: true },
    '`skipExisting` skips every output that exists, so `ifNewer` would never rewrite a stale one: give one of them',
    '--skip-existing skips every output that exists, so --if-newer would never rewrite a stale one: give one of them',
  ],
  [
    'bad extension',
    { ext: 'a/b' },
    'Expected `ext` to be an extension such as `.html`, got `a/b` (string)',
    "Expected --ext to be an extension such as `.html`, got 'a/b'",
  ],
  [
    'empty ignore',
    { ignore: [''] },
    'Expected `ignore` to be a non-empty string or a list of them, got `[""]` (array)',
    'Expected --ignore to be a non-empty string or a list of them, got `[""]` (array)',
  ],
  [
    'empty exec',
    { exec: [] },
    'Expected `exec` to be a non-empty string or a list of them, got `[]` (array)',
    'Expected --exec to be a non-empty string or a list of them, got `[]` (array)',
  ],
  [
    'level not an integer',
    { transforms: ['gzip'], level: 2.5 },
    'Expected `level` to be an integer, got `2.5` (number)',
    'Expected --level to be an integer, got 2.5',
  ],
  [
    'gzip level',
    { transforms: ['gzip'], level: 12 },
    '`level` 12 is out of range: gzip levels are 1–9',
    '--level 12 is out of range: gzip levels are 1–9',
  ],
  [
    'gzip level 0',
    { transforms: ['gzip'], level: 0 },
    '`level` 0 is out of range: gzip levels are 1–9',
    '--level 0 is out of range: gzip levels are 1–9',
  ],
  [
    'brotli level',
    { transforms: ['brotli'], level: 12 },
    '`level` 12 is out of range: brotli levels are 0–11',
    '--level 12 is out of range: brotli levels are 0–11',
  ],
  [
    'a level out of both ranges',
    { transforms: [['gzip', 'brotli']], level: 12 },
    '`level` 12 is out of range: gzip levels are 1–9, brotli levels are 0–11',
    '--level 12 is out of range: gzip levels are 1–9, brotli levels are 0–11',
  ],
  [
    'a level out of one of two ranges',
    { transforms: ['copy', ['gzip', 'brotli']], level: 10 },
    '`level` 10 is out of range: gzip levels are 1–9',
    '--level 10 is out of range: gzip levels are 1–9',
  ],
  [
    'level without a compressor',
    { transforms: ['copy'], level: 3 },
    '`level` is an option of the `gzip`, `brotli` and `zstd` transforms, which this run does not use (add `gzip`, `brotli` or `zstd` to `transforms`)',
    '--level is an option of the `gzip`, `brotli` and `zstd` transforms, which this run does not use (add -t gzip, -t brotli or -t zstd)',
  ],
  [
    'from without replace',
    { from: 'a' },
    '`from` is an option of the `replace` transform, which this run does not use (add `replace` to `transforms`)',
    '--from is an option of the `replace` transform, which this run does not use (add -t replace)',
  ],
  [
    'eol without eol',
    { eol: 'lf' },
    '`eol` is an option of the `eol` transform, which this run does not use (add `eol` to `transforms`)',
    '--eol is an option of the `eol` transform, which this run does not use (add -t eol)',
  ],
  [
    'bom without encoding',
    { bom: true },
    '`bom` is an option of the `encoding` transform, which this run does not use (add `encoding` to `transforms`)',
    '--bom is an option of the `encoding` transform, which this run does not use (add -t encoding)',
  ],
  [
    'replace without to',
    { transforms: ['replace'], from: 'a' },
    '`replace` needs a pattern and a replacement: give `from` and `to`',
    '`replace` needs a pattern and a replacement: give --from and --to',
  ],
  [
    'encoding without from-encoding',
    { transforms: 'encoding' },
    `\`encoding\` needs the input's encoding: give \`fromEncoding\` (such as ${encodings})`,
    `\`encoding\` needs the input's encoding: give --from-encoding (such as ${encodings})`,
  ],
  [
    'unknown encoding',
    { transforms: 'encoding', fromEncoding: 'latin1', toEncoding: 'ebcdic' },
    `Unknown encoding \`ebcdic\` for \`toEncoding\`: expected a name such as ${encodings}`,
    `Unknown encoding \`ebcdic\` for --to-encoding: expected a name such as ${encodings}`,
  ],
  [
    'unknown line ending',
    { transforms: 'eol', eol: 'cr' as never },
    'Expected `eol` to be lf or crlf, got `cr` (string)',
    "Expected --eol to be lf or crlf, got 'cr'",
  ],
  [
    'unknown option',
    { dryrun: true } as never,
    'Unknown option `dryrun`: did you mean `dryRun`?',
    'Unknown option --dryrun: did you mean --dry-run?',
  ],
  [
    'a value of the wrong type',
    { concurrency: '2' } as never,
    'Expected `concurrency` to be a number, got `2` (string)',
    "Expected --concurrency to be a number, got '2'",
  ],
  [
    'a boolean that is not',
    { dot: 'yes' } as never,
    'Expected `dot` to be a boolean, got `yes` (string)',
    "Expected --dot to be a boolean, got 'yes'",
  ],
];

describe('usage messages name options as the caller does', () => {
  it.each(cases)('%s', async (_name, options, asKeys, asFlags) => {
    const given = { cwd: site, out: tempDir(), ...options };
    await expect(normalizeOptions({ ...given })).rejects.toThrow(new GlobpipeError('EUSAGE', asKeys));
    await expect(normalizeOptions(withNaming({ ...given }, 'flag'))).rejects.toThrow(
      new GlobpipeError('EUSAGE', asFlags),
    );
  });

  it('a regular expression that does not compile, with the reason', async () => {
    const given = { cwd: site, out: tempDir(), transforms: ['replace'], from: '(a', to: 'b' };
    const asKeys = normalizeOptions(given);
    await expect(asKeys).rejects.toThrow(/^`from` is not a valid regular expression: .*Unterminated group$/);
    await expect(asKeys).rejects.toMatchObject({ code: 'EUSAGE', cause: expect.any(SyntaxError) });
    const asFlags = normalizeOptions(withNaming(given, 'flag'));
    await expect(asFlags).rejects.toThrow(/^--from is not a valid regular expression: .*Unterminated group$/);
    await expect(asFlags).rejects.toMatchObject({ cause: expect.any(SyntaxError) });
  });

  it('the directories, once settings are made', async () => {
    const nope = join(tempDir(), 'nope');
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    for (const [naming, cwd, out] of [
      ['key', '`cwd`', '`out`'],
      ['flag', '--cwd', '--out'],
    ] as const) {
      const probe = async (options: RunOptions) =>
        probeSite(await normalizeOptions(withNaming(options, naming)));
      await expect(probe({ cwd: nope, out: tempDir() })).rejects.toMatchObject({
        code: 'ENOCWD',
        message: `Base directory (${cwd}) \`${nope}\` does not exist`,
      });
      await expect(probe({ cwd: file, out: tempDir() })).rejects.toThrow(
        `Base directory (${cwd}) \`${file}\` is not a directory`,
      );
      await expect(probe({ cwd: site, out: file })).rejects.toMatchObject({
        code: 'EUSAGE',
        message: `Output directory (${out}) \`${file}\` exists and is not a directory`,
      });
    }
  });

  it('options that only repeat each other are accepted', async () => {
    const base = { cwd: site, out: tempDir() };
    expect((await normalizeOptions({ ...base, failFast: true, maxErrors: 1 })).maxErrors).toBe(1);
    expect((await normalizeOptions({ ...base, sequential: true, concurrency: 1 })).concurrency).toBe(1);
    expect(
      (await normalizeOptions({ ...base, transforms: ['eol'], eol: 'CRLF' as never })).stages,
    ).toHaveLength(1);
    const settings = await normalizeOptions({ ...base, transforms: [['gzip', 'brotli']], level: 9 });
    expect(settings.chains.map((chain) => chain.map((t) => t.name))).toEqual([['gzip'], ['brotli']]);
  });
});
