import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeOptions } from '../../src/options/normalize.js';
import { probeSite } from '../../src/options/probe.js';
import { site, tempDir } from '../helpers.js';

describe('normalizeOptions', () => {
  it('fills defaults and derives rules once', async () => {
    const out = tempDir();
    const settings = await normalizeOptions({ cwd: site, out });
    expect(settings).toMatchObject({
      cwd: site,
      out,
      patterns: ['**/*'],
      inPlace: false,
      dot: false,
      dryRun: false,
    });
    expect(settings.chains.map((chain) => chain.map((t) => t.name))).toEqual([['copy']]);
    expect(settings.maxErrors).toBe(Number.POSITIVE_INFINITY);
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('sequential means concurrency 1; fail-fast means max one error; in-place means out = cwd', async () => {
    expect((await normalizeOptions({ cwd: site, out: tempDir(), sequential: true })).concurrency).toBe(1);
    expect((await normalizeOptions({ cwd: site, out: tempDir(), failFast: true })).maxErrors).toBe(1);
    const inPlace = await normalizeOptions({ cwd: site, inPlace: true });
    expect(inPlace.out).toBe(site);
  });

  it('turns stages into chains: fan-out branches after a shared prefix', async () => {
    const settings = await normalizeOptions({
      cwd: site,
      out: tempDir(),
      transforms: ['copy', ['gzip', 'brotli']],
    });
    expect(settings.chains.map((chain) => chain.map((t) => t.name))).toEqual([
      ['copy', 'gzip'],
      ['copy', 'brotli'],
    ]);
  });

  it('ignores the output directory when it lies inside cwd, escaping glob characters', async () => {
    const cwd = tempDir();
    const settings = await normalizeOptions({ cwd, out: join(cwd, 'dist (1)'), ignore: ['*.tmp'] });
    expect(settings.ignore).toEqual(['*.tmp', 'dist \\(1\\)/**']);
    expect((await normalizeOptions({ cwd, out: tempDir() })).ignore).toEqual([]);
  });

  it('accepts an extension with or without the dot', async () => {
    expect((await normalizeOptions({ cwd: site, out: tempDir(), ext: 'html' })).ext).toBe('.html');
    await expect(normalizeOptions({ cwd: site, out: tempDir(), ext: 'a/b' })).rejects.toThrow(
      /Expected `ext`/,
    );
  });

  it.each([
    [{ concurrency: 1.5 }, 'Expected `concurrency` to be an integer from 1 to 100000, got `1.5` (number)'],
    [{ concurrency: '4' }, 'Expected `concurrency` to be a number, got `4` (string)'],
    [
      { sequential: true, concurrency: 4 },
      '`sequential` means concurrency 1, but `concurrency` is `4` (number)',
    ],
    [{ maxErrors: 0 }, 'Expected `maxErrors` to be an integer >= 1, got `0` (number)'],
    [{ patterns: [] as string[] }, 'Expected `patterns` to be a non-empty string or a list of them'],
    [{ dot: 'yes' }, 'Expected `dot` to be a boolean, got `yes` (string)'],
    [{ transforms: [] as string[] }, 'Expected `transforms` to name at least one transform'],
    [{ transforms: ['brotli'], level: 12 }, '`level` 12 is out of range: brotli levels are 0–11'],
  ])('rejects %j', async (options, message) => {
    await expect(normalizeOptions({ cwd: site, out: tempDir(), ...(options as object) })).rejects.toThrow(
      message,
    );
  });

  it('rejects a missing cwd, a missing out, and out together with inPlace', async () => {
    const probe = async (options: object) => probeSite(await normalizeOptions(options));
    await expect(probe({ cwd: join(site, 'nope'), out: tempDir() })).rejects.toMatchObject({
      code: 'ENOCWD',
    });
    await expect(probe({ cwd: join(site, 'index.html'), out: tempDir() })).rejects.toThrow(
      /is not a directory/,
    );
    await expect(normalizeOptions({ cwd: site })).rejects.toThrow(/Missing output directory/);
    await expect(normalizeOptions({ cwd: site, out: tempDir(), inPlace: true })).rejects.toThrow(
      /exclude each other/,
    );
    await expect(probe({ cwd: site, out: join(site, 'index.html') })).rejects.toThrow(
      /exists and is not a directory/,
    );
  });

  it('checks the shape of transform objects', async () => {
    const out = tempDir();
    await expect(normalizeOptions({ cwd: site, out, transforms: [{ name: 'x' } as never] })).rejects.toThrow(
      'Transform `x` must define exactly one of `buffer` or `stream`, got neither',
    );
    await expect(
      normalizeOptions({
        cwd: site,
        out,
        transforms: [{ name: 'y', buffer: (c: Buffer) => c, stream: () => null } as never],
      }),
    ).rejects.toThrow(/got both/);
  });
});

describe('foldsCase', () => {
  it('is false on this case-sensitive file system, found without writing', async () => {
    const { foldsCase } = await import('../../src/options/probe.js');
    const dir = tempDir();
    const { writeFileSync, readdirSync } = await import('node:fs');
    writeFileSync(join(dir, 'Name.txt'), '');
    expect(await foldsCase(dir)).toBe(false);
    expect(await foldsCase(join(dir, 'not', 'yet'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['Name.txt']);
  });
});
