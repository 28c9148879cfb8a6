import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { makeTree, readTree, tempDir } from '../helpers.js';

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
