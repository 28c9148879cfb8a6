import { describe, expect, it } from 'vitest';
import { GlobpipeError } from '../../src/errors.js';
import type { ManifestInput, RunManifest } from '../../src/report/run-manifest.js';
import {
  checkAgreement,
  type LoadedManifest,
  missingShards,
  type VerifyTree,
  verifyShards,
} from '../../src/report/verify-shards.js';

/** A tree in memory: the glob finds `files`; each output's current hash is in `hashes` (`h:<path>` by default). */
function memoryTree(files: string[], hashes: Record<string, string | undefined> = {}): VerifyTree {
  return {
    glob: async () => files,
    hash: async (path) => (path in hashes ? hashes[path] : `h:${path}`),
  };
}

function input(path: string, status: ManifestInput['status'] = 'written'): ManifestInput {
  return {
    path,
    status,
    bytesIn: 10,
    bytesOut: status === 'written' ? 4 : 0,
    outputs: status === 'written' ? [{ path: `${path}.gz`, size: 4, sha256: `h:/out/${path}.gz` }] : [],
    ...(status === 'failed' ? { error: { code: 'EREAD', message: 'EACCES' } } : {}),
  };
}

function manifest(
  file: string,
  shard: string | null,
  inputs: ManifestInput[],
  patch: Partial<RunManifest> = {},
) {
  const value: RunManifest = {
    format: 'globpipe-run-manifest',
    version: 1,
    globpipe: '0.1.0',
    cwd: '/src',
    out: '/out',
    patterns: ['**/*'],
    ignore: [],
    glob: ['**/*'],
    globIgnore: [],
    dot: false,
    followSymlinks: false,
    transforms: [['gzip']],
    shard,
    inputs,
    ...patch,
  };
  return { file, manifest: value } satisfies LoadedManifest;
}

const tree = ['a.txt', 'b.txt', 'c.txt', 'd.txt'];

describe('verifyShards', () => {
  it('counts a set of shards with a failed file, and does not pass it: that file is not done', async () => {
    const report = await verifyShards(
      [
        manifest('s1.json', '1/2', [input('a.txt'), input('c.txt', 'skipped')]),
        manifest('s2.json', '2/2', [input('b.txt'), input('d.txt', 'failed')]),
      ],
      memoryTree(tree),
    );
    expect(report).toMatchObject({
      ok: false,
      files: 4,
      written: 2,
      skipped: 1,
      failed: 1,
      outputs: 2,
      bytesIn: 40,
      bytesOut: 8,
      missing: [],
      overlaps: [],
      changed: [],
      missingShards: [],
      shards: ['1/2', '2/2'],
    });
    expect(report.failures).toEqual([{ path: 'd.txt', manifest: 's2.json', message: 'EACCES' }]);
  });

  it('passes a complete set of shards with their outputs as written', async () => {
    const report = await verifyShards(
      [
        manifest('s1.json', '1/2', [input('a.txt'), input('c.txt', 'skipped')]),
        manifest('s2.json', '2/2', [input('b.txt'), input('d.txt')]),
      ],
      memoryTree(tree),
    );
    expect(report).toMatchObject({ ok: true, files: 4, written: 3, skipped: 1, failed: 0, failures: [] });
  });

  it('names a missing shard and the files nobody processed', async () => {
    const report = await verifyShards(
      [
        manifest('s1.json', '1/3', [input('a.txt')]),
        manifest('s3.json', '3/3', [input('c.txt'), input('d.txt')]),
      ],
      memoryTree(tree),
    );
    expect(report.ok).toBe(false);
    expect(report.missingShards).toEqual(['2/3']);
    expect(report.missing).toEqual(['b.txt']);
  });

  it('names a file processed twice with both manifests', async () => {
    const report = await verifyShards(
      [
        manifest('s1.json', '1/2', [input('a.txt'), input('b.txt')]),
        manifest('s2.json', '2/2', [input('b.txt'), input('c.txt'), input('d.txt')]),
      ],
      memoryTree(tree),
    );
    expect(report.ok).toBe(false);
    expect(report.overlaps).toEqual([{ path: 'b.txt', manifests: ['s1.json', 's2.json'] }]);
    expect(report.missing).toEqual([]);
  });

  it('names an output changed or gone since its run', async () => {
    const report = await verifyShards(
      [
        manifest(
          'all.json',
          null,
          tree.map((path) => input(path)),
        ),
      ],
      memoryTree(tree, { '/out/b.txt.gz': 'other', '/out/c.txt.gz': undefined }),
    );
    expect(report.ok).toBe(false);
    expect(report.changed).toEqual([
      { path: '/out/b.txt.gz', manifest: 'all.json', reason: 'content changed' },
      { path: '/out/c.txt.gz', manifest: 'all.json', reason: 'gone' },
    ]);
  });

  it('names a file a manifest lists that the glob no longer finds', async () => {
    const report = await verifyShards(
      [
        manifest(
          'all.json',
          null,
          [...tree, 'e.txt'].map((path) => input(path)),
        ),
      ],
      memoryTree(tree),
    );
    expect(report.ok).toBe(false);
    expect(report.unexpected).toEqual([{ path: 'e.txt', manifest: 'all.json' }]);
  });
});

describe('checkAgreement', () => {
  const usage = (loaded: LoadedManifest[]) => {
    try {
      checkAgreement(loaded);
    } catch (error) {
      expect(error).toBeInstanceOf(GlobpipeError);
      expect((error as GlobpipeError).code).toBe('EUSAGE');
      return (error as Error).message;
    }
    return undefined;
  };

  it('names the field and both files when shards disagree', () => {
    expect(
      usage([
        manifest('s1.json', '1/2', [], { transforms: [['gzip']] }),
        manifest('s2.json', '2/2', [], { transforms: [['brotli']] }),
      ]),
    ).toBe('the manifests disagree on transforms: s1.json has [["gzip"]], s2.json has [["brotli"]]');
    expect(
      usage([manifest('s1.json', '1/2', []), manifest('s2.json', '2/2', [], { patterns: ['*.css'] })]),
    ).toMatch(/disagree on patterns: s1.json has \["\*\*\/\*"\], s2.json has \["\*\.css"\]/);
    expect(
      usage([manifest('a.json', null, []), manifest('b.json', null, [], { cwd: '/elsewhere' })]),
    ).toMatch(/disagree on cwd/);
  });

  it('lets runs that are no shards glob different patterns, not shards of different counts', () => {
    expect(
      usage([
        manifest('a.json', null, [], { patterns: ['a*'] }),
        manifest('b.json', null, [], { patterns: ['b*'] }),
      ]),
    ).toBeUndefined();
    expect(usage([manifest('s1.json', '1/2', []), manifest('t1.json', '1/3', [])])).toMatch(
      /different counts/,
    );
    expect(usage([manifest('s1.json', '1/2', []), manifest('a.json', null, [])])).toMatch(/is no shard/);
  });
});

describe('missingShards', () => {
  it('lists the indices 1..n not given, and none without shards', () => {
    expect(missingShards(['2/4', '4/4'])).toEqual(['1/4', '3/4']);
    expect(missingShards(['1/1'])).toEqual([]);
    expect(missingShards([null, null])).toEqual([]);
  });
});
