import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { gauge, makeTree, readTree, tempDir } from '../helpers.js';

describe('abort', () => {
  it('starts nothing new once the signal fires, leaves no temp file, and says it was interrupted', async () => {
    const cwd = makeTree(100);
    const out = tempDir();
    const controller = new AbortController();
    let files = 0;
    const { transform } = gauge(10);
    const summary = await run({
      cwd,
      out,
      transforms: [transform],
      concurrency: 4,
      signal: controller.signal,
      onEvent(event) {
        if (event.type === 'file' && ++files === 10) controller.abort();
      },
    });
    expect(summary.interrupted).toBe(true);
    expect(summary.written).toBeGreaterThanOrEqual(10);
    expect(summary.written).toBeLessThan(100);
    const written = readTree(out);
    expect(written.size).toBe(summary.written);
    expect([...written.keys()].some((p) => p.includes('globpipe-tmp'))).toBe(false);
  });
});

describe('abort after every file is queued', () => {
  it('still cancels the files in flight', async () => {
    const cwd = makeTree(4);
    const out = tempDir();
    const controller = new AbortController();
    const started = Date.now();
    const pending = run({
      cwd,
      out,
      concurrency: 4,
      signal: controller.signal,
      // A stream transform that never ends on its own: only the abort can finish this run.
      transforms: [{ name: 'forever', stream: () => new Transform({ transform(_c, _e, _cb) {} }) }],
      onEvent(event) {
        if (event.type === 'glob-end') setTimeout(() => controller.abort(), 100);
      },
    });
    const summary = await pending;
    expect(summary).toMatchObject({ interrupted: true, written: 0, failed: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readTree(out).size).toBe(0);
  });
});

describe('many files in flight on one signal', () => {
  it('add no listener per file: no MaxListenersExceededWarning at concurrency 64', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const small = await run({
        cwd: makeTree(100),
        out: tempDir(),
        exec: 'cat',
        concurrency: 64,
        signal: controller.signal,
      });
      expect(small).toMatchObject({ written: 100, failed: 0 });
      // Files at the stream threshold (8 MiB, sparse: cheap to make) go through the stream path.
      const large = tempDir();
      for (let i = 0; i < 12; i += 1) {
        writeFileSync(join(large, `f${i}.bin`), '');
        truncateSync(join(large, `f${i}.bin`), 8 * 1024 * 1024);
      }
      const streamed = await run({
        cwd: large,
        out: tempDir(),
        transforms: ['gzip'],
        exec: 'wc -c',
        concurrency: 64,
        signal: controller.signal,
      });
      expect(streamed).toMatchObject({ written: 12, failed: 0 });
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
  });
});
