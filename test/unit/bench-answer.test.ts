import { describe, expect, it } from 'vitest';
import { answerOf, describeDataset } from '../../src/bench/answer.js';
import { sizeHistogram } from '../../src/bench/machine.js';
import type { CacheState, CellResult, Dataset, MachineInfo, Work } from '../../src/bench/types.js';
import { cellResult, report } from '../bench-fixture.js';

/**
 * The one sentence bench answers with, from cells whose wall times are given: the speedup of
 * the best concurrency over sequential and where the gain stops, per cache state; warm
 * sequential against the plain sync loop; and only verified cells count.
 */

const bare: MachineInfo = {
  ...report([]).machine,
  virtualized: false,
  filesystem: { type: 'ext4', device: '/dev/nvme0n1p2', mount: '/' },
};
const guest: MachineInfo = { ...bare, virtualized: true };

function datasetOf(sizes: readonly number[]): Dataset {
  return {
    root: '/data',
    patterns: ['**/*'],
    files: sizes.length,
    bytes: sizes.reduce((sum, size) => sum + size, 0),
    histogram: sizeHistogram(sizes),
  };
}

const uniformSizes = Array.from({ length: 20_000 }, () => 4096);
const uniform = datasetOf(uniformSizes);

interface SweepOptions {
  readonly cache?: CacheState;
  readonly work?: Work;
  /** Concurrencies whose runs exit 1 (not verified). */
  readonly failing?: readonly number[];
}

/** A concurrency sweep: concurrency -> median wall seconds (three runs around it). */
function sweep(medians: Record<number, number>, opts: SweepOptions = {}): CellResult[] {
  const cache = opts.cache ?? 'warm';
  const work = opts.work ?? 'copy';
  return Object.entries(medians).map(([j, seconds]) => {
    const concurrency = Number(j);
    const fails = opts.failing?.includes(concurrency) === true;
    return cellResult({
      cell: {
        id: `j${concurrency}-${cache}-auto-${work}`,
        label: `-j ${concurrency}, ${cache}, ${work}`,
        concurrency,
        cache,
        work,
      },
      times: [seconds * 0.99, seconds, seconds * 1.01],
      exitCodes: fails ? [1, 1, 1] : [0, 0, 0],
    });
  });
}

function loop(seconds: number, cache: CacheState = 'warm', exitCodes = [0, 0, 0]): CellResult {
  return cellResult({
    cell: {
      id: `sync-loop-${cache}-copy`,
      label: 'plain sync loop',
      kind: 'sync-loop',
      concurrency: 1,
      cache,
    },
    times: [seconds * 0.99, seconds, seconds * 1.01],
    exitCodes,
  });
}

const answer = (cells: CellResult[], machine = bare, sizes: readonly number[] = uniformSizes) =>
  answerOf(cells, datasetOf(sizes), machine, sizes);

