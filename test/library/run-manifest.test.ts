import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RunOptions, run } from '../../src/index.js';
import { manifestHeader } from '../../src/report/run-manifest.js';
import { readTree, tempDir, writeTree } from '../helpers.js';
import { testSettings } from '../settings.js';

describe('run({ manifest })', () => {
  it('writes the manifest and names it in the summary', async () => {
    const cwd = writeTree({ 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
    const out = join(tempDir(), 'out');
    const manifest = join(tempDir(), 'm.json');
    const summary = await run({ cwd, out, manifest });
    expect(summary.manifest).toEqual({ path: manifest });
    const written = JSON.parse(readFileSync(manifest, 'utf8')) as {
      shard: unknown;
      inputs: { path: string }[];
    };
    expect(written.shard).toBeNull();
    expect(written.inputs.map((input) => input.path)).toEqual(['a.txt', 'sub/b.txt']);
  });

  it('records the shard the run resolved, as i/n (from --shard auto too), and null without one', () => {
    const shard = { index: 2, count: 3, strategy: 'hash' } as const;
    expect(manifestHeader(testSettings({ shard } as never), { shard: 'auto' } as RunOptions).shard).toBe(
      '2/3',
    );
    expect(manifestHeader(testSettings(), {}).shard).toBeNull();
  });

  it('a manifest that cannot be written is in the summary; the files are still written', async () => {
    const cwd = writeTree({ 'a.txt': 'a\n' });
    const out = join(tempDir(), 'out');
    const blocker = writeTree({ file: 'x' });
    const manifest = join(blocker, 'file', 'm.json');
    const summary = await run({ cwd, out, manifest });
    expect(summary.written).toBe(1);
    expect(summary.manifest?.path).toBe(manifest);
    expect(summary.manifest?.error).toMatch(/cannot write the manifest .*m\.json \((ENOTDIR|EEXIST)\)/);
    expect([...readTree(out).keys()]).toEqual(['a.txt']);
  });
});
