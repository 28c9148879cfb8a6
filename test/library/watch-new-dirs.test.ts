import { mkdirSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WatchBatch, watch } from '../../src/index.js';
import { readTree, tempDir, writeTree } from '../helpers.js';

// chokidar reads a new directory, then watches it: a file written in between is never reported.
// A slow readdir widens that window from microseconds to READDIR_MS, and each file below is
// written in the middle of it: after the readdir of its directory, before its watch.
const READDIR_MS = 100;
const realReaddir = fsp.readdir;
beforeAll(() => {
  fsp.readdir = (async (...args: Parameters<typeof realReaddir>) => {
    const names = await realReaddir(...args);
    await sleep(READDIR_MS);
    return names;
  }) as typeof realReaddir;
  syncBuiltinESMExports();
});
afterAll(() => {
  fsp.readdir = realReaddir;
  syncBuiltinESMExports();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('watch(): files written into a new directory before it is watched', () => {
  it.each([
    ['a separate out', false],
    ['out equal to cwd, gzip', true],
  ])(
    'are processed, each once (%s)',
    async (_name, inTree) => {
      const cwd = writeTree({ 'a.txt': 'alpha' });
      const out = inTree ? cwd : tempDir();
      const suffix = inTree ? '.gz' : '';
      const batches: WatchBatch[] = [];
      const watcher = watch({
        cwd,
        out,
        patterns: ['**/*'],
        ...(inTree
          ? { transforms: ['gzip'], minSize: 0, allTypes: true, minRatio: Number.POSITIVE_INFINITY }
          : {}),
        debounceMs: 20,
        onBatch: (b) => batches.push(b),
      });
      await watcher.ready;
      const files = ['n1/f.txt', 'n2/deep/g.txt', 'n3/x/y/h.txt'];
      for (const file of files) {
        mkdirSync(join(cwd, file, '..'), { recursive: true });
        // chokidar reads the tree's root, then each new directory down to the file's, one after
        // the other: the file is written while its own directory's readdir is under way.
        const depth = file.split('/').length - 1;
        await sleep(READDIR_MS * depth + READDIR_MS / 2);
        writeFileSync(join(cwd, file), file);
      }
      const tree = (): Map<string, Buffer> => readTree(out);
      await until(
        () => files.every((file) => tree().has(file + suffix)),
        `the outputs of ${files.join(', ')}`,
      );
      // Each new directory is looked in twice, and chokidar reports some files itself: none runs twice.
      await sleep(1500);
      const runs = batches.slice(1).reduce((n, b) => n + b.summary.matched, 0);
      expect(runs, JSON.stringify(batches.slice(1).map((b) => b.summary.matched))).toBe(files.length);
      if (!inTree) for (const file of files) expect(tree().get(file)?.toString()).toBe(file);
      await watcher.close();
    },
    60_000,
  );
});
