import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../../src/watch/batcher.js';

/** A batcher whose runs are recorded, each held open until `finish()`. */
function recording(quietMs = 100, maxWaitMs = 1000) {
  const runs: string[][] = [];
  let finish: () => void = () => {};
  const batcher = new Batcher({
    quietMs,
    maxWaitMs,
    run: (paths) => {
      runs.push(paths.sort());
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    },
  });
  return { batcher, runs, finish: () => finish() };
}

describe('Batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts nothing until resumed: changes seen during the first run make the batch after it', async () => {
    const { batcher, runs } = recording();
    batcher.add('a.txt');
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toEqual([]);
    batcher.resume();
    await vi.advanceTimersByTimeAsync(99);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([['a.txt']]);
  });

  it('debounces: a batch starts once no change came for quietMs, with every path once', async () => {
    const { batcher, runs } = recording();
    batcher.resume();
    for (const path of ['a.txt', 'b.txt', 'a.txt']) {
      batcher.add(path);
      await vi.advanceTimersByTimeAsync(60);
    }
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(40);
    expect(runs).toEqual([['a.txt', 'b.txt']]);
  });

  it('a tree that never stops changing still gets a batch, maxWaitMs after its first change', async () => {
    const { batcher, runs } = recording(100, 1000);
    batcher.resume();
    for (let i = 0; i < 30; i += 1) {
      batcher.add(`f${i}`);
      await vi.advanceTimersByTimeAsync(50);
    }
    // 30 changes 50 ms apart: the quiet period never came, the deadline did (at 1000 ms).
    expect(runs).toHaveLength(1);
    expect(runs[0]).toHaveLength(20);
  });

  it('one batch at a time: changes during a batch wait for it to end, then make the next', async () => {
    const { batcher, runs, finish } = recording();
    batcher.resume();
    batcher.add('a.txt');
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toEqual([['a.txt']]);
    batcher.add('b.txt');
    batcher.add('c.txt');
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(1);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toEqual([['a.txt'], ['b.txt', 'c.txt']]);
  });

  it('a batch that throws does not stop the next one', async () => {
    const runs: string[][] = [];
    const batcher = new Batcher({
      quietMs: 10,
      maxWaitMs: 100,
      run: async (paths) => {
        runs.push(paths);
        throw new Error('bad batch');
      },
    });
    batcher.resume();
    batcher.add('a');
    await vi.advanceTimersByTimeAsync(10);
    batcher.add('b');
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toEqual([['a'], ['b']]);
  });

  it('close waits for the batch in flight and starts nothing more', async () => {
    const { batcher, runs, finish } = recording();
    batcher.resume();
    batcher.add('a.txt');
    await vi.advanceTimersByTimeAsync(100);
    batcher.add('b.txt');
    let closed = false;
    const closing = batcher.close().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(closed).toBe(false);
    finish();
    await closing;
    batcher.add('c.txt');
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toEqual([['a.txt']]);
  });
});
