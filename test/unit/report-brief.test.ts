import { describe, expect, it } from 'vitest';
import { formatBriefSummary, reasonCounts, shortReason } from '../../src/report/brief.js';
import { formatSummary } from '../../src/report/format.js';
import { SummaryBuilder } from '../../src/report/summary.js';
import type { IncrementalReport, Summary } from '../../src/types.js';
import { fileResult as result } from '../helpers.js';

const RATIO = 'output/input above --min-ratio 0.8';
const PNG =
  'not worth compressing (image/png); a pattern ending in .png selects it (--all-types: every type)';
const SMALL = 'smaller than 1024 bytes (--min-size)';

/** A precompress run over a small site: 2 written, 12 too small, a png, a file that did not pay. */
function precompressed(incremental?: IncrementalReport): Summary {
  const stats = new SummaryBuilder();
  stats.matched = 16;
  stats.add(result({ input: 'app.js', outputs: ['app.js.gz'], bytesIn: 21_000, bytesOut: 2_600 }));
  stats.add(result({ input: 'big.css', outputs: ['big.css.gz'] }));
  for (let i = 0; i < 12; i += 1) stats.add(result({ input: `s${i}.txt`, status: 'skipped', reason: SMALL }));
  stats.add(result({ input: 'pixel.png', status: 'skipped', reason: PNG }));
  stats.add(
    result({
      input: 'random.bin',
      status: 'skipped',
      outputs: [],
      reason: `compressing saves too little: ${RATIO}`,
      dropped: [{ output: 'random.bin.gz', reason: RATIO, ratio: 1.01 }],
    }),
  );
  const summary = stats.build({
    cwd: '/c',
    out: '/o',
    elapsedMs: 1000,
    concurrency: 32,
    dryRun: false,
    interrupted: false,
  });
  return incremental === undefined ? summary : { ...summary, incremental };
}

const tail = '| 20.5 KiB -> 2.5 KiB | 1.00 s, 16 files/s, 20.5 KiB/s | -j 32';

describe('shortReason', () => {
  it.each([
    [SMALL, 'smaller than 1 KiB'],
    ['smaller than 1536 bytes (--min-size)', 'smaller than 1.5 KiB'],
    ['smaller than 100 bytes (--min-size)', 'smaller than 100 B'],
    [PNG, 'not worth compressing'],
    [`compressing saves too little: ${RATIO}`, 'compressing saves too little'],
    ['binary content (eol works on text)', 'binary content'],
    ['already UTF-8 (not converted from shift_jis; --force converts it anyway)', 'already UTF-8'],
    ['output exists (--skip-existing)', 'output exists'],
    ['unchanged since the last run', 'unchanged since the last run'],
    ['changed since globpipe wrote it: kept', 'changed since globpipe wrote it'],
    [': starts with a colon', ': starts with a colon'],
    [
      'a transform that explains itself at great length, with no break',
      'a transform that explains itself at gre…',
    ],
    ['bad\x1b[31m name', 'bad\\033[31m name'],
  ])('%s -> %s', (reason, label) => {
    expect(shortReason(reason)).toBe(label);
  });

  it('counts by label, the largest first; past three labels the rest as other; a lone label without its count', () => {
    const group = (reason: string, count: number) => ({ reason, count, paths: [] });
    expect(reasonCounts([group('a (x)', 1), group('b', 5), group('a (y)', 2)])).toBe('5 b, 3 a');
    expect(reasonCounts([group('a', 1), group('b', 4), group('c', 2), group('d', 1), group('e', 1)])).toBe(
      '4 b, 2 c, 3 other',
    );
    expect(reasonCounts([group('a (x)', 1), group('a (y)', 1)])).toBe('a');
    expect(reasonCounts([])).toBe('');
  });
});

describe('formatBriefSummary', () => {
  it('folds skips, dropped outputs and kept originals into the summary line', () => {
    expect(formatBriefSummary(precompressed())).toBe(
      `globpipe: 16 matched, 2 written, 14 skipped (12 smaller than 1 KiB, 1 not worth compressing, 1 compressing saves too little), 0 failed, 1 output dropped ${tail}`,
    );
    // The detailed lines are still there for a terminal and --verbose.
    expect(formatSummary(precompressed()).split('\n')).toHaveLength(5);
  });

  it('a clean run: the line as it always was', () => {
    const stats = new SummaryBuilder();
    stats.matched = 1;
    stats.add(result({ input: 'a' }));
    const summary = stats.build({
      cwd: '/c',
      out: '/o',
      elapsedMs: 1000,
      concurrency: 1,
      dryRun: false,
      interrupted: false,
    });
    expect(formatBriefSummary(summary)).toBe(formatSummary(summary));
    expect(formatBriefSummary(summary)).toMatch(/^globpipe: 1 matched, 1 written, 0 skipped, 0 failed \| /);
  });

  it('stale outputs removed and kept are counts; a notice and a failure keep their lines', () => {
    const summary = precompressed({
      manifest: '/c/.globpipe',
      unchanged: 0,
      removed: ['old.js.gz', 'old.js.br'],
      kept: [{ path: 'hand.css.gz', reason: 'changed since globpipe wrote it: kept' }],
      notices: ['incremental manifest /c/.globpipe is not valid JSON: every file is processed'],
    });
    const failed: Summary = {
      ...summary,
      failed: 1,
      failures: [{ path: 'x.gz', code: 'ETRANSFORM', message: 'gunzip: bad' }],
    };
    expect(formatBriefSummary(failed).split('\n')).toEqual([
      '  notice: incremental manifest /c/.globpipe is not valid JSON: every file is processed',
      '  failed: x.gz: gunzip: bad',
      expect.stringMatching(
        /, 1 failed, 1 output dropped, 2 stale outputs removed, 1 stale output kept \(changed since globpipe wrote it\) \| /,
      ),
    ]);
    // Failures already shown one by one are not repeated.
    expect(formatBriefSummary(failed, 1).split('\n')).toHaveLength(2);
  });

  it('originals kept by --delete-original, with why', () => {
    const stats = new SummaryBuilder();
    stats.matched = 2;
    for (const input of ['a.js', 'b.js'])
      stats.add(
        result({
          input,
          original: {
            deleted: false,
            reason: `an output was dropped (${input}.gz): the input is its only copy`,
          },
        }),
      );
    const summary = stats.build({
      cwd: '/c',
      out: '/o',
      elapsedMs: 1000,
      concurrency: 2,
      dryRun: false,
      interrupted: false,
    });
    expect(formatBriefSummary(summary)).toMatch(
      /^globpipe: 2 matched, 2 written, 0 skipped, 0 failed, 2 originals kept \(an output was dropped\) \| /,
    );
  });
});
