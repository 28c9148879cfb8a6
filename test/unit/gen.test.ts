import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  drawSize,
  type GenParameters,
  Prng,
  parseBytes,
  parseSize,
  planDataset,
  resolveParameters,
} from '../../src/bench/gen.js';
import { MANIFEST } from '../../src/bench/gen-write.js';
import { parseArgs } from '../../src/cli/args.js';
import { GlobpipeError, gen } from '../../src/index.js';
import { readTree, tempDir } from '../helpers.js';

const params = (overrides: Partial<Parameters<typeof resolveParameters>[0]> = {}): GenParameters =>
  resolveParameters({ files: 50, size: 'lognormal:median=1KiB,max=64KiB', content: 'mixed', ...overrides });

function usageError(action: () => unknown, names: string): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(GlobpipeError);
    expect((error as GlobpipeError).code).toBe('EUSAGE');
    expect((error as GlobpipeError).message).toContain(names);
    return;
  }
  throw new Error('expected a usage error');
}

describe('Prng', () => {
  it('is deterministic from the seed, and seeds and streams differ', () => {
    const draw = (prng: Prng) => Array.from({ length: 8 }, () => prng.next());
    expect(draw(Prng.from(1))).toEqual(draw(Prng.from(1)));
    expect(draw(Prng.from(1))).not.toEqual(draw(Prng.from(2)));
    expect(draw(Prng.from(1, 0))).not.toEqual(draw(Prng.from(1, 1)));
    expect(draw(Prng.from(2 ** 40))).not.toEqual(draw(Prng.from(0)));
    // Pinned: a change of the generator changes every dataset, and must be deliberate.
    expect(draw(Prng.from(1)).slice(0, 2)).toMatchInlineSnapshot(`
      [
        1256469172,
        3974219596,
      ]
    `);
  });

  it("is xoshiro128**: the reference implementation's outputs from state 1, 2, 3, 4", () => {
    const prng = new Prng([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => prng.next())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492,
    ]);
  });

  it('floats are uniform in [0, 1)', () => {
    const prng = Prng.from(7);
    let sum = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const x = prng.float();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(sum / 10_000).toBeCloseTo(0.5, 1);
  });
});

