import { describe, expect, it } from 'vitest';
import { normalizeOptions } from '../../src/options/normalize.js';
import { batchShape, chooseStrategy, defaultConcurrency } from '../../src/run/strategy.js';
import { builtin } from '../../src/transforms/builtins.js';
import { site, tempDir } from '../helpers.js';

describe('chooseStrategy', () => {
  it('batches plain runs and takes single files where each is decided on its own', async () => {
    const strategy = async (options: object) =>
      chooseStrategy(await normalizeOptions({ cwd: site, ...options }));
    expect(await strategy({ out: tempDir() })).toMatchObject({
      executor: 'batch',
      concurrency: 256,
      batchSize: 64,
      slots: 4,
    });
    for (const option of [
      { inPlace: true },
      { out: tempDir(), dryRun: true },
      { out: tempDir(), skipExisting: true },
      { out: tempDir(), ifNewer: true },
    ]) {
      expect(await strategy(option), JSON.stringify(option)).toMatchObject({
        executor: 'single',
        concurrency: 64,
        batchSize: 1,
        slots: 64,
      });
    }
    // A sequential copy goes in batches copied file after file on the calling thread...
    expect(await strategy({ out: tempDir(), sequential: true })).toMatchObject({
      executor: 'batch',
      concurrency: 1,
      batchSize: 64,
      slots: 1,
    });
    // ...but one file at a time where its transforms run, or where an error limit must stop it.
    for (const option of [
      { out: tempDir(), sequential: true, transforms: ['gzip'] },
      { out: tempDir(), sequential: true, failFast: true },
      { out: tempDir(), concurrency: 1, maxErrors: 3 },
    ]) {
      expect(await strategy(option), JSON.stringify(option)).toMatchObject({
        executor: 'batch',
        concurrency: 1,
        batchSize: 1,
        slots: 1,
      });
    }
    expect(await strategy({ out: tempDir(), executor: 'single', concurrency: 9 })).toMatchObject({
      executor: 'single',
      slots: 9,
    });
  });
});

describe('defaultConcurrency', () => {
  it('keeps many files in flight for IO, fewer for CPU-bound transforms', () => {
    expect(defaultConcurrency([[builtin('copy', {})]], true, 2)).toBe(256);
    expect(defaultConcurrency([[builtin('copy', {})]], false, 2)).toBe(64);
    expect(defaultConcurrency([[builtin('gzip', {})]], true, 2)).toBe(4);
    expect(defaultConcurrency([[builtin('gzip', {})]], false, 1)).toBe(2);
  });
});

describe('batchShape', () => {
  it('never puts more than `concurrency` files in flight, and keeps several batches going', () => {
    for (let concurrency = 1; concurrency <= 2000; concurrency += 1) {
      const { batchSize, slots } = batchShape(concurrency);
      expect(batchSize).toBeGreaterThanOrEqual(1);
      expect(batchSize * slots).toBeLessThanOrEqual(concurrency);
      // Rounding never wastes more than a batch of the allowance.
      expect(batchSize * slots).toBeGreaterThan(concurrency - batchSize);
      if (concurrency >= 4) expect(slots).toBeGreaterThanOrEqual(4);
    }
    expect(batchShape(1)).toEqual({ batchSize: 1, slots: 1 });
  });
});
