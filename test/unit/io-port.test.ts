import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodePort } from '../../src/io/fs.js';
import { inlineCarrier } from '../../src/io/inline-carrier.js';
import { checkUnchanged } from '../../src/io/worker/ops.js';
import { WorkerPool } from '../../src/io/worker/pool.js';
import { tempDir } from '../helpers.js';

const port = nodePort(new WorkerPool({ size: 2 }));

describe('read', () => {
  it('reads files back to back, leaves large ones for streaming and defers what passes the cap', async () => {
    const dir = tempDir();
    const files = { a: 'alpha', b: 'x'.repeat(300), c: '', d: 'y'.repeat(600), e: 'z'.repeat(100) };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    // limit 500: d is streamed; cap 400: a + b + c fit (305), e would pass it.
    const read = await port.read(
      Object.keys(files).map((name) => join(dir, name)),
      { limit: 500, cap: 400 },
    );
    expect(read.map((r) => (r.ok ? r.state : 'failed'))).toEqual([
      'read',
      'read',
      'read',
      'large',
      'deferred',
    ]);
    const texts = read.map((r) => (r.ok && r.state === 'read' ? r.data.toString() : undefined));
    expect(texts.slice(0, 3)).toEqual([files.a, files.b, files.c]);
    expect(read[3]).toMatchObject({ ok: true, state: 'large', size: 600 });
    expect(read[0]).toMatchObject({ ok: true, size: 5, mode: 0o644 & ~process.umask() });
    expect(read[0]?.ok && read[0].state === 'read' && read[0].mtimeMs).toBeGreaterThan(0);
  });

  it('always reads the first file that fits, however small the cap', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big'), 'b'.repeat(1000));
    writeFileSync(join(dir, 'next'), 'n');
    const read = await port.read([join(dir, 'big'), join(dir, 'next')], { limit: 10_000, cap: 10 });
    expect(read.map((r) => r.ok && r.state)).toEqual(['read', 'deferred']);
  });

  it('gives each failing file its own error and reads the rest', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok'), 'fine');
    mkdirSync(join(dir, 'sub'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const read = await port.read(
      ['ok', 'missing', 'sub', 'fifo'].map((name) => join(dir, name)),
      { limit: 1000, cap: 1000 },
    );
    expect(read[0]).toMatchObject({ ok: true, state: 'read', size: 4 });
    expect(read[1]).toMatchObject({ ok: false, error: { code: 'ENOENT', side: 'read' } });
    expect(read[2]).toMatchObject({ ok: false, error: { code: 'ENOTFILE', what: 'is a directory' } });
    expect(read[3]).toMatchObject({ ok: false, error: { code: 'ENOTFILE', what: 'is a FIFO (named pipe)' } });
  });
});

describe('copy', () => {
  it('copies each file through its temp with its mode; a failure is that file’s alone and leaves no temp', async () => {
    const src = tempDir();
    const out = tempDir();
    writeFileSync(join(src, 'a'), 'one');
    writeFileSync(join(src, 'b'), 'two', { mode: 0o750 });
    const item = (from: string, dir: string, name: string) => ({
      src: join(src, from),
      temp: join(out, dir, `.${name}.tmp`),
      dest: join(out, dir, name),
    });
    const copied = await port.copy(
      [item('a', '', 'a'), item('gone', '', 'gone'), item('b', 'no-such-dir', 'b'), item('b', '', 'b')],
      { fsync: false, commit: true, root: out },
    );
    expect(copied.map((c) => c.ok && c.size)).toEqual([3, false, false, 3]);
    expect(copied[1]).toMatchObject({ error: { code: 'ENOENT', side: 'read' } });
    expect(copied[2]).toMatchObject({ error: { code: 'ENOENT', side: 'write' } });
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('one');
    expect(statSync(join(out, 'b')).mode & 0o777).toBe(0o750);
    expect(readdirSync(out).sort()).toEqual(['a', 'b']);
  });

  it('refuses names that do not split as the request says (a NUL byte in one), touching nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'input'), 'keep me');
    // A NUL in the first dest shifts every later name: the input would be taken for a temp.
    const input = join(dir, 'input');
    const copied = await port.copy(
      [
        { src: input, temp: join(dir, '.t1'), dest: `${join(dir, 'out1')}\0x` },
        { src: input, temp: input, dest: join(dir, 'out2') },
      ],
      { fsync: false, commit: true, root: dir },
    );
    expect(copied.map((c) => c.ok)).toEqual([false, false]);
    expect(copied[0]).toMatchObject({
      error: { code: 'EINVAL', message: 'a path in the request holds a NUL byte' },
    });
    expect(readdirSync(dir)).toEqual(['input']);
    expect(readFileSync(input, 'utf8')).toBe('keep me');
  });

  it('never removes a file that holds the temp name (EEXIST): it is not ours', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big'), Buffer.alloc(2 * 1024 * 1024, 1)); // past 1 MiB: the copyfile path
    writeFileSync(join(dir, 'taken'), 'someone else');
    const [copied] = await port.copy(
      [{ src: join(dir, 'big'), temp: join(dir, 'taken'), dest: join(dir, 'out') }],
      {
        fsync: false,
        commit: true,
        root: dir,
      },
    );
    expect(copied).toMatchObject({ ok: false, error: { code: 'EEXIST' } });
    expect(readFileSync(join(dir, 'taken'), 'utf8')).toBe('someone else');
  });
});