describe('size parsing', () => {
  it('reads bytes and IEC/SI units', () => {
    expect(parseBytes('512')).toBe(512);
    expect(parseBytes('4KiB')).toBe(4096);
    expect(parseBytes('1MiB')).toBe(1024 ** 2);
    expect(parseBytes('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('2 kb')).toBe(2000);
    expect(parseBytes('0')).toBe(0);
    expect(parseSize(100)).toEqual({ kind: 'fixed', bytes: 100 });
  });

  it('reads a log-normal distribution', () => {
    expect(parseSize('lognormal:median=8KiB,max=64MiB')).toEqual({
      kind: 'lognormal',
      median: 8192,
      max: 64 * 1024 ** 2,
      min: 1,
      sigma: 1,
    });
    expect(parseSize('lognormal: median=1KiB, max=2KiB, sigma=0.5, min=10')).toMatchObject({
      sigma: 0.5,
      min: 10,
    });
  });

  it('names the option and the value in every error', () => {
    usageError(
      () => parseBytes('4XB', '--size'),
      "--size expects bytes such as 512, 4KiB, 1.5MiB or 2GiB, got '4XB'",
    );
    usageError(() => parseSize('-1'), "got '-1'");
    usageError(() => parseSize(''), "got ''");
    usageError(() => parseSize(1.5), 'size expects a whole number');
    usageError(() => parseSize('normal:median=1'), "unknown distribution 'normal'");
    usageError(() => parseSize('lognormal:median=8KiB'), 'needs median= and max=');
    usageError(() => parseSize('lognormal:median=8KiB,max=1KiB'), 'min <= median <= max');
    usageError(() => parseSize('lognormal:median=8KiB,max=1MiB,mean=3'), "'mean=3' is not one of");
    usageError(() => parseSize('lognormal:median=8KiB,max=1MiB,sigma=0'), 'sigma=');
    usageError(() => parseSize('lognormal:median=8KiB,max=1MiB,max=2MiB'), 'max= is given twice');
    usageError(() => parseSize('lognormal:median=x,max=1MiB'), 'size median expects bytes');
  });
});

describe('log-normal sizes', () => {
  it('has its median within 10% over 10,000 draws, and never leaves [min, max]', () => {
    const spec = parseSize('lognormal:median=8KiB,max=64KiB');
    const prng = Prng.from(42);
    const sizes = Array.from({ length: 10_000 }, () => drawSize(spec, prng)).sort((a, b) => a - b);
    const median = sizes[5_000] as number;
    expect(Math.abs(median - 8192) / 8192).toBeLessThan(0.1);
    expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(64 * 1024);
    expect(sizes[0]).toBeGreaterThanOrEqual(1);
    // The max is reached (the tail is clamped, not cut off): e^(ln 8 KiB + 2.08σ) > 64 KiB.
    expect(sizes.filter((size) => size === 64 * 1024).length).toBeGreaterThan(50);
  });
});

describe('planDataset', () => {
  it('is the same plan for the same seed, another for another seed', () => {
    expect(planDataset(params())).toEqual(planDataset(params()));
    const other = planDataset(params({ seed: 2 }));
    expect(other.map((file) => file.size)).not.toEqual(planDataset(params()).map((file) => file.size));
  });

  it('lays files out by depth and fanout, round robin over the leaves', () => {
    const plan = planDataset(resolveParameters({ files: 12, depth: 2, fanout: 3, size: 1 }));
    expect(plan.map((file) => file.path).slice(0, 4)).toEqual([
      'd00/d00/f000000.txt',
      'd00/d01/f000001.txt',
      'd00/d02/f000002.txt',
      'd01/d00/f000003.txt',
    ]);
    expect(plan[9]?.path).toBe('d00/d00/f000009.txt');
    const flat = planDataset(resolveParameters({ files: 3, depth: 0, size: 1 }));
    expect(flat.map((file) => file.path)).toEqual(['f000000.txt', 'f000001.txt', 'f000002.txt']);
    const wide = planDataset(resolveParameters({ files: 1_000_001, depth: 1, fanout: 100, size: 0 }));
    expect(wide[123_456]?.path).toBe('d56/f0123456.txt');
    expect(new Set(wide.map((file) => file.path)).size).toBe(1_000_001);
  });

  it('names each file by its content, and the web preset by its kind', () => {
    const mixed = planDataset(params({ files: 300 }));
    const kinds = new Set(mixed.map((file) => `${file.content}:${file.path.split('.').pop()}`));
    expect(kinds).toEqual(new Set(['text:txt', 'random:bin', 'zeros:dat']));
    const web = planDataset(resolveParameters({ preset: 'web' }));
    expect(web).toHaveLength(2_000);
    const extensions = new Set(web.map((file) => file.path.split('.').pop()));
    expect(extensions).toEqual(new Set(['js', 'css', 'html', 'svg', 'png', 'woff2']));
    for (const file of web) {
      expect(file.content).toBe(/\.(png|woff2)$/.test(file.path) ? 'random' : 'text');
      expect(file.size).toBeLessThanOrEqual(2 * 1024 ** 2);
    }
  });
});

describe('resolveParameters', () => {
  it('applies a preset under the options given', () => {
    expect(resolveParameters({ preset: 'small' })).toMatchObject({
      files: 20_000,
      size: '4096',
      content: 'text',
    });
    expect(resolveParameters({ preset: 'large' })).toMatchObject({
      files: 4,
      size: String(256 * 1024 ** 2),
      content: 'random',
    });
    expect(resolveParameters({ preset: 'large', files: 1, content: 'zeros' })).toMatchObject({
      files: 1,
      content: 'zeros',
      preset: 'large',
    });
    // `4KiB` and 4096 are one dataset.
    expect(resolveParameters({ size: '4KiB' })).toEqual(resolveParameters({ size: 4096 }));
  });

  it('names each bad option', () => {
    usageError(() => resolveParameters({ files: 0 }), 'files expects an integer from 1');
    usageError(() => resolveParameters({ files: 1.5 }), 'files');
    usageError(() => resolveParameters({ depth: -1 }), 'depth');
    usageError(() => resolveParameters({ fanout: 0 }), 'fanout');
    usageError(() => resolveParameters({ seed: -3 }), 'seed');
    usageError(
      () => resolveParameters({ content: 'prose' as 'text' }),
      "content expects text, random, zeros or mixed, got 'prose'",
    );
    usageError(
      () => resolveParameters({ preset: 'huge' as 'web' }),
      "preset expects small, web or large, got 'huge'",
    );
  });
});

describe('gen()', () => {
  it('writes the same bytes for the same seed, other bytes for another, exact sizes', async () => {
    const options = {
      files: 40,
      size: 'lognormal:median=2KiB,max=256KiB',
      content: 'mixed',
      depth: 1,
      fanout: 4,
    } as const;
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    const first = await gen({ ...options, dir: a });
    await gen({ ...options, dir: b, concurrency: 1 });
    await gen({ ...options, dir: c, seed: 9 });
    const tree = readTree(a);
    expect(tree).toEqual(readTree(b));
    expect(tree).not.toEqual(readTree(c));
    const plan = planDataset(first.parameters);
    for (const file of plan) expect(tree.get(file.path)?.length).toBe(file.size);
    expect(first).toMatchObject({ files: 40, written: 40, upToDate: false });
    expect(first.bytes).toBe(plan.reduce((sum, file) => sum + file.size, 0));
    const manifest = JSON.parse(readFileSync(join(a, MANIFEST), 'utf8'));
    expect(manifest).toMatchObject({ complete: true, version: 1, parameters: first.parameters });
  });

  it('writes text that compresses like prose, random bytes that do not, zeros', async () => {
    const dir = tempDir();
    for (const content of ['text', 'random', 'zeros'] as const) {
      await gen({ dir: join(dir, content), files: 1, depth: 0, size: '256KiB', content });
    }
    const text = readFileSync(join(dir, 'text', 'f000000.txt'));
    const random = readFileSync(join(dir, 'random', 'f000000.bin'));
    const zeros = readFileSync(join(dir, 'zeros', 'f000000.dat'));
    expect(text.toString('latin1')).toMatch(/^[A-Z][a-z]+ [a-z]+/);
    expect(gzipSync(text).length / text.length).toBeGreaterThan(0.15);
    expect(gzipSync(text).length / text.length).toBeLessThan(0.5);
    expect(gzipSync(random).length).toBeGreaterThan(random.length);
    expect(zeros.every((byte) => byte === 0)).toBe(true);
  });

  it('does nothing on a rerun with the same parameters, and reports progress', async () => {
    const dir = tempDir();
    const seen: number[] = [];
    await gen({ dir, files: 5, size: 10, onProgress: (progress) => seen.push(progress.filesDone) });
    expect(seen.at(-1)).toBe(5);
    const mtime = statSync(join(dir, MANIFEST)).mtimeMs;
    const again = await gen({ dir, files: 5, size: '10B' });
    expect(again).toMatchObject({ upToDate: true, written: 0, files: 5, bytes: 50 });
    expect(statSync(join(dir, MANIFEST)).mtimeMs).toBe(mtime);
  });

  it('refuses a directory that holds anything else, and writes nothing there', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mine.txt'), 'keep');
    await expect(gen({ dir, files: 2 })).rejects.toMatchObject({ code: 'EUSAGE', message: /not empty/ });
    expect([...readTree(dir).keys()]).toEqual(['mine.txt']);
    const data = tempDir();
    await gen({ dir: data, files: 2 });
    await expect(gen({ dir: data, files: 3 })).rejects.toMatchObject({
      code: 'EUSAGE',
      message: /other parameters \(2 files/,
    });
    expect(readTree(data).size).toBe(2 + 1);
    await expect(gen({ dir: '' })).rejects.toMatchObject({ code: 'EUSAGE' });
  });

  it('finishes an interrupted run when run again with the same parameters', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    await expect(
      gen({
        dir,
        files: 200,
        size: 1000,
        concurrency: 2,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.filesDone === 10) controller.abort(new Error('stop'));
        },
      }),
    ).rejects.toThrow('stop');
    const partial = readTree(dir);
    expect(partial.size).toBeLessThan(200);
    expect([...partial.keys()].some((name) => name.includes('globpipe-tmp'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')).complete).toBe(false);
    const done = await gen({ dir, files: 200, size: 1000 });
    expect(done.written).toBe(200);
    const reference = tempDir();
    await gen({ dir: reference, files: 200, size: 1000 });
    expect(readTree(dir)).toEqual(readTree(reference));
  });

  it('creates a missing directory, and refuses a file where the directory should be', async () => {
    const dir = join(tempDir(), 'a', 'b');
    await gen({ dir, files: 1, size: 1 });
    expect(readTree(dir).size).toBe(2);
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    await expect(gen({ dir: file, files: 1 })).rejects.toMatchObject({
      code: 'EUSAGE',
      message: /not a directory/,
    });
  });
});

describe('parseArgs gen', () => {
  it('maps gen flags to gen options, and leaves the default command alone', async () => {
    expect(
      await parseArgs(
        ['gen', 'data', '--files', '10', '--size', '1KiB', '--seed', '3', '--preset', 'web', '--json'],
        '1',
      ),
    ).toEqual({
      kind: 'gen',
      options: {
        gen: { dir: 'data', files: 10, size: '1KiB', seed: 3, preset: 'web' },
        progress: undefined,
        quiet: false,
        json: true,
      },
    });
    const run = await parseArgs(['-C', 'src', '-o', 'out'], '1');
    expect(run.kind).toBe('run');
    const patterns = await parseArgs(['**/*.js', 'gen', '-o', 'out'], '1');
    expect(patterns.kind === 'run' && patterns.options.run.patterns).toEqual(['**/*.js', 'gen']);
  });

  it('names the flag in errors', async () => {
    await expect(parseArgs(['gen', 'd', '--size', 'big'], '1')).rejects.toThrow(/--size expects bytes/);
    await expect(parseArgs(['gen', 'd', '--files', 'x'], '1')).rejects.toThrow(
      "--files expects an integer >= 1, got 'x'",
    );
    await expect(parseArgs(['gen', 'd', '--content', 'prose'], '1')).rejects.toThrow(
      "--content expects text, random, zeros, mixed, got 'prose'",
    );
    await expect(parseArgs(['gen'], '1')).rejects.toThrow('gen needs <dir>');
    await expect(parseArgs(['gen', 'd', '-o', 'x'], '1')).rejects.toThrow(/-o/);
  });
});
