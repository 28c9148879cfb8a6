import { describe, expect, it } from 'vitest';
import { formatBytes, formatSeconds, formatSummary } from '../../src/report/format.js';
import { SummaryBuilder } from '../../src/report/summary.js';
import { fileResult } from '../helpers.js';

const result = fileResult;

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
    const summary = stats.build({
      cwd: '/c',
      out: '/o',
      elapsedMs: 2000,
      concurrency: 8,
      dryRun: false,
      interrupted: false,
    });
    expect(summary).toMatchObject({
      matched: 5,
      written: 1,
      skipped: 1,
      failed: 2,
      outputs: 3,
      bytesIn: 2000,
      bytesOut: 300,
      elapsedSeconds: 2,
      filesPerSecond: 2.5, // 5 files done (planned ones included) in 2 s
      mbPerSecond: 0,
      concurrency: 8,
    });
    expect(summary.failures.map((f) => f.path)).toEqual(['b', 'z']);
  });

  it('has no rates for a zero-length run', () => {
    const summary = new SummaryBuilder().build({
      cwd: '/',
      out: '/',
      elapsedMs: 0,
      concurrency: 1,
      dryRun: true,
      interrupted: false,
    });
    expect(summary).toMatchObject({ filesPerSecond: 0, mbPerSecond: 0 });
  });
});

describe('format', () => {
  it('formats bytes and seconds', () => {
    expect([0, 999, 1000, 1536, 123_456_789, 5e12].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '1.5 kB',
      '123 MB',
      '5.0 TB',
    ]);
    expect([0.012, 12.34, 125].map(formatSeconds)).toEqual(['0.01 s', '12.3 s', '2m05s']);
  });

  it('formats the summary line and one line per failure', () => {
    const stats = new SummaryBuilder();
    stats.matched = 2;
    stats.add(result({ bytesIn: 2000, bytesOut: 500 }));
    stats.add(
      result({
        input: 'x.gz',
        status: 'failed',
        error: { code: 'ETRANSFORM', message: 'gunzip: incorrect header check' },
      }),
    );
    const text = formatSummary(
      stats.build({ cwd: '/', out: '/', elapsedMs: 500, concurrency: 4, dryRun: false, interrupted: true }),
    );
    expect(text).toBe(
      'globpipe: interrupted: 2 matched, 1 written, 0 skipped, 1 failed | 2.0 kB -> 500 B | 0.50 s, 4 files/s, 0 MB/s | -j 4\n' +
        '  failed: x.gz: gunzip: incorrect header check',
    );
  });
});
