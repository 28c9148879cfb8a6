import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type GlobpipeEvent, run, type StreamTransform } from '../../src/index.js';
import { readTree, tempDir } from '../helpers.js';

const MiB = 1024 * 1024;
/** Large enough to stream (8 MiB or more). */
const SIZE = 9 * MiB;

function bigFile(cwd: string): Buffer {
  const content = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 1) content[i] = (i * 7) % 251;
  writeFileSync(join(cwd, 'big.bin'), content);
  return content;
}

/** Passes its first MiB through at once, the rest only once `go` resolves: the file is held midway. */
function held(name: string, go: Promise<void>, suffix = ''): StreamTransform {
  return {
    name,
    rename: (path) => path + suffix,
    stream() {
      let passed = 0;
      return new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          passed += chunk.length;
          if (passed <= MiB) callback(null, chunk);
          else void go.then(() => callback(null, chunk));
        },
      });
    },
  };
}

/** A promise and the function that resolves it. */
function gate(): { go: Promise<void>; open: () => void } {
  let open = () => {};
  const go = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { go, open };
}

describe("'progress' events", () => {
  it('a streaming file reports its bytes read while it runs; files read whole send none', async () => {
    const cwd = tempDir();
    const content = bigFile(cwd);
    writeFileSync(join(cwd, 'small.txt'), 'small');
    const { go, open } = gate();
    const events: GlobpipeEvent[] = [];
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      transforms: [held('held', go)],
      onEvent(event) {
        events.push(event);
        // Held until it has said how far it is.
        if (event.type === 'progress') open();
      },
    });
    expect(summary).toMatchObject({ written: 2, failed: 0 });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const event of progress) expect(event).toMatchObject({ path: 'big.bin', size: SIZE });
    const bytes = progress.map((e) => e.bytes);
    // The first comes while the file is held: past its first MiB, short of its end.
    expect(bytes[0]).toBeGreaterThanOrEqual(MiB);
    expect(bytes[0]).toBeLessThan(SIZE);
    for (const [i, count] of bytes.entries()) {
      expect(count).toBeLessThanOrEqual(SIZE);
      if (i > 0) expect(count).toBeGreaterThan(bytes[i - 1] as number);
    }
    // All before the file's own result.
    const done = events.findIndex((e) => e.type === 'file' && e.result.input === 'big.bin');
    expect(events.findLastIndex((e) => e.type === 'progress')).toBeLessThan(done);
    expect(readTree(out).get('big.bin')?.equals(content)).toBe(true);
  });

  it('branches that each read the file again count as one pass: bytes never pass the size', async () => {
    const cwd = tempDir();
    bigFile(cwd);
    const first = gate();
    const second = gate();
    const bytes: number[] = [];
    // A fan-out whose branches run a child each: the branches go one after another.
    const summary = await run({
      cwd,
      out: tempDir(),
      transforms: [[held('a', first.go, '.a'), held('b', second.go, '.b')]],
      exec: 'cat',
      onEvent(event) {
        if (event.type !== 'progress') return;
        bytes.push(event.bytes);
        // Each branch is held until a figure from its own pass came: the first pass counts
        // up to half the size, the second from there.
        if (event.bytes < SIZE / 2) first.open();
        else second.open();
      },
    });
    expect(summary).toMatchObject({ written: 1, outputs: 2, failed: 0 });
    expect(bytes.some((count) => count < SIZE / 2)).toBe(true);
    expect(bytes.some((count) => count > SIZE / 2)).toBe(true);
    for (const [i, count] of bytes.entries()) {
      expect(count).toBeLessThanOrEqual(SIZE);
      if (i > 0) expect(count).toBeGreaterThan(bytes[i - 1] as number);
    }
  });
});
