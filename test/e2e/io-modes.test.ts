import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, tempDir, writeTree } from '../helpers.js';

/** By hash: toEqual compares Buffers byte by byte, far too slowly for 9 MiB. */
function hashed(dir: string): Map<string, string> {
  return new Map(
    [...readTree(dir)].map(([path, data]) => [path, createHash('sha256').update(data).digest('hex')]),
  );
}

/** A tree with every size class the read strategies treat apart: empty, small, over a MiB, streamed (8 MiB+). */
function modesTree(): string {
  return writeTree({
    'empty.txt': '',
    'a.txt': 'alpha\n',
    'sub/b.txt': 'b'.repeat(5000),
    'sub/deep/mid.bin': Buffer.alloc(3 * 1024 * 1024 + 17, 7),
    'big.bin': Buffer.alloc(9 * 1024 * 1024 + 3, 9),
  });
}

describe('--read: the same outputs whichever way files are read', () => {
  it.each(['auto', 'batch', 'single', 'stream', 'direct'])(
    '--read %s copies and gzips byte for byte',
    async (read) => {
      const src = modesTree();
      const copied = tempDir();
      const copy = await runCli(['-C', src, '-o', copied, '--read', read, '-q']);
      expect(copy.code, copy.stderr).toBe(0);
      expect(hashed(copied)).toEqual(hashed(src));
      const gzipped = tempDir();
      const gzip = await runCli([
        '-C',
        src,
        'a.txt',
        'sub/b.txt',
        '-t',
        'gzip',
        '-o',
        gzipped,
        '--read',
        read,
        '-q',
      ]);
      expect(gzip.code, gzip.stderr).toBe(0);
      expect(readTree(gzipped).get('sub/b.txt.gz')).toEqual(gzipSync('b'.repeat(5000)));
    },
  );

  it('names the strategies when given another', async () => {
    const result = await runCli(['-C', modesTree(), '-o', tempDir(), '--read', 'mmap']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "globpipe: Expected --read to be one of auto, batch, single, stream, direct, got 'mmap'",
    );
  });
});

describe('--discard', () => {
  it.each(['auto', 'stream', 'direct'])(
    'reads (and transforms) every file and writes nothing (--read %s)',
    async (read) => {
      const src = modesTree();
      const out = join(tempDir(), 'out');
      const report = join(tempDir(), 'report.json');
      const result = await runCli(['-C', src, '-o', out, '--discard', '--read', read, '--report', report]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^globpipe: 5 matched, 5 read and discarded, 0 skipped, 0 failed/m);
      expect(existsSync(out)).toBe(false);
      const summary = JSON.parse(readFileSync(report, 'utf8'));
      const bytes = [...readTree(src).values()].reduce((sum, data) => sum + data.length, 0);
      expect(summary).toMatchObject({
        matched: 5,
        discarded: 5,
        written: 0,
        bytesIn: bytes,
        bytesOut: bytes,
      });
    },
  );

  it('refuses --dry-run and --in-place, which contradict it', async () => {
    for (const other of ['--dry-run', '--in-place']) {
      const args = other === '--dry-run' ? ['-o', tempDir(), other] : [other];
      const result = await runCli(['-C', modesTree(), '--discard', ...args]);
      expect(result.code, other).toBe(2);
      expect(result.stderr).toContain(`--discard reads every file and writes nothing, ${other}`);
    }
  });
});

describe('--report', () => {
  it('writes the summary as JSON with per-file latency and the process figures', async () => {
    const src = modesTree();
    const report = join(tempDir(), 'run.json');
    const result = await runCli(['-C', src, '-o', tempDir(), '--report', report, '-q']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(report, 'utf8'));
    expect(summary).toMatchObject({ type: 'summary', matched: 5, written: 5 });
    const { p50, p90, p99, p999, max } = summary.latencyMs;
    expect(p50).toBeGreaterThanOrEqual(0);
    expect([p50, p90, p99, p999, max]).toEqual([p50, p90, p99, p999, max].sort((a, b) => a - b));
    expect(summary.process.userSeconds).toBeGreaterThan(0);
    expect(summary.process.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
  });

  it('names the file when it cannot be written, and exits 1 with the outputs in place', async () => {
    const src = modesTree();
    const out = tempDir();
    const result = await runCli(['-C', src, '-o', out, '--report', join(src, 'no/such/dir/r.json'), '-q']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write --report .*no\/such\/dir\/r\.json: ENOENT/);
    expect(hashed(out)).toEqual(hashed(src));
  });
});
