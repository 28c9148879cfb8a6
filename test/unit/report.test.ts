import { describe, expect, it } from 'vitest';
import {
  causeOf,
  countOf,
  formatBytes,
  formatCount,
  formatFailureGroups,
  formatHead,
  formatPlanned,
  formatProblems,
  formatRate,
  formatSeconds,
  formatSummary,
} from '../../src/report/format.js';
import { SummaryBuilder } from '../../src/report/summary.js';
import type { Failure, Summary } from '../../src/types.js';
import { fileResult } from '../helpers.js';

const result = fileResult;

type BuildFields = Parameters<SummaryBuilder['build']>[0];
const fields = (more: Partial<BuildFields> = {}): BuildFields => ({
  cwd: '/c',
  out: '/o',
  elapsedMs: 2000,
  concurrency: 8,
  dryRun: false,
  interrupted: false,
  ...more,
});

const eacces = (path: string): Failure => ({
  path,
  code: 'EREAD',
  message: `cannot read ${path}: EACCES: permission denied`,
});

describe('SummaryBuilder', () => {
  it('counts outcomes, bytes and outputs, and sorts failures by path', () => {
    const stats = new SummaryBuilder();
    stats.matched = 5;
    stats.add(result({ input: 'w', outputs: ['w.gz', 'w.br'], bytesIn: 1000, bytesOut: 300 }));
    stats.add(result({ input: 's', status: 'skipped', reason: 'exists' }));
    stats.add(result({ input: 'z', status: 'failed', error: { code: 'EREAD', message: 'cannot read z' } }));
    stats.add(
      result({ input: 'b', status: 'failed', error: { code: 'ETRANSFORM', message: 'gunzip: bad' } }),
    );
    stats.add(result({ input: 'p', status: 'planned', outputs: ['p.gz'], bytesIn: 1000 }));
    const summary = stats.build(fields());
    expect(summary).toMatchObject({
      matched: 5,
      written: 1,
      planned: 1,
      skipped: 1,
      failed: 2,
      notProcessed: 0,
      failedDirectories: 0,
      outputs: 3,
      bytesIn: 2000,
      bytesOut: 300,
      elapsedSeconds: 2,
      filesPerSecond: 2.5, // 5 files done (planned ones included) in 2 s
      mbPerSecond: 0, // 1,000 bytes a second: 0.001 MB/s, rounded to 2 digits
      mibPerSecond: 0,
      concurrency: 8,
    });
    expect(summary.failures.map((f) => f.path)).toEqual(['b', 'z']);
  });

  it('gives bytes per second in MB (10^6) and in MiB (2^20)', () => {
    const stats = new SummaryBuilder();
    stats.matched = 1;
    stats.add(result({ bytesIn: 3 * 2 ** 20 }));
    expect(stats.build(fields({ elapsedMs: 1000 }))).toMatchObject({ mbPerSecond: 3.15, mibPerSecond: 3 });
  });

  it('adds up: files never finished are counted, directories the glob could not walk apart', () => {
    const stats = new SummaryBuilder();
    stats.matched = 10;
    stats.add(result({ input: 'a' }));
    stats.add(result({ input: 'b', status: 'skipped', reason: 'exists' }));
    stats.add(result({ input: 'c', status: 'failed', error: { code: 'EREAD', message: 'cannot read c' } }));
    stats.addFailure({ path: '/c/locked', code: 'EGLOB', message: 'cannot read: EACCES: permission denied' });
    const summary = stats.build(fields({ interrupted: true }));
    expect(summary).toMatchObject({
      matched: 10,
      written: 1,
      skipped: 1,
      failed: 1,
      notProcessed: 7,
      failedDirectories: 1,
    });
    expect(summary.failures.map((f) => f.path)).toEqual(['c']);
    expect(summary.directoryFailures.map((f) => f.path)).toEqual(['/c/locked']);
    const { matched, written, planned, skipped, failed, notProcessed } = summary;
    expect(written + planned + skipped + failed + notProcessed).toBe(matched);
  });

  it('has no rates for a zero-length run', () => {
    const summary = new SummaryBuilder().build(fields({ elapsedMs: 0, dryRun: true }));
    expect(summary).toMatchObject({ filesPerSecond: 0, mbPerSecond: 0, mibPerSecond: 0 });
  });
});

