import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchShape } from '../../src/batches.js';
import { runBatch } from '../../src/io/batch-ops.js';
import { DEFERRED, FAILED, NOT_READ } from '../../src/io/batch-protocol.js';
import { tempDir } from '../helpers.js';

describe('batchShape', () => {
  it('never puts more than `concurrency` files in flight, and keeps several batches going', () => {
    for (let concurrency = 1; concurrency <= 2000; concurrency += 1) {
      const { size, slots } = batchShape(concurrency);
      expect(size).toBeGreaterThanOrEqual(1);
      expect(size * slots).toBeLessThanOrEqual(concurrency);
      // Rounding never wastes more than a batch of the allowance.
      expect(size * slots).toBeGreaterThan(concurrency - size);
      if (concurrency >= 4) expect(slots).toBeGreaterThanOrEqual(4);
    }
    expect(batchShape(1)).toEqual({ size: 1, slots: 1 });
  });
});

describe('readMany', () => {
  it('reads files back to back, leaves large ones for streaming and defers what passes the cap', () => {
    const dir = tempDir();
    const files = { a: 'alpha', b: 'x'.repeat(300), c: '', d: 'y'.repeat(600), e: 'z'.repeat(100) };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const paths = Object.keys(files).map((name) => join(dir, name));
    // limit 500: d is streamed; cap 400: a + b + c fit (305), e would pass it.
    const result = runBatch({ op: 'readMany', paths: paths.join('\0'), count: 5, limit: 500, cap: 400 });
    expect([...result.sizes]).toEqual([5, 300, 0, NOT_READ, DEFERRED]);
    const data = Buffer.from(result.data as ArrayBuffer);
    expect(data.length).toBe(305);
    const at = (i: number) =>
      data.subarray(result.offsets?.[i], (result.offsets?.[i] ?? 0) + (result.sizes[i] ?? 0)).toString();
    expect([at(0), at(1), at(2)]).toEqual([files.a, files.b, files.c]);
    expect(result.mtimes?.[0]).toBeGreaterThan(0);
    expect(result.errors).toEqual({});
  });

  it('always reads the first file that fits, however small the cap', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big'), 'b'.repeat(1000));
    writeFileSync(join(dir, 'next'), 'n');
    const result = runBatch({
      op: 'readMany',
      paths: [join(dir, 'big'), join(dir, 'next')].join('\0'),
      count: 2,
      limit: 10_000,
      cap: 10,
    });
    expect([...result.sizes]).toEqual([1000, DEFERRED]);
  });

  it('gives each failing file its own error and reads the rest', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok'), 'fine');
    mkdirSync(join(dir, 'sub'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const paths = ['ok', 'missing', 'sub', 'fifo'].map((name) => join(dir, name));
    const result = runBatch({ op: 'readMany', paths: paths.join('\0'), count: 4, limit: 1000, cap: 1000 });
    expect([...result.sizes]).toEqual([4, FAILED, FAILED, FAILED]);
    expect(result.errors[1]).toMatchObject({ code: 'ENOENT', side: 'read' });
    expect(result.errors[2]).toMatchObject({ code: 'ENOTFILE', what: 'is a directory' });
    expect(result.errors[3]).toMatchObject({ code: 'ENOTFILE', what: 'is a FIFO (named pipe)' });
    expect(Buffer.from(result.data as ArrayBuffer).toString()).toBe('fine');
  });
});

describe('copyMany', () => {
  it('copies each file through its temp; a failure is that file’s alone and leaves no temp', () => {
    const src = tempDir();
    const out = tempDir();
    writeFileSync(join(src, 'a'), 'one');
    writeFileSync(join(src, 'b'), 'two', { mode: 0o750 });
    const names = [
      [join(src, 'a'), join(out, '.a.tmp'), join(out, 'a')],
      [join(src, 'gone'), join(out, '.gone.tmp'), join(out, 'gone')],
      [join(src, 'b'), join(out, 'no-such-dir', '.b.tmp'), join(out, 'no-such-dir', 'b')],
      [join(src, 'b'), join(out, '.b.tmp'), join(out, 'b')],
    ].flat();
    const result = runBatch({ op: 'copyMany', names: names.join('\0'), count: 4, fsync: false });
    expect([...result.sizes]).toEqual([3, FAILED, FAILED, 3]);
    expect(result.errors[1]).toMatchObject({ code: 'ENOENT', side: 'read' });
    expect(result.errors[2]).toMatchObject({ code: 'ENOENT', side: 'write' });
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('one');
    expect(readFileSync(join(out, 'b'), 'utf8')).toBe('two');
    expect(readdirSync(out).sort()).toEqual(['a', 'b']);
  });
});

describe('batch safety', () => {
  it('refuses paths that do not split as the batch says (a NUL byte in one), touching nothing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'input'), 'keep me');
    // A NUL in the first dest shifts every later name: the input would be taken for a temp.
    const names = [
      join(dir, 'input'),
      join(dir, '.t1'),
      `${join(dir, 'out1')}\0x`,
      join(dir, 'input'),
      join(dir, 'input'),
      join(dir, 'out2'),
    ];
    const result = runBatch({ op: 'copyMany', names: names.join('\0'), count: 2, fsync: false });
    expect([...result.sizes]).toEqual([FAILED, FAILED]);
    expect(result.errors[0]).toMatchObject({
      code: 'EINVAL',
      message: 'a path in the batch holds a NUL byte',
    });
    expect(readdirSync(dir)).toEqual(['input']);
    expect(readFileSync(join(dir, 'input'), 'utf8')).toBe('keep me');
  });

  it('never removes a file that holds the temp name (EEXIST): it is not ours', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big'), Buffer.alloc(2 * 1024 * 1024, 1)); // past 1 MiB: the copyfile path
    writeFileSync(join(dir, 'taken'), 'someone else');
    const result = runBatch({
      op: 'copyMany',
      names: [join(dir, 'big'), join(dir, 'taken'), join(dir, 'out')].join('\0'),
      count: 1,
      fsync: false,
    });
    expect([...result.sizes]).toEqual([FAILED]);
    expect(result.errors[0]).toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(dir, 'taken'), 'utf8')).toBe('someone else');
  });
});

describe('writeMany', () => {
  it('writes every output of each file, then renames them; a file that fails leaves nothing', () => {
    const out = tempDir();
    // File 0: x1 and x2. File 1: z0, and z in a directory that does not exist, so the file fails whole.
    const outputs = [
      [join(out, 'x1'), 'first'],
      [join(out, 'x2'), 'second'],
      [join(out, 'z0'), 'lonely'],
      [join(out, 'missing', 'z'), 'zzzz'],
    ] as const;
    const names = outputs.flatMap(([dest]) => [`${dest}.tmp`, dest]);
    const bytes = new TextEncoder().encode(outputs.map(([, text]) => text).join(''));
    const result = runBatch({
      op: 'writeMany',
      names: names.join('\0'),
      counts: new Uint32Array([2, 2]),
      ends: new Float64Array([5, 11, 17, 21]),
      data: bytes.buffer as ArrayBuffer,
      fsync: false,
    });
    expect([...result.sizes]).toEqual([11, FAILED]);
    expect(result.errors[1]).toMatchObject({ code: 'ENOENT', side: 'write' });
    expect(readFileSync(join(out, 'x1'), 'utf8')).toBe('first');
    expect(readFileSync(join(out, 'x2'), 'utf8')).toBe('second');
    expect(readdirSync(out).sort()).toEqual(['x1', 'x2']);
  });
});
