import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesOptions } from '../../src/options/incremental-options.js';
import { decodeName } from '../../src/paths.js';
import { defaultCacheDir } from '../../src/run/incremental-setup.js';
import {
  contentHash,
  entryOf,
  formatEntry,
  type InputRecord,
  loadManifest,
  type Manifest,
  saveManifest,
  serializeManifest,
} from '../../src/run/manifest.js';
import { tempDir } from '../helpers.js';

const record = (outputs: InputRecord['outputs']): InputRecord => ({
  size: 4096,
  mtimeMs: 1764107200000.5,
  hash: contentHash(Buffer.from('x')),
  outputs,
});

describe('manifest entries', () => {
  it('round-trip, outputs named after their input or not, names with spaces and raw bytes', () => {
    const raw = decodeName(Buffer.from([0x61, 0xff, 0x20, 0x62]));
    for (const [input, outputs] of [
      [
        'app.js',
        [['app.js.gz', 1201, 1764107263001.2] as const, ['app.js.br', 990, 1764107263001.25] as const],
      ],
      ['a b/c d.txt', [['a b/c d.html', 7, 1] as const]],
      [raw, [[`${raw}.gz`, 1, 2] as const]],
      ['empty.txt', []],
    ] as const) {
      const entry = record(outputs);
      const files = { [input]: formatEntry(input, entry) };
      expect(entryOf(files, input)).toEqual(entry);
      // Through JSON, as saved.
      expect(entryOf(JSON.parse(JSON.stringify(files)), input)).toEqual(entry);
    }
    expect(formatEntry('app.js', record([['app.js.gz', 1, 2]]))).toMatch(/ 1 2 4 \+\.gz$/);
  });

  it('refuses output paths that could leave --out, and malformed entries', () => {
    const forged = (path: string) => `1 1 h 1 1 ${path.length + 1} =${path}`;
    for (const path of ['../x', '/etc/passwd', 'a/../../x', 'a//b', './a', 'a/', 'a\\..\\b', 'a\0b'])
      expect(entryOf({ i: forged(path) }, 'i'), path).toBeNull();
    // `+` appends to the input's path: an input that climbs gives an output that climbs.
    expect(entryOf({ '../i': '1 1 h 1 1 4 +.gz' }, '../i')).toBeNull();
    for (const text of [
      '',
      '1',
      '1 1',
      'x 1 h',
      '1 1 h 1 1',
      '1 1 h 1 1 9 =short',
      '1 1 h 1 1 3 =ab extra',
      5,
      ['1'],
    ])
      expect(entryOf({ i: text }, 'i'), JSON.stringify(text)).toBeNull();
    expect(entryOf({ i: '1 1 h' }, 'i')).toEqual({ size: 1, mtimeMs: 1, hash: 'h', outputs: [] });
    expect(entryOf({}, 'i')).toBeUndefined();
  });
});

describe('loadManifest and saveManifest', () => {
  const where = { cwd: '/real/src', out: '/real/out' };
  const manifest = (): Manifest => ({
    ...where,
    pipeline: 'p',
    savedAt: 1,
    files: { 'a.txt': formatEntry('a.txt', record([['a.txt.gz', 1, 2]])) },
  });

  it('saves atomically (nothing left beside it) and loads back what it saved', () => {
    const dir = tempDir();
    const path = join(dir, 'deep/m.json');
    saveManifest(path, manifest(), false);
    saveManifest(path, manifest(), true);
    expect(readdirSync(join(dir, 'deep'))).toEqual(['m.json']);
    const loaded = loadManifest(path, where);
    expect(loaded.notice).toBeUndefined();
    expect(loaded.manifest?.pipeline).toBe('p');
    expect(entryOf(loaded.manifest?.files ?? {}, 'a.txt')?.outputs).toEqual([['a.txt.gz', 1, 2]]);
    // No prototype: an input named like an Object method is no entry.
    expect(entryOf(loaded.manifest?.files ?? {}, 'constructor')).toBeUndefined();
  });

  it('a missing manifest is a first run; a corrupt or foreign one is distrusted with a notice', () => {
    const dir = tempDir();
    const path = join(dir, 'm.json');
    expect(loadManifest(path, where)).toEqual({ manifest: undefined, notice: undefined });
    const good = JSON.parse(serializeManifest(manifest())) as Record<string, unknown>;
    for (const [content, why] of [
      ['{"globpipe":', 'is not valid JSON'],
      ['[]', 'is not a globpipe incremental manifest'],
      [JSON.stringify({ ...good, version: 2 }), 'has version 2, not 1'],
      [JSON.stringify({ ...good, cwd: '/other' }), 'was made for another tree'],
      [JSON.stringify({ ...good, out: '/other' }), 'was made for another tree'],
      [JSON.stringify({ ...good, files: [] }), 'is malformed'],
      [JSON.stringify({ ...good, savedAt: 'now' }), 'is malformed'],
    ]) {
      writeFileSync(path, content as string);
      const loaded = loadManifest(path, where);
      expect(loaded.manifest, content).toBeUndefined();
      expect(loaded.notice).toContain(why);
      expect(loaded.notice).toContain('not trusted, every file is processed');
    }
  });
});

describe('what identifies a pipeline and where manifests go', () => {
  it('hashes the options that decide bytes, and only those', () => {
    const base = bytesOptions({ transforms: ['gzip'], level: 6 });
    expect(bytesOptions({ transforms: ['gzip'], level: 6, concurrency: 3, dryRun: true, cwd: 'x' })).toBe(
      base,
    );
    expect(bytesOptions({ transforms: ['gzip'], level: 7 })).not.toBe(base);
    expect(bytesOptions({ transforms: ['gzip'], level: 6, ext: '.z' })).not.toBe(base);
    expect(bytesOptions({ transforms: ['gzip'], level: 6, exec: 'tr a b' })).not.toBe(base);
    // A transform object by its function source; a RegExp by its text.
    const a = bytesOptions({ transforms: [{ name: 't', buffer: (c: Buffer) => c }] });
    const b = bytesOptions({ transforms: [{ name: 't', buffer: (c: Buffer) => c.reverse() }] });
    expect(a).not.toBe(b);
    expect(bytesOptions({ from: /a/g })).not.toBe(bytesOptions({ from: /a/i }));
  });

  it('finds node_modules from a directory upward, as find-cache-dir does; CACHE_DIR first', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules'));
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    expect(defaultCacheDir(join(dir, 'a/b'), {})).toBe(join(dir, 'node_modules/.cache/globpipe'));
    expect(defaultCacheDir(join(dir, 'a/b'), { CACHE_DIR: '/c' })).toBe('/c/globpipe');
    expect(defaultCacheDir(join(dir, 'a/b'), { CACHE_DIR: 'true' })).toBe(
      join(dir, 'node_modules/.cache/globpipe'),
    );
  });
});

describe('one pipeline however it is written', () => {
  it("`'gzip'`, `['gzip']` and `[['gzip']]` hash alike; a chain and a fan-out do not", () => {
    const one = bytesOptions({ transforms: 'gzip' });
    expect(bytesOptions({ transforms: ['gzip'] })).toBe(one);
    expect(bytesOptions({ transforms: [['gzip']] })).toBe(one);
    expect(bytesOptions({ transforms: ['gzip', 'brotli'] })).not.toBe(
      bytesOptions({ transforms: [['gzip', 'brotli']] }),
    );
  });
});