describe('on the calling thread (inlineCarrier)', () => {
  it('keeps output directories open between requests, and lets go of them when the run removes one', async () => {
    const inline = nodePort(inlineCarrier(new WorkerPool({ size: 1 })));
    const src = tempDir();
    const out = tempDir();
    writeFileSync(join(src, 'a'), 'one');
    writeFileSync(join(src, 'big'), Buffer.alloc(2 * 1024 * 1024, 'b'));
    const copy = (from: string, name: string) =>
      inline.copy(
        [{ src: join(src, from), temp: join(out, 'd', `.${name}.tmp`), dest: join(out, 'd', name) }],
        {
          fsync: false,
          commit: true,
          root: out,
        },
      );
    await inline.mkdir(join(out, 'd'), out);
    expect((await copy('a', 'first'))[0]).toMatchObject({ ok: true, size: 3 });
    // Removed and made again by the run: the next copy lands in the new directory, not the old one.
    rmSync(join(out, 'd', 'first'));
    await inline.rmdir(join(out, 'd'), out);
    await inline.mkdir(join(out, 'd'), out);
    expect((await copy('a', 'second'))[0]).toMatchObject({ ok: true, size: 3 });
    // Over a MiB: copied by a worker, with the same outcome.
    expect((await copy('big', 'third'))[0]).toMatchObject({ ok: true, size: 2 * 1024 * 1024 });
    expect(readdirSync(join(out, 'd')).sort()).toEqual(['second', 'third']);
    expect(readFileSync(join(out, 'd', 'third'))).toEqual(readFileSync(join(src, 'big')));
    inline.release?.();
  });
});

describe('write and rename', () => {
  it('writes every output of each file, then renames them; a file that fails leaves nothing', async () => {
    const out = tempDir();
    const output = (dest: string, text: string) => ({ temp: `${dest}.tmp`, dest, data: Buffer.from(text) });
    // File 0: x1 and x2. File 1: z0, and z in a directory that does not exist, so the file fails whole.
    const written = await port.write(
      [
        { outputs: [output(join(out, 'x1'), 'first'), output(join(out, 'x2'), 'second')], mode: null },
        {
          outputs: [output(join(out, 'z0'), 'lonely'), output(join(out, 'missing', 'z'), 'zzzz')],
          mode: null,
        },
      ],
      { fsync: false, commit: true, root: out },
    );
    expect(written.map((w) => w.ok && w.size)).toEqual([11, false]);
    expect(written[1]).toMatchObject({
      error: { code: 'ENOENT', side: 'write', dest: join(out, 'missing', 'z') },
    });
    expect(readFileSync(join(out, 'x2'), 'utf8')).toBe('second');
    expect(readdirSync(out).sort()).toEqual(['x1', 'x2']);
  });

  it('without commit leaves complete temps, with the exact mode asked for, for rename to finish', async () => {
    const out = tempDir();
    const [written] = await port.write(
      [
        {
          outputs: [{ temp: join(out, '.a.tmp'), dest: join(out, 'a'), data: Buffer.from('A') }],
          mode: 0o604,
        },
      ],
      { fsync: true, commit: false, root: out },
    );
    expect(written?.ok).toBe(true);
    expect(readdirSync(out)).toEqual(['.a.tmp']);
    expect(statSync(join(out, '.a.tmp')).mode & 0o777).toBe(0o604);
    const renamed = await port.rename(
      [[[join(out, '.a.tmp'), join(out, 'a')]], [[join(out, '.gone.tmp'), join(out, 'b')]]],
      { fsync: true, root: out },
    );
    expect(renamed.map((r) => r.ok)).toEqual([true, false]);
    expect(readdirSync(out)).toEqual(['a']);
  });
});

