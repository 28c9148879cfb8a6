import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defineTransform, GlobpipeError, type GlobpipeEvent, run } from '../src/index.js';
import { type Io, nodeIo } from '../src/io/io.js';
import { readTree, site, siteFiles, tempDir } from './helpers.js';

function makeTree(count: number, size = 16): string {
  const dir = tempDir();
  for (let i = 0; i < count; i += 1) {
    const sub = join(dir, `d${i % 7}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.txt`), `file ${i}\n`.padEnd(size, '.'));
  }
  return dir;
}

/** A transform that counts how many files it is working on at once. */
function gauge(delayMs: number) {
  const state = { now: 0, max: 0, calls: 0 };
  const transform = defineTransform({
    name: 'gauge',
    async buffer(content: Buffer) {
      state.now += 1;
      state.calls += 1;
      state.max = Math.max(state.max, state.now);
      await sleep(delayMs);
      state.now -= 1;
      return content;
    },
  });
  return { state, transform };
}

describe('run()', () => {
  it('does what the CLI does and returns the typed summary', async () => {
    const out = tempDir();
    const summary = await run({ cwd: site, out, transforms: ['gzip'], concurrency: 3 });
    const inputs = siteFiles();
    expect(summary).toMatchObject({
      matched: inputs.size,
      written: inputs.size,
      failed: 0,
      concurrency: 3,
      interrupted: false,
    });
    expect(summary.failures).toEqual([]);
    for (const [path, content] of inputs)
      expect(gunzipSync(readTree(out).get(`${path}.gz`) as Buffer)).toEqual(content);
  });

  it('reports progress as events: a match per file, the end of the glob, a result per file', async () => {
    const events: GlobpipeEvent[] = [];
    const summary = await run({ cwd: site, out: tempDir(), onEvent: (event) => events.push(event) });
    const matches = events.filter((e) => e.type === 'match');
    const files = events.filter((e) => e.type === 'file');
    expect(matches).toHaveLength(summary.matched);
    expect(files).toHaveLength(summary.matched);
    expect(events.filter((e) => e.type === 'glob-end')).toEqual([
      { type: 'glob-end', matched: summary.matched },
    ]);
  });

  it('rejects bad options with a GlobpipeError naming the value, before writing anything', async () => {
    const out = join(tempDir(), 'out');
    await expect(run({ cwd: site, out, concurrency: 0 })).rejects.toThrow(
      'Expected `concurrency` to be an integer from 1 to 100000, got `0` (number)',
    );
    await expect(run({ cwd: site, out, transforms: ['nope'] })).rejects.toMatchObject({
      code: 'ENOTRANSFORM',
    });
    await expect(run({ cwd: site })).rejects.toBeInstanceOf(GlobpipeError);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the bound', () => {
  it('never has more than `concurrency` files in the transform, and reaches it', async () => {
    const cwd = makeTree(60);
    for (const concurrency of [1, 4, 16]) {
      const { state, transform } = gauge(15);
      const summary = await run({ cwd, out: tempDir(), transforms: [transform], concurrency });
      expect(summary.written).toBe(60);
      expect(state.calls).toBe(60);
      expect(state.max).toBe(concurrency);
    }
  });

  it('counts whole file jobs, from the read to the rename, through the io layer', async () => {
    const cwd = makeTree(40);
    const jobs = { now: 0, max: 0 };
    const io: Io = {
      ...nodeIo,
      async readFile(path, limit) {
        jobs.now += 1;
        jobs.max = Math.max(jobs.max, jobs.now);
        await sleep(5);
        return nodeIo.readFile(path, limit);
      },
      async rename(from, to) {
        await sleep(5);
        await nodeIo.rename(from, to);
        jobs.now -= 1;
      },
    };
    const { transform } = gauge(5);
    await run({ cwd, out: tempDir(), transforms: [transform], concurrency: 6, io });
    expect(jobs.max).toBe(6);
    expect(jobs.now).toBe(0);
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

describe('small files in batches', () => {
  it('reads what passes a batch\u2019s byte budget in later rounds: every file once, every byte exact', async () => {
    const cwd = tempDir();
    const expected: Record<string, Buffer> = {};
    for (let i = 0; i < 6; i += 1) {
      // 3 MiB each (under the 8 MiB streaming threshold): three of them pass one round's 8 MiB.
      const content = Buffer.alloc(3 * 1024 * 1024, String.fromCharCode(97 + i));
      writeFileSync(join(cwd, `big${i}.bin`), content);
      expected[`big${i}.bin`] = content;
    }
    // 16 files: one batch at -j 64, so its reads take three rounds.
    for (let i = 0; i < 10; i += 1) {
      writeFileSync(join(cwd, `small${i}.txt`), `small ${i}`);
      expected[`small${i}.txt`] = Buffer.from(`small ${i}`);
    }
    const seen: string[] = [];
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      concurrency: 64,
      transforms: [
        {
          name: 'note',
          buffer: (content, file) => {
            seen.push(file.path);
            return content;
          },
        },
      ],
    });
    expect(summary.written).toBe(16);
    expect(seen.sort()).toEqual(Object.keys(expected).sort());
    const tree = readTree(out);
    expect([...tree.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, content] of Object.entries(expected))
      expect(tree.get(name)?.equals(content)).toBe(true);
  });
});

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

describe('the error policy with batches', () => {
  it('--fail-fast starts no batch after the first failure; every file started is reported once', async () => {
    const cwd = makeTree(600);
    const out = tempDir();
    const files: string[] = [];
    const summary = await run({
      cwd,
      out,
      maxErrors: 1,
      transforms: [
        {
          name: 'strict',
          buffer(content, file) {
            if (file.path.endsWith('0.txt')) throw new Error('no tens');
            return content;
          },
        },
      ],
      onEvent(event) {
        if (event.type === 'file') files.push(event.result.input);
      },
    });
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    expect(new Set(files).size).toBe(files.length);
    expect(summary.written + summary.failed).toBe(files.length);
    // Default 256 in flight (four batches of 64): what was in flight finishes, nothing new starts.
    expect(files.length).toBeLessThanOrEqual(256);
    const written = readTree(out);
    expect(written.size).toBe(summary.written);
    for (const name of written.keys()) expect(name).not.toMatch(/globpipe-tmp|0\.txt$/);
  });
});

describe('planning checks', () => {
  it('two inputs mapping to one output (after --ext) fail before anything is written', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.md'), 'a');
    writeFileSync(join(cwd, 'a.txt'), 'a');
    writeFileSync(join(cwd, 'b.md'), 'b');
    const out = join(tempDir(), 'out');
    await expect(run({ cwd, out, ext: '.html' })).rejects.toMatchObject({
      code: 'ECOLLISION',
      message: '`a.md` and `a.txt` would both be written to `a.html`',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('an output over an input without in-place fails before anything is written', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.txt'), 'a');
    await expect(run({ cwd, out: cwd })).rejects.toMatchObject({ code: 'EOVERWRITE' });
    const summary = await run({
      cwd,
      inPlace: true,
      transforms: [{ name: 'up', buffer: (c) => c.toString().toUpperCase() }],
    });
    expect(summary.written).toBe(1);
    expect(readTree(cwd)).toEqual(new Map([['a.txt', Buffer.from('A')]]));
  });
});

describe('no leaks', () => {
  it('after failures of every kind, no temp file remains and no descriptor stays open', async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const cwd = makeTree(30);
    writeFileSync(join(cwd, 'large.bin'), Buffer.alloc(9 * 1024 * 1024, 1));
    const out = tempDir();
    const io: Io = {
      ...nodeIo,
      async writeFile(path, data, options) {
        if (path.includes('f7.txt'))
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return nodeIo.writeFile(path, data, options);
      },
      async readFile(path, limit) {
        if (path.endsWith('f11.txt'))
          throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
        return nodeIo.readFile(path, limit);
      },
    };
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
      const summary = await run({ cwd, out, transforms: [failing, ['gzip', 'copy']], io, concurrency: 8 });
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

describe('fsync', () => {
  it('flushes every output file and its directory before going on', async () => {
    const cwd = makeTree(6);
    writeFileSync(join(cwd, 'large.bin'), Buffer.alloc(9 * 1024 * 1024, 3));
    const out = tempDir();
    const synced: string[] = [];
    const flushed: string[] = [];
    const io: Io = {
      ...nodeIo,
      fsync: async (path) => {
        synced.push(path);
        await nodeIo.fsync(path);
      },
      writeFile: async (path, data, options) => {
        if (options.flush) flushed.push(path);
        await nodeIo.writeFile(path, data, options);
      },
      openWriteStream: async (path, options) => {
        if (options.flush) flushed.push(path);
        return nodeIo.openWriteStream(path, options);
      },
    };
    for (const transforms of [['copy'], ['gzip']]) {
      synced.length = 0;
      flushed.length = 0;
      const summary = await run({ cwd, out, transforms, fsync: true, io });
      expect(summary.written).toBe(7);
      const dirs = new Set(readTree(out).keys());
      expect(dirs.size).toBeGreaterThanOrEqual(7);
      // copy: the temp file is fsynced; others: written with flush (fsync before close).
      expect(
        transforms[0] === 'copy' ? synced.filter((p) => p.endsWith('.globpipe-tmp')).length : flushed.length,
      ).toBe(7);
      for (const dir of ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', '']) expect(synced).toContain(join(out, dir));
    }
  });
});
