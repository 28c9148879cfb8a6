import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GlobpipeError, type GlobpipeEvent, run } from '../../src/index.js';
import { keepAllOptions, readTree, site, siteFiles, tempDir } from '../helpers.js';

describe('run()', () => {
  it('does what the CLI does and returns the typed summary', async () => {
    const out = tempDir();
    const summary = await run({ cwd: site, out, transforms: ['gzip'], concurrency: 3, ...keepAllOptions });
    const inputs = siteFiles();
    expect(summary).toMatchObject({
      matched: inputs.size,
      written: inputs.size,
      failed: 0,
      concurrency: 3,
      interrupted: false,
    });
    expect(summary.failures).toEqual([]);
    for (const [path, content] of inputs)
      expect(gunzipSync(readTree(out).get(`${path}.gz`) as Buffer)).toEqual(content);
  });

  it('reports progress as events: a match per file, the end of the glob, a result per file', async () => {
    const events: GlobpipeEvent[] = [];
    const summary = await run({ cwd: site, out: tempDir(), onEvent: (event) => events.push(event) });
    const matches = events.filter((e) => e.type === 'match');
    const files = events.filter((e) => e.type === 'file');
    expect(matches).toHaveLength(summary.matched);
    expect(files).toHaveLength(summary.matched);
    expect(events.filter((e) => e.type === 'glob-end')).toEqual([
      { type: 'glob-end', matched: summary.matched },
    ]);
  });

  it('rejects bad options with a GlobpipeError naming the value, before writing anything', async () => {
    const out = join(tempDir(), 'out');
    await expect(run({ cwd: site, out, concurrency: 0 })).rejects.toThrow(
      'Expected `concurrency` to be an integer from 1 to 100000, got `0` (number)',
    );
    await expect(run({ cwd: site, out, transforms: ['nope'] })).rejects.toMatchObject({
      code: 'ENOTRANSFORM',
    });
    await expect(run({ cwd: site })).rejects.toBeInstanceOf(GlobpipeError);
    expect(existsSync(out)).toBe(false);
  });
});

describe('planning checks', () => {
  it('two inputs mapping to one output (after --ext) fail before anything is written', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.md'), 'a');
    writeFileSync(join(cwd, 'a.txt'), 'a');
    writeFileSync(join(cwd, 'b.md'), 'b');
    const out = join(tempDir(), 'out');
    await expect(run({ cwd, out, ext: '.html' })).rejects.toMatchObject({
      code: 'ECOLLISION',
      message: '`a.md` and `a.txt` would both be written to `a.html`',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('an output over an input without in-place fails before anything is written', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.txt'), 'a');
    await expect(run({ cwd, out: cwd })).rejects.toMatchObject({ code: 'EOVERWRITE' });
    const summary = await run({
      cwd,
      inPlace: true,
      transforms: [{ name: 'up', buffer: (c) => c.toString().toUpperCase() }],
    });
    expect(summary.written).toBe(1);
    expect(readTree(cwd)).toEqual(new Map([['a.txt', Buffer.from('A')]]));
  });
});

describe('one file in flight', () => {
  it('runs its IO on the calling thread with the same outcomes as the workers: bytes, modes, failures', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.txt'), 'alpha\n');
    writeFileSync(join(cwd, 'b.txt'), 'bravo\n');
    writeFileSync(join(cwd, 'private.txt'), 'secret\n', { mode: 0o600 });
    writeFileSync(join(cwd, 'bad.gz'), 'not gzip');
    // Over a MiB: the calling thread leaves its copy to a worker (io/inline-carrier.ts).
    mkdirSync(join(cwd, 'sub/deep'), { recursive: true });
    writeFileSync(join(cwd, 'sub/deep/large.txt'), Buffer.alloc(3 * 1024 * 1024, 'x'));
    writeFileSync(join(cwd, 'sub/small.txt'), 'small\n');
    const outcomes = [];
    for (const concurrency of [1, 8]) {
      const copied = tempDir();
      const copy = await run({ cwd, out: copied, concurrency, patterns: ['**/*.txt'] });
      const gzipped = tempDir();
      const gzip = await run({
        cwd,
        out: gzipped,
        concurrency,
        transforms: ['gzip'],
        patterns: ['*.txt'],
        ...keepAllOptions,
      });
      const gunzipped = tempDir();
      const gunzip = await run({
        cwd,
        out: gunzipped,
        concurrency,
        transforms: ['gunzip'],
        patterns: ['*.gz'],
      });
      outcomes.push({
        // By hash: toEqual compares a Buffer byte by byte, slowly for a 3 MiB one.
        copy: [
          copy.written,
          copy.failed,
          [...readTree(copied)].map(([path, bytes]) => [
            path,
            createHash('sha256').update(bytes).digest('hex'),
          ]),
        ],
        gzip: [
          gzip.written,
          [...readTree(gzipped).keys()],
          gunzipSync(readTree(gzipped).get('a.txt.gz') as Buffer),
        ],
        mode: statSync(join(copied, 'private.txt')).mode & 0o777,
        gunzip: [gunzip.failed, gunzip.failures.map((f) => [f.path, f.code])],
      });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]).toMatchObject({ mode: 0o600, gunzip: [1, [['bad.gz', 'ETRANSFORM']]] });
  });
});