describe('answerOf', () => {
  it('names the best concurrency, its speedup over sequential, and the knee', () => {
    const cells = sweep({ 1: 4.1, 4: 2, 16: 1.3, 64: 1, 256: 1.02 }, { cache: 'cold' });
    expect(answer(cells)).toBe(
      'Cold, 20,000 × 4 KiB on ext4: -j 64 is 4.1× faster than sequential, no gain beyond 64.',
    );
  });

  it('puts the knee at the least concurrency within 10% of the best', () => {
    const cells = sweep({ 1: 4, 4: 1.05, 16: 1 }, { cache: 'cold' });
    expect(answer(cells)).toContain('-j 16 is 4.0× faster than sequential, no gain beyond 4.');
  });

  it('says nothing about a knee when the largest concurrency is the best', () => {
    expect(answer(sweep({ 1: 3, 8: 1 }))).toBe(
      'Warm, 20,000 × 4 KiB on ext4: -j 8 is 3.0× faster than sequential.',
    );
  });

  it('rounds a speedup of ten or more to a whole number', () => {
    expect(answer(sweep({ 1: 12.3, 64: 1 }))).toContain('-j 64 is 12× faster than sequential');
  });

  it('says concurrency buys nothing when the sweep is flat or sequential is fastest', () => {
    expect(answer(sweep({ 1: 1, 8: 0.95, 64: 0.97 }))).toBe(
      'Warm, 20,000 × 4 KiB on ext4: concurrency buys nothing here.',
    );
    expect(answer(sweep({ 1: 1, 8: 1.4 }))).toContain('concurrency buys nothing here');
  });

  it('says guest-cold for cold cells in a virtual machine', () => {
    const cells = sweep({ 1: 4, 64: 1 }, { cache: 'cold' });
    expect(answer(cells, guest)).toMatch(/^Guest-cold, 20,000 × 4 KiB on ext4: -j 64 is 4\.0× faster/);
    expect(answer(sweep({ 1: 4, 64: 1 }), guest)).toMatch(/^Warm, /);
  });

  it('gives one clause per cache state, in the order of the cells', () => {
    const cells = [...sweep({ 1: 1, 8: 1 }), ...sweep({ 1: 6, 8: 2, 64: 1 }, { cache: 'cold' })];
    expect(answer(cells)).toBe(
      'Warm, 20,000 × 4 KiB on ext4: concurrency buys nothing here; cold: -j 64 is 6.0× faster than sequential.',
    );
  });

  it('answers for the first work of each cache state only', () => {
    const cells = [...sweep({ 1: 2, 8: 1 }, { work: 'read' }), ...sweep({ 1: 9, 8: 1 }, { work: 'copy' })];
    const sentence = answer(cells);
    expect(sentence).toContain('-j 8 is 2.0× faster');
    expect(sentence).not.toContain('9.0×');
  });

  it('compares warm --sequential with the plain sync loop', () => {
    const cells = [...sweep({ 1: 1, 8: 0.5 }), loop(0.5)];
    expect(answer(cells)).toBe(
      'Warm, 20,000 × 4 KiB on ext4: -j 8 is 2.0× faster than sequential; warm --sequential takes 2.0× the time of a plain sync loop.',
    );
  });

  it('leaves the sync-loop clause out without a verified warm loop of the same work', () => {
    expect(answer([...sweep({ 1: 1, 8: 0.5 }), loop(0.5, 'cold')])).not.toContain('sync loop');
    expect(answer([...sweep({ 1: 1, 8: 0.5 }), loop(0.5, 'warm', [0, 1, 0])])).not.toContain('sync loop');
    expect(answer([...sweep({ 1: 1, 8: 0.5 }, { work: 'read' }), loop(0.5)])).not.toContain('sync loop');
  });

  it('ignores cells that did not verify', () => {
    // -j 64 would be the best, but one of its runs failed: the answer must not claim it.
    const cells = sweep({ 1: 4, 8: 2, 64: 0.5 }, { cache: 'cold', failing: [64] });
    expect(answer(cells)).toContain('-j 8 is 2.0× faster than sequential.');
    const noSequential = sweep({ 1: 4, 8: 2 }, { cache: 'cold', failing: [1] });
    expect(answer(noSequential)).toBe(
      'Not enough verified cells to compare: bench needs -j 1 and another concurrency.',
    );
  });

  it('says why there is no answer with a single concurrency', () => {
    expect(answer(sweep({ 1: 1 }))).toMatch(/^Not enough verified cells/);
    expect(answer([])).toMatch(/^Not enough verified cells/);
  });

  it('is one sentence: a capital first, a full stop last, no line break', () => {
    const sentence = answer([
      ...sweep({ 1: 1, 8: 0.5 }),
      ...sweep({ 1: 8, 8: 1 }, { cache: 'cold' }),
      loop(0.4),
    ]);
    expect(sentence).toMatch(/^[A-Z][^\n]*\.$/);
  });
});

describe('describeDataset', () => {
  it('gives count × size when every file has the same size', () => {
    expect(describeDataset(uniform, uniformSizes)).toBe('20,000 × 4 KiB');
    expect(describeDataset(datasetOf([10]), [10])).toBe('1 × 10 B');
  });

  it('gives the count and the total when sizes differ', () => {
    const sizes = [
      ...Array.from({ length: 5_000 }, () => 100),
      ...Array.from({ length: 15_000 }, () => 5_000),
    ];
    expect(describeDataset(datasetOf(sizes), sizes)).toBe('20,000 files (72.0 MiB)');
  });

  it('is not fooled by mixed sizes in one histogram bucket that average a whole number', () => {
    // 2,000 and 4,000 bytes: both in 1–4 KiB, mean 3,000 exactly; not "× 2.9 KiB".
    const sizes = [2000, 4000, 2000, 4000];
    expect(describeDataset(datasetOf(sizes), sizes)).toBe('4 files (11.7 KiB)');
  });

  it('describes an empty dataset without dividing by zero', () => {
    expect(describeDataset(datasetOf([]), [])).toBe('0 files (0 B)');
  });
});
