import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { normalizeOptions } from '../../src/options/normalize.js';
import {
  BATCH_BYTES,
  batchShape,
  chooseStrategy,
  defaultBudget,
  defaultConcurrency,
  defaultStreams,
} from '../../src/run/strategy.js';
import { builtin } from '../../src/transforms/builtins.js';
import { execTransform } from '../../src/transforms/exec.js';
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
  const gzip = builtin('gzip', {});
  const brotli = builtin('brotli', { level: 11 });
  const copy = builtin('copy', {});
  const exec = execTransform('cat');

  it('keeps many files in flight for IO', () => {
    expect(defaultConcurrency([[copy]], true, 2)).toBe(256);
    expect(defaultConcurrency([[copy]], false, 2)).toBe(64);
  });

  it('batches CPU-bound work: 32 files in flight, 8 to a batch, two per core past 16 cores', () => {
    for (const stages of [[[gzip]], [[gzip, brotli]], [[copy], [brotli]]]) {
      expect(defaultConcurrency(stages, true, 2)).toBe(32);
      expect(defaultConcurrency(stages, true, 1)).toBe(32);
      expect(defaultConcurrency(stages, true, 64)).toBe(128);
    }
    expect(batchShape(32)).toEqual({ batchSize: 8, slots: 4 });
    // One file per request: two per core, at least two.
    expect(defaultConcurrency([[gzip]], false, 2)).toBe(4);
    expect(defaultConcurrency([[gzip]], false, 1)).toBe(2);
  });

  it('runs --exec children two per core, batched or not, whatever else the chain holds', () => {
    for (const stages of [[[exec]], [[gzip], [exec]], [[copy, exec]]]) {
      for (const batched of [true, false]) {
        expect(defaultConcurrency(stages, batched, 2)).toBe(4);
        expect(defaultConcurrency(stages, batched, 1)).toBe(2);
        expect(defaultConcurrency(stages, batched, 8)).toBe(16);
      }
    }
  });
});

describe('defaultStreams', () => {
  it('streams large files one per core through CPU-bound work in this process', () => {
    expect(defaultStreams([[brotli()]], 32, 2)).toBe(2);
    expect(defaultStreams([[brotli()]], 32, 1)).toBe(2);
    expect(defaultStreams([[brotli()]], 32, 8)).toBe(8);
    expect(defaultStreams([[brotli()]], 3, 8)).toBe(3);
  });

  it('lets children and IO stream as many as are in flight', () => {
    expect(defaultStreams([[builtin('copy', {})]], 256, 2)).toBe(256);
    expect(defaultStreams([[brotli()], [execTransform('cat')]], 4, 2)).toBe(4);
  });

  it('bounds streams only when the files in flight are the default', async () => {
    const strategy = async (options: object) =>
      chooseStrategy(
        await normalizeOptions({ cwd: site, out: tempDir(), transforms: ['brotli'], ...options }),
      );
    expect((await strategy({})).streams).toBe(Math.min(32, Math.max(2, availableParallelism())));
    expect(await strategy({ concurrency: 64 })).toMatchObject({ concurrency: 64, streams: 64 });
    expect((await strategy({ transforms: ['copy'] })).streams).toBe(256);
  });
});

describe('defaultBudget', () => {
  const MiB = 1024 * 1024;
  it('reads a MiB a batch round per four cores for CPU-bound work in this process, else BATCH_BYTES', () => {
    expect(defaultBudget([[brotli()]], 2)).toBe(MiB);
    expect(defaultBudget([[brotli()]], 1)).toBe(MiB);
    expect(defaultBudget([[brotli()]], 16)).toBe(4 * MiB);
    expect(defaultBudget([[brotli()]], 1024)).toBe(BATCH_BYTES);
    expect(defaultBudget([[builtin('copy', {})]], 2)).toBe(BATCH_BYTES);
    expect(defaultBudget([[brotli()], [execTransform('cat')]], 2)).toBe(BATCH_BYTES);
  });

  it('applies only when the files in flight are the default', async () => {
    const strategy = async (options: object) =>
      chooseStrategy(await normalizeOptions({ cwd: site, out: tempDir(), transforms: ['gzip'], ...options }));
    expect((await strategy({})).batchBytes).toBe(defaultBudget([[brotli()]]));
    expect((await strategy({ concurrency: 32 })).batchBytes).toBe(BATCH_BYTES);
  });
});

function brotli() {
  return builtin('brotli', {});
}

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