describe('per-file latency', () => {
  it('gives nearest-rank percentiles of the files written or discarded, and none without any', () => {
    const stats = new SummaryBuilder();
    expect(stats.latency()).toBeUndefined();
    // 1..2000 ms, shuffled; a skipped and a failed file do not count.
    const values = Array.from({ length: 2000 }, (_, i) => i + 1).sort(
      (a, b) => ((a * 7919) % 2003) - ((b * 7919) % 2003),
    );
    for (const [i, ms] of values.entries())
      stats.add(fileResult({ status: i % 2 === 0 ? 'written' : 'discarded', ms }));
    stats.add(fileResult({ status: 'skipped', ms: 99_999 }));
    stats.add(fileResult({ status: 'failed', ms: 99_999 }));
    expect(stats.latency()).toEqual({ p50: 1000, p90: 1800, p99: 1980, p999: 1998, max: 2000 });
    // 99.9% of 100,000 is rank 99,900 exactly (not 99,901, as 0.999 × 100000 rounds up in floating point).
    const many = new SummaryBuilder();
    for (let ms = 1; ms <= 100_000; ms += 1) many.add(fileResult({ status: 'written', ms }));
    expect(many.latency()?.p999).toBe(99_900);
  });
});

describe('units', () => {
  it('bytes in IEC units: 1 KiB is 1,024 bytes, and a figure never shows as 1024 of a unit', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [999, '999 B'],
      [1023, '1023 B'],
      [1024, '1.0 KiB'],
      [1536, '1.5 KiB'],
      [72_893, '71.2 KiB'],
      [102_348, '99.9 KiB'],
      [102_400, '100 KiB'],
      [1_047_552, '1023 KiB'],
      [1_048_064, '1.0 MiB'],
      [1_048_575, '1.0 MiB'],
      [2 ** 20, '1.0 MiB'],
      [123_456_789, '118 MiB'],
      [2 ** 30, '1.0 GiB'],
      [5e12, '4.5 TiB'],
      [2 ** 50 * 3000, '3000 PiB'],
    ];
    expect(cases.map(([bytes]) => formatBytes(bytes))).toEqual(cases.map(([, shown]) => shown));
  });

  it('rates, counts and seconds', () => {
    expect(formatRate(3 * 2 ** 20, 2)).toBe('1.5 MiB/s');
    expect(formatRate(100, 0)).toBe('0 B/s');
    expect([0, 999, 1000, 4998, 1_234_567].map(formatCount)).toEqual([
      '0',
      '999',
      '1,000',
      '4,998',
      '1,234,567',
    ]);
    expect([0, 1, 2, 5000].map((n) => countOf(n, 'file', 'files'))).toEqual([
      '0 files',
      '1 file',
      '2 files',
      '5,000 files',
    ]);
    expect([0.012, 12.34, 125].map(formatSeconds)).toEqual(['0.01 s', '12.3 s', '2m05s']);
  });
});

/** A summary with the figures given, the rest plain. */
function summaryOf(more: Partial<Summary>): Summary {
  return { ...new SummaryBuilder().build(fields({ elapsedMs: 500, concurrency: 4 })), ...more };
}

describe('the summary line', () => {
  it('a run: counts, bytes in IEC units, time and rates', () => {
    const summary = summaryOf({
      matched: 17,
      written: 16,
      failed: 1,
      bytesIn: 72_893,
      bytesOut: 21_612,
      filesPerSecond: 34,
    });
    expect(formatHead(summary)).toBe(
      'globpipe: 17 matched, 16 written, 0 skipped, 1 failed | 71.2 KiB -> 21.1 KiB | 0.50 s, 34 files/s, 142 KiB/s | -j 4',
    );
  });

  it('large counts are grouped by thousands; files per second under 10 keep a decimal', () => {
    const summary = summaryOf({ matched: 5000, written: 2, failed: 4998, filesPerSecond: 0.7 });
    expect(formatHead(summary)).toMatch(
      /^globpipe: 5,000 matched, 2 written, 0 skipped, 4,998 failed \| 0 B -> 0 B \| 0\.50 s, 0\.7 files\/s, 0 B\/s \| -j 4$/,
    );
  });

  it('an interrupted run: what it never finished, and a directory the glob could not read, apart', () => {
    const summary = summaryOf({
      matched: 100,
      written: 3,
      failed: 1,
      notProcessed: 96,
      failedDirectories: 1,
      interrupted: true,
    });
    expect(formatHead(summary)).toBe(
      'globpipe: interrupted: 100 matched, 3 written, 0 skipped, 1 failed, 96 not processed | 1 directory failed | 0 B -> 0 B | 0.50 s, 0.0 files/s, 0 B/s | -j 4',
    );
    expect(formatHead(summaryOf({ failedDirectories: 2 }))).toContain(' | 2 directories failed | ');
  });

  it('a dry run: outputs planned, singular or plural, and no bytes or rates', () => {
    const one = summaryOf({ dryRun: true, matched: 1, planned: 1, outputs: 1, filesPerSecond: 71.4 });
    expect(formatHead(one)).toBe(
      'globpipe: dry run: 1 matched, 1 output planned, 0 skipped, 0 failed | 0.50 s | -j 4',
    );
    const fanOut = summaryOf({ dryRun: true, matched: 3, planned: 2, outputs: 4, skipped: 1 });
    expect(formatHead(fanOut)).toBe(
      'globpipe: dry run: 3 matched, 4 outputs planned (2 files), 1 skipped, 0 failed | 0.50 s | -j 4',
    );
    const oneFile = summaryOf({ dryRun: true, matched: 1, planned: 1, outputs: 2 });
    expect(formatHead(oneFile)).toContain('2 outputs planned (1 file),');
    expect(formatHead(fanOut)).not.toMatch(/files\/s|B\/s| -> /);
  });
});

