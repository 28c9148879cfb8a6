import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GlobpipeError, run, type WatchBatch, watch } from '../../src/index.js';
import { keepAllOptions, readTree, tempDir, writeTree } from '../helpers.js';

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('run() over given paths (only)', () => {
  it('looks up just those, still selected by the patterns, ignores and skips', async () => {
    const cwd = writeTree({
      'a.js': 'a',
      'b.js': 'b',
      'c.css': 'c',
      'skip/d.js': 'd',
      'e.js.gz': 'e',
    });
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      patterns: ['**/*.js', '**/*.gz'],
      ignore: ['skip'],
      transforms: ['gzip'],
      ...keepAllOptions,
      only: ['a.js', 'c.css', 'skip/d.js', 'gone.js', 'e.js.gz', '../x.js'],
    });
    expect(summary).toMatchObject({ matched: 2, written: 2, skipped: 0 });
    expect([...readTree(out).keys()].sort()).toEqual(['a.js.gz', 'e.js.gz.gz']);
  });

  it('an empty list is a run over nothing', async () => {
    const summary = await run({ cwd: writeTree({ 'a.txt': 'a' }), out: tempDir(), only: [] });
    expect(summary).toMatchObject({ matched: 0, written: 0 });
  });
});

describe('watch()', () => {
  it('runs once, then each batch of changes; deleteStale removes the outputs of an input that went; close() ends it', async () => {
    const cwd = writeTree({ 'a.txt': 'alpha', 'sub/b.txt': 'bravo' });
    const out = tempDir();
    const batches: WatchBatch[] = [];
    const watcher = watch({ cwd, out, deleteStale: true, debounceMs: 20, onBatch: (b) => batches.push(b) });
    const first = await watcher.ready;
    expect(first).toMatchObject({ matched: 2, written: 2 });
    expect(batches.map((b) => b.index)).toEqual([0]);
    writeFileSync(join(cwd, 'a.txt'), 'alpha 2');
    mkdirSync(join(cwd, 'new'));
    writeFileSync(join(cwd, 'new/c.txt'), 'charlie');
    await until(() => readTree(out).get('new/c.txt')?.toString() === 'charlie', 'new/c.txt');
    await until(() => readTree(out).get('a.txt')?.toString() === 'alpha 2', 'a.txt');
    unlinkSync(join(cwd, 'sub/b.txt'));
    await until(() => !readTree(out).has('sub/b.txt'), 'the removal');
    // The outputs go before the batch runs; the batch is reported once it has run.
    await until(() => batches.some((b) => b.deleted.length > 0), 'the batch of the removal');
    const last = batches.at(-1);
    expect(last?.deleted).toEqual([{ input: 'sub/b.txt', removed: ['sub/b.txt'], kept: [] }]);
    // The directory that held only that output goes with it.
    expect(existsSync(join(out, 'sub'))).toBe(false);
    expect(batches.slice(1).reduce((n, b) => n + b.summary.written, 0)).toBe(2);
    await watcher.close();
    writeFileSync(join(cwd, 'after.txt'), 'after close');
    await sleep(500);
    expect(readTree(out).has('after.txt')).toBe(false);
  }, 60_000);

  it('without deleteStale, the outputs of an input that went are kept, and said to be', async () => {
    const cwd = writeTree({ 'a.txt': 'alpha' });
    const out = tempDir();
    const batches: WatchBatch[] = [];
    const watcher = watch({ cwd, out, debounceMs: 20, onBatch: (b) => batches.push(b) });
    await watcher.ready;
    unlinkSync(join(cwd, 'a.txt'));
    await until(() => batches.length > 1, 'the batch');
    expect(batches[1]?.deleted).toEqual([{ input: 'a.txt', removed: [], kept: ['a.txt'] }]);
    expect(readTree(out).get('a.txt')?.toString()).toBe('alpha');
    await watcher.close();
  }, 60_000);

  it('a usage error rejects ready, and the watch is closed', async () => {
    const watcher = watch({ cwd: writeTree({ 'a.txt': 'a' }) });
    await expect(watcher.ready).rejects.toThrow(GlobpipeError);
    await watcher.close();
    await expect(watch({ cwd: tempDir(), out: tempDir(), debounceMs: -1 }).ready).rejects.toThrow(
      'Expected `debounceMs` to be an integer >= 0, got `-1` (number)',
    );
    await expect(
      watch({ cwd: tempDir(), out: tempDir(), manifest: join(tempDir(), 'm.json') }).ready,
    ).rejects.toThrow('`manifest` records one run, and a watch runs once per batch of changes');
    await expect(
      watch({ cwd: tempDir(), out: tempDir(), shard: '1/2', shardStrategy: 'balanced' }).ready,
    ).rejects.toThrow("`shardStrategy` balanced splits the whole tree's list");
  });

  it('its signal closes it', async () => {
    const controller = new AbortController();
    const watcher = watch({ cwd: writeTree({ 'a.txt': 'a' }), out: tempDir(), signal: controller.signal });
    await watcher.ready;
    controller.abort();
    await watcher.close();
  });
});
