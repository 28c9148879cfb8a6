import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { faultyPort } from '../faults.js';
import { keepAllOptions, makeTree, readTree, tempDir } from '../helpers.js';

describe('per-file failures from transforms', () => {
  it('a transform that throws or returns the wrong type fails that file only', async () => {
    const cwd = makeTree(12);
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      transforms: [
        {
          name: 'picky',
          buffer(content, file) {
            if (file.path.endsWith('f3.txt')) throw new Error('does not like f3');
            if (file.path.endsWith('f5.txt')) return 42 as unknown as string;
            return content.toString().toUpperCase();
          },
        },
      ],
    });
    expect(summary).toMatchObject({ matched: 12, written: 10, failed: 2 });
    expect(summary.failures).toEqual([
      { path: 'd3/f3.txt', code: 'ETRANSFORM', message: 'picky: does not like f3' },
      {
        path: 'd5/f5.txt',
        code: 'ETRANSFORM',
        message: 'picky: returned number, expected a Buffer, Uint8Array or string',
      },
    ]);
    expect(readTree(out).get('d0/f0.txt')?.toString()).toBe('FILE 0\n.........');
    expect(readdirSync(join(out, 'd3'))).toEqual(['f10.txt']); // f3 failed: no output, no temp file
  });

  it('a rename() that returns a NUL byte fails that file only, and nothing lands outside `out`', async () => {
    const cwd = makeTree(12);
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      transforms: [
        {
          name: 'nul',
          rename: (path) => (path.endsWith('f2.txt') ? `${path}\0evil` : path),
          buffer: (c) => c,
        },
      ],
    });
    expect(summary).toMatchObject({ matched: 12, written: 11, failed: 1 });
    expect(summary.failures).toEqual([
      {
        path: 'd2/f2.txt',
        code: 'ETRANSFORM',
        message: 'nul: rename() returned a path with a NUL byte, expected a path',
      },
    ]);
    expect(readTree(out).size).toBe(11);
    expect(readdirSync(cwd).sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6']);
    await expect(run({ cwd, out: tempDir(), ext: '.a\0b' })).rejects.toThrow(
      /Expected `ext` to be an extension/,
    );
  });
});

describe('no leaks', () => {
  it('after failures of every kind, no temp file remains and no descriptor stays open', async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const cwd = makeTree(30);
    writeFileSync(join(cwd, 'large.bin'), Buffer.alloc(9 * 1024 * 1024, 1));
    const out = tempDir();
    const port = faultyPort([
      { op: 'write', name: /^f7\.txt/, code: 'ENOSPC' },
      { op: 'read', name: 'f11.txt', code: 'ENOENT' },
    ]);
    const failing = {
      name: 'failing',
      stream(file: { path: string }) {
        let seen = 0;
        return new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            seen += chunk.length;
            if (file.path === 'large.bin' && seen > 2e6) callback(new Error('mid-file failure'));
            else if (file.path.endsWith('f3.txt')) callback(new Error('early failure'));
            else callback(null, chunk);
          },
        });
      },
    };
    await run({ cwd, out: tempDir(), transforms: [failing] }); // warm up: lazily opened descriptors of Node itself
    const before = openFds();
    for (let i = 0; i < 3; i += 1) {
      const summary = await run({
        cwd,
        out,
        transforms: [failing, ['gzip', 'copy']],
        port,
        concurrency: 8,
        ...keepAllOptions,
      });
      expect(summary.failures.map((f) => f.path)).toEqual([
        'd0/f7.txt',
        'd3/f3.txt',
        'd4/f11.txt',
        'large.bin',
      ]);
    }
    expect(openFds()).toBe(before);
    expect(
      readdirSync(out, { recursive: true })
        .map(String)
        .filter((p) => p.includes('globpipe-tmp')),
    ).toEqual([]);
  });
});