describe('failures', () => {
  it('grouped by cause, the largest first, with a count and the first three paths', () => {
    const failures = [
      ...Array.from({ length: 4998 }, (_, i) => eacces(`d/f${String(i).padStart(4, '0')}.txt`)),
      { path: 'x.gz', code: 'ETRANSFORM' as const, message: 'gunzip: incorrect header check' },
      { path: 'y.gz', code: 'ETRANSFORM' as const, message: 'gunzip: incorrect header check' },
      {
        path: 'big',
        code: 'EWRITE' as const,
        message: 'cannot write /o/big: ENOSPC: no space left on device',
      },
    ];
    expect(formatFailureGroups(failures)).toEqual([
      '  failed 4,998 files: cannot read: EACCES: permission denied (d/f0000.txt, d/f0001.txt, d/f0002.txt and 4,995 more)',
      '  failed 2 files: gunzip: incorrect header check (x.gz, y.gz)',
      '  failed: big: cannot write /o/big: ENOSPC: no space left on device',
    ]);
  });

  it('a cause leaves out the path it names; the same words under another code are another group', () => {
    expect(causeOf(eacces('a: b.txt'))).toBe('cannot read: EACCES: permission denied');
    expect(
      causeOf({ path: 'a', code: 'EWRITE', message: 'cannot write /o/a: EROFS: read-only file system' }),
    ).toBe('cannot write: EROFS: read-only file system');
    expect(causeOf({ path: 'a', code: 'ETRANSFORM', message: 'upper: boom' })).toBe('upper: boom');
    const lines = formatFailureGroups([
      { path: 'a', code: 'ETRANSFORM', message: 'same' },
      { path: 'b', code: 'ESYMLINK', message: 'same' },
    ]);
    expect(lines).toEqual(['  failed: a: same', '  failed: b: same']);
  });

  it('past twenty causes, the rest are summed up in one line', () => {
    const failures = Array.from({ length: 30 }, (_, i) => ({
      path: `f${String(i).padStart(2, '0')}`,
      code: 'ETRANSFORM' as const,
      message: `t: error ${i}`,
    }));
    const lines = formatFailureGroups(failures);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('  failed: f00: t: error 0');
    expect(lines.at(-1)).toBe('  failed 11 more files, for 11 other causes (--json lists every failure)');
  });

  it('the end of a run: skips, failures unless all were shown, failed directories, and the summary line last', () => {
    const stats = new SummaryBuilder();
    stats.matched = 6;
    stats.add(result({ input: 'ok' }));
    for (const input of ['s1', 's2', 's3', 's4'])
      stats.add(result({ input, status: 'skipped', reason: 'output exists (--skip-existing)' }));
    stats.add(
      result({ input: 'x.gz', status: 'failed', error: { code: 'ETRANSFORM', message: 'gunzip: bad' } }),
    );
    stats.addFailure({ path: '/c/locked', code: 'EGLOB', message: 'cannot read: EACCES: permission denied' });
    const summary = stats.build(fields({ elapsedMs: 1000, concurrency: 2 }));
    const head =
      'globpipe: 6 matched, 1 written, 4 skipped, 1 failed | 1 directory failed | 0 B -> 0 B | 1.00 s, 6.0 files/s, 0 B/s | -j 2';
    expect(formatSummary(summary).split('\n')).toEqual([
      '  skipped 4 files: output exists (--skip-existing) (s1, s2, s3 and 1 more)',
      '  failed: x.gz: gunzip: bad',
      '  failed directory: /c/locked: cannot read: EACCES: permission denied',
      head,
    ]);
    // The one failed file was shown as it failed: not again.
    expect(formatSummary(summary, 1).split('\n')).toEqual([
      '  skipped 4 files: output exists (--skip-existing) (s1, s2, s3 and 1 more)',
      '  failed directory: /c/locked: cannot read: EACCES: permission denied',
      head,
    ]);
    expect(formatProblems(summary, 1)).toEqual([
      '  failed directory: /c/locked: cannot read: EACCES: permission denied',
    ]);
  });
});

describe('a dry run line', () => {
  it('names each output by its full path under the output directory', () => {
    expect(
      formatPlanned(result({ input: 'docs/a.md', outputs: ['docs/a.md.gz', 'docs/a.md.br'] }), '/site'),
    ).toBe('docs/a.md -> /site/docs/a.md.gz, /site/docs/a.md.br');
  });
});
