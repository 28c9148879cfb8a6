import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { nodePort } from '../../src/io/fs.js';
import type { IoPort } from '../../src/io/port.js';
import { gauge, makeTree, tempDir } from '../helpers.js';

describe('the bound', () => {
  it('never has more than `concurrency` files in the transform, and reaches it', async () => {
    const cwd = makeTree(60);
    for (const executor of ['single', 'batch'] as const) {
      for (const concurrency of [1, 4, 16]) {
        const { state, transform } = gauge(15);
        const summary = await run({ cwd, out: tempDir(), transforms: [transform], concurrency, executor });
        expect(summary.written).toBe(60);
        expect(state.calls).toBe(60);
        expect(state.max).toBeLessThanOrEqual(concurrency);
        // One file a task reaches the bound whenever files wait. A batch that the glob is slow to
        // fill leaves partly full (batch.ts), so batches reach it only when the glob keeps up.
        if (executor === 'single' || concurrency < 16) expect(state.max).toBe(concurrency);
        else expect(state.max).toBeGreaterThan(concurrency / 2);
      }
    }
  });

  it('counts whole files, from the read to the rename, through the io port', async () => {
    const cwd = makeTree(40);
    const jobs = { now: 0, max: 0 };
    const inner = nodePort();
    const port: IoPort = {
      ...inner,
      async read(paths, bounds) {
        jobs.now += paths.length;
        jobs.max = Math.max(jobs.max, jobs.now);
        await sleep(5);
        return inner.read(paths, bounds);
      },
      async write(items, flags) {
        await sleep(5);
        const outcomes = await inner.write(items, flags);
        jobs.now -= items.length;
        return outcomes;
      },
    };
    const { transform } = gauge(5);
    for (const executor of ['batch', 'single'] as const) {
      jobs.max = 0;
      const summary = await run({
        cwd,
        out: tempDir(),
        transforms: [transform],
        concurrency: 6,
        port,
        executor,
      });
      expect(summary.written).toBe(40);
      expect(jobs.max).toBe(6);
      expect(jobs.now).toBe(0);
    }
  });

  it('feeds the queue with backpressure: jobs waiting never exceed concurrency, whatever the file count', async () => {
    const cwd = makeTree(300);
    let maxWaiting = 0;
    let maxInFlight = 0;
    let matchedBeforeFirstResult = 0;
    let results = 0;
    const { transform } = gauge(2);
    const summary = await run({
      cwd,
      out: tempDir(),
      transforms: [transform],
      concurrency: 5,
      probe: {
        onEnqueue(waiting, inFlight) {
          maxWaiting = Math.max(maxWaiting, waiting);
          maxInFlight = Math.max(maxInFlight, inFlight);
        },
      },
      onEvent(event) {
        if (event.type === 'file') results += 1;
        if (event.type === 'match' && results === 0) matchedBeforeFirstResult = event.matched;
      },
    });
    expect(summary.written).toBe(300);
    expect(maxWaiting).toBeLessThanOrEqual(5);
    expect(maxInFlight).toBe(5);
    // The glob is not held back by the queue: the progress total runs ahead of the work.
    expect(matchedBeforeFirstResult).toBeGreaterThan(10);
  });

  it('holds the glob back: matches waiting for the pipeline stay bounded, not growing with the file count', async () => {
    const cwd = tempDir();
    for (let d = 0; d < 40; d += 1) {
      mkdirSync(join(cwd, `d${d}`));
      for (let f = 0; f < 500; f += 1) writeFileSync(join(cwd, `d${d}`, `f${f}`), 'x');
    }
    let matched = 0;
    let done = 0;
    let mostWaiting = 0;
    const summary = await run({
      cwd,
      out: tempDir(),
      concurrency: 8,
      transforms: [{ name: 'slowish', buffer: async (c) => (done % 500 === 0 ? sleep(1).then(() => c) : c) }],
      onEvent(event) {
        if (event.type === 'match') matched = event.matched;
        if (event.type === 'file') done += 1;
        mostWaiting = Math.max(mostWaiting, matched - done);
      },
    });
    expect(summary.written).toBe(20_000);
    // The mark (8,192) plus the directories already being read (500 each) and the jobs in flight.
    expect(mostWaiting).toBeLessThan(8192 + 4 * 500 + 16);
    expect(mostWaiting).toBeGreaterThan(100); // and the glob does run ahead
  });

  it('--sequential is concurrency 1 on the same path', async () => {
    const cwd = makeTree(10);
    const { state, transform } = gauge(5);
    const summary = await run({ cwd, out: tempDir(), transforms: [transform], sequential: true });
    expect(summary.concurrency).toBe(1);
    expect(state.max).toBe(1);
  });
});