describe('a worker that dies', () => {
  it('fails only the file it died on: the others of its request are tried again alone', async () => {
    const crashing = nodePort(
      new WorkerPool({ size: 2, script: new URL('../crashing-worker.cjs', import.meta.url) }),
    );
    const src = tempDir();
    const out = tempDir();
    for (const name of ['a', 'crash-me', 'b']) writeFileSync(join(src, name), name);
    const copied = await crashing.copy(
      ['a', 'crash-me', 'b'].map((name) => ({
        src: join(src, name),
        temp: join(out, `.${name}.tmp`),
        dest: join(out, name),
      })),
      { fsync: false, commit: true, root: out },
    );
    expect(copied.map((c) => c.ok)).toEqual([true, false, true]);
    expect(copied[1]).toMatchObject({ error: { code: 'EWORKER', message: 'IO worker exited (code 7)' } });
    expect(readdirSync(out).sort()).toEqual(['a', 'b']);
    // The pool replaces the dead worker: the next request goes through.
    const [again] = await crashing.read([join(src, 'a')], { limit: 100, cap: 100 });
    expect(again).toMatchObject({ ok: true, state: 'read' });
  });

  it('sends again the calls that were only queued behind the one that killed it', async () => {
    // One worker: the second and third calls wait behind the first, which kills it.
    const crashing = nodePort(
      new WorkerPool({ size: 1, script: new URL('../crashing-worker.cjs', import.meta.url) }),
    );
    const dir = tempDir();
    for (const name of ['crash-me', 'x', 'y']) writeFileSync(join(dir, name), name);
    const bounds = { limit: 100, cap: 100 };
    const [crashed, x, y] = await Promise.all(
      ['crash-me', 'x', 'y'].map((name) => crashing.read([join(dir, name)], bounds)),
    );
    expect(crashed?.[0]).toMatchObject({ ok: false, error: { code: 'EWORKER', side: 'read' } });
    expect(x?.[0]).toMatchObject({ ok: true, state: 'read', size: 1 });
    expect(y?.[0]).toMatchObject({ ok: true, state: 'read', size: 1 });
  });
});

describe('checkUnchanged', () => {
  const stats = (size: number, mtimeMs: number) => ({ size, mtimeMs }) as Stats;
  it('passes a file read as it was, and refuses one that changed or read short', () => {
    expect(() => checkUnchanged(stats(10, 1), stats(10, 1), 10)).not.toThrow();
    // A file that claims 0 bytes (as /proc's do) is read to its end.
    expect(() => checkUnchanged(stats(0, 1), stats(0, 1), 4096)).not.toThrow();
    expect(() => checkUnchanged(stats(10, 1), stats(15, 2), 10)).toThrow(
      'changed while it was read (size 10 -> 15 bytes, modified meanwhile)',
    );
    expect(() => checkUnchanged(stats(10, 1), stats(10, 2), 10)).toThrow(
      'changed while it was read (10 of 10 bytes read, modified meanwhile)',
    );
    expect(() => checkUnchanged(stats(10, 1), stats(10, 1), 7)).toThrow(
      'changed while it was read (7 of 10 bytes read)',
    );
  });
});
