import { describe, expect, it } from 'vitest';
import { formatBytes, formatRate as rateOver } from '../../src/report/format.js';
import { ProgressState } from '../../src/report/progress.js';

const formatRate = (bytesPerSecond: number) => rateOver(bytesPerSecond, 1);

import type { GlobpipeEvent } from '../../src/types.js';
import { fileResult } from '../helpers.js';

const MB = 1_000_000;

function matched(state: ProgressState, count: number): void {
  for (let i = 1; i <= count; i += 1) state.onEvent({ type: 'match', path: `f${i}`, matched: i });
}

function done(state: ProgressState, input: string, bytesIn: number): void {
  state.onEvent({ type: 'file', result: fileResult({ input, bytesIn }) });
}

const progress = (path: string, bytes: number, size: number): GlobpipeEvent => ({
  type: 'progress',
  path,
  bytes,
  size,
});

/** The bar of 20 cells for `full` of them done. */
const bar = (full: number) => '\u2588'.repeat(full) + '\u2591'.repeat(20 - full);

describe('ProgressState', () => {
  it('says it is matching until a file is matched: never a bar of 0/0', () => {
    const state = new ProgressState();
    expect(state.frame(0)).toBe('matching files…');
    expect(state.frame(100)).toBe('matching files…');
    state.onEvent({ type: 'glob-end', matched: 0 });
    expect(state.frame(200)).toBe('no files matched');
  });

  it('while the glob runs: files done of those matched so far, bytes and rate, no share and no ETA', () => {
    const state = new ProgressState();
    matched(state, 3);
    expect(state.frame(0)).toBe(`${bar(0)} 0/3 files, matching… | ${formatBytes(0)} | ${formatRate(0)}`);
    done(state, 'f1', 4000);
    matched(state, 8);
    expect(state.frame(1000)).toBe(
      `${bar(2)} 1/8 files, matching… | ${formatBytes(4000)} | ${formatRate(4000)}`,
    );
  });

  it('one large file moves the bar by its bytes: share, bytes of its size, rate and ETA', () => {
    const state = new ProgressState();
    matched(state, 1);
    state.onEvent({ type: 'glob-end', matched: 1 });
    expect(state.frame(0)).toBe(`${bar(0)} 0% | 0/1 files | ${formatBytes(0)} | ${formatRate(0)} | ETA --`);
    state.onEvent(progress('f1', 50 * MB, 500 * MB));
    state.frame(1000);
    state.onEvent(progress('f1', 100 * MB, 500 * MB));
    // 100 MB of 500 MB in 2 s: 20%, 50 MB/s, 8 s to go.
    expect(state.frame(2000)).toBe(
      `${bar(4)} 20% | 0/1 files | ${formatBytes(100 * MB)} / ${formatBytes(500 * MB)} | ${formatRate(50 * MB)} | ETA 8.00 s`,
    );
    // Done: its bytes are then those it read, and it no longer streams.
    done(state, 'f1', 500 * MB);
    expect(state.frame(4000)).toBe(
      `${bar(20)} 100% | 1/1 files | ${formatBytes(500 * MB)} / ${formatBytes(500 * MB)} | ${formatRate(125 * MB)} | ETA 0.00 s`,
    );
  });

  it('many small files count by files; the bytes total shows only once every size is known', () => {
    const state = new ProgressState();
    matched(state, 20_000);
    state.onEvent({ type: 'glob-end', matched: 20_000 });
    state.frame(0);
    for (let i = 1; i <= 5000; i += 1) done(state, `f${i}`, 4096);
    // 5000 files a second: 15000 to go in 3 s.
    expect(state.frame(1000)).toBe(
      `${bar(5)} 25% | 5,000/20,000 files | ${formatBytes(5000 * 4096)} | ${formatRate(5000 * 4096)} | ETA 3.00 s`,
    );
  });

  it('a large file among small ones counts as one file, by its share read', () => {
    const state = new ProgressState();
    matched(state, 4);
    state.onEvent({ type: 'glob-end', matched: 4 });
    state.frame(0);
    done(state, 'f1', 1000);
    done(state, 'f2', 1000);
    state.onEvent(progress('f3', 30 * MB, 40 * MB));
    // 2.75 of 4 files; f4's size is not known yet.
    const head = `${bar(13)} 68% | 2/4 files | ${formatBytes(30 * MB + 2000)} | `;
    expect(state.frame(1000).slice(0, head.length)).toBe(head);
    done(state, 'f4', 1000);
    expect(state.frame(2000)).toContain(
      `| 3/4 files | ${formatBytes(30 * MB + 3000)} / ${formatBytes(40 * MB + 3000)} |`,
    );
  });

  it('rates and the ETA are those of the last 5 s: a run that stalls shows no ETA', () => {
    const state = new ProgressState();
    matched(state, 10);
    state.onEvent({ type: 'glob-end', matched: 10 });
    state.frame(0);
    done(state, 'f1', 1000);
    expect(state.frame(100)).toMatch(/ \| ETA 0\.90 s$/);
    // 50 more frames, 5 s, with nothing done.
    let frame = '';
    for (let at = 200; at <= 5200; at += 100) frame = state.frame(at);
    expect(frame).toBe(`${bar(2)} 10% | 1/10 files | ${formatBytes(1000)} | ${formatRate(0)} | ETA --`);
  });
});

describe('formatRate', () => {
  it('is a whole number of bytes per second, in the units sizes are shown in', () => {
    expect(formatRate(0)).toBe(`${formatBytes(0)}/s`);
    expect(formatRate(999.6)).toBe(`${formatBytes(1000)}/s`);
    expect(formatRate(45.1 * MB)).toBe(`${formatBytes(45.1 * MB)}/s`);
  });
});
