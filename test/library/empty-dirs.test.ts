import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import type { IoPort } from '../../src/io/port.js';
import { type Call, faultyPort } from '../faults.js';
import { readTree, tempDir, writeTree } from '../helpers.js';

/** Every directory under `dir`, by path relative to it. */
function dirsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** Counts the port's rmdir calls, which faultyPort passes through unseen. */
function countingRmdir(port: IoPort & { calls: Call[] }): IoPort & { rmdirs: string[] } {
  const rmdirs: string[] = [];
  return {
    ...port,
    rmdirs,
    rmdir: (path, root) => {
      rmdirs.push(path.slice(root.length + 1));
      return port.rmdir(path, root);
    },
  };
}

const inputs = {
  'ok.txt': 'ok',
  'good/g.txt': 'g',
  'bad/a.txt': 'a',
  'bad/b.txt': 'b',
  'bad/deeper/still/c.txt': 'c',
  'mixed/bad-1.txt': 'x',
  'mixed/fine.txt': 'y',
  'pre/bad-2.txt': 'z',
};

describe.each(['batch', 'single'] as const)('output directories left empty (%s)', (executor) => {
  it.each([
    ['copied', ['copy']],
    ['transformed', [{ name: 'same', buffer: (content: Buffer) => content }]],
  ] as const)(
    'files %s: those whose every file failed to write are removed, and only those',
    async (_, transforms) => {
      const cwd = writeTree(inputs);
      const out = tempDir();
      mkdirSync(join(out, 'pre')); // there before the run: stays, empty as it was
      const failing = /^(a|b|c|bad-\d)\.txt$/;
      const port = countingRmdir(
        faultyPort([
          { op: 'write', name: failing, code: 'ENOSPC' },
          { op: 'copy', name: failing, code: 'ENOSPC', side: 'write' },
        ]),
      );
      const summary = await run({
        cwd,
        out,
        executor,
        transforms: [...transforms],
        port,
      });
      expect(summary).toMatchObject({ matched: 8, written: 3, failed: 5 });
      expect([...readTree(out).keys()]).toEqual(['good/g.txt', 'mixed/fine.txt', 'ok.txt']);
      expect(dirsUnder(out)).toEqual(['good', 'mixed', 'pre']);
      // Only directories the run made were tried, deepest first; `pre` and the output directory never.
      expect(port.rmdirs).not.toContain('pre');
      expect(port.rmdirs).not.toContain('');
      expect(port.rmdirs.indexOf('bad/deeper/still')).toBeLessThan(port.rmdirs.indexOf('bad/deeper'));
      expect(port.rmdirs.indexOf('bad/deeper')).toBeLessThan(port.rmdirs.indexOf('bad'));
    },
  );
});

describe('output directories left empty', () => {
  it('a directory that something else filled meanwhile stays, with what is in it', async () => {
    const cwd = writeTree({ 'bad/a.txt': 'a', 'bad/b.txt': 'b', 'gone/c.txt': 'c' });
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      transforms: [
        {
          name: 'meddler',
          buffer(_content, file) {
            // Another process writes into the directory made for this file, which then fails.
            if (file.path.startsWith('bad/'))
              writeFileSync(join(out, 'bad', `other-${file.path.slice(4)}`), 'not ours');
            throw new Error('nope');
          },
        },
      ],
    });
    expect(summary).toMatchObject({ written: 0, failed: 3 });
    expect([...readTree(out).keys()]).toEqual(['bad/other-a.txt', 'bad/other-b.txt']);
    expect(dirsUnder(out)).toEqual(['bad']);
  });

  it('a run whose every file was written tries no rmdir at all', async () => {
    const cwd = writeTree({ 'a/b/c.txt': 'c', 'd/e.txt': 'e' });
    const out = tempDir();
    const port = countingRmdir(faultyPort([]));
    const summary = await run({ cwd, out, port });
    expect(summary).toMatchObject({ written: 2, failed: 0 });
    expect(port.rmdirs).toEqual([]);
    expect(dirsUnder(out)).toEqual(['a', 'a/b', 'd']);
  });

  it('a failure that is not a write (a transform that throws) leaves no directory either', async () => {
    const cwd = writeTree({ 'x/y/z.txt': 'z', 'keep.txt': 'k' });
    const out = join(tempDir(), 'new-out');
    const summary = await run({
      cwd,
      out,
      transforms: [
        {
          name: 'picky',
          buffer(content, file) {
            if (file.path.startsWith('x/')) throw new Error('no');
            return content;
          },
        },
      ],
    });
    expect(summary).toMatchObject({ written: 1, failed: 1 });
    expect(dirsUnder(out)).toEqual([]);
    // The output directory itself is the one the user named: it stays.
    expect(existsSync(join(out, 'keep.txt'))).toBe(true);
  });
});
