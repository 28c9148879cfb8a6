import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  commandLine,
  compare,
  compareRandom,
  compareSequential,
  fioAvailable,
  parseFioJson,
  randomReadArgs,
  runFio,
  STREAM_CHUNK,
  sequentialReadArgs,
} from '../../src/bench/fio.js';
import { READ_CHUNK } from '../../src/io/fs.js';
import { fixtures, root, tempDir } from '../helpers.js';

const fio = await fioAvailable();
const recorded = (name: string) => readFileSync(join(fixtures, 'bench', name), 'utf8');

describe('parseFioJson', () => {
  it('reads IOPS and bandwidth from fio 3.33 JSON', () => {
    expect(parseFioJson(recorded('fio-randread.json'))).toEqual({ iops: 65859.140859, bwBytes: 269759040 });
    const sequential = parseFioJson(recorded('fio-seqread.json'));
    expect(sequential.bwBytes).toBeGreaterThan(0);
    expect(sequential.iops * 256 * 1024).toBeCloseTo(sequential.bwBytes, -6);
  });

  it('skips notes fio prints before the JSON, and fails on a failed job or no JSON', () => {
    expect(
      parseFioJson(
        `fio: note: both iodepth >= 1 and synchronous I/O engine are selected\n${recorded('fio-randread.json')}`,
      ).iops,
    ).toBe(65859.140859);
    const failed = JSON.stringify({ jobs: [{ error: 5, read: { iops: 0, bw_bytes: 0 } }] });
    expect(() => parseFioJson(failed)).toThrow('error 5');
    expect(() => parseFioJson('fio: engine io_uring not loadable')).toThrow('no JSON: fio: engine io_uring');
    expect(() => parseFioJson('{"jobs": []}')).toThrow('jobs[0].read');
  });
});

describe('fio arguments', () => {
  it('reads 4 KiB at random, direct where it can, buffered and invalidated where not', () => {
    const opts = { iodepth: 64, engine: 'io_uring' as const, direct: true, runtimeSeconds: 3, size: '256M' };
    const direct = randomReadArgs('/scratch/f.bin', opts);
    expect(direct).toEqual(
      expect.arrayContaining([
        '--rw=randread',
        '--bs=4k',
        '--iodepth=64',
        '--direct=1',
        '--time_based',
        '--runtime=3',
      ]),
    );
    expect(direct).toContain('--output-format=json');
    const buffered = randomReadArgs('/scratch/f.bin', { ...opts, direct: false });
    expect(buffered).toEqual(expect.arrayContaining(['--direct=0', '--invalidate=1']));
  });

  it('reads the large file in globpipe stream chunks, read-only', () => {
    // The chunk globpipe streams in: fio must read the same.
    expect(readFileSync(join(root, 'src/io/fs.ts'), 'utf8')).toContain(
      'createReadStream({ highWaterMark: READ_CHUNK',
    );
    expect(STREAM_CHUNK).toBe(`${READ_CHUNK / 1024}k`);
    const args = sequentialReadArgs('/data/a:b c.bin', 1);
    expect(args).toEqual(
      expect.arrayContaining([
        '--readonly',
        '--rw=read',
        `--bs=${STREAM_CHUNK}`,
        '--ioengine=psync',
        '--invalidate=1',
      ]),
    );
    expect(args).toContain('--filename=/data/a\\:b c.bin');
    expect(commandLine(args)).toMatch(/^fio --name=seqread '--filename=\/data\/a\\:b c\.bin' --readonly /);
  });
});

describe('comparisons', () => {
  const randomRead = [
    { iodepth: 1, iops: 2100 },
    { iodepth: 16, iops: 9800.4 },
    { iodepth: 64, iops: 16_400 },
  ];

  it('puts globpipe large-file rate against fio psync', () => {
    expect(compareSequential('cold large-file read', 412, { mibPerSecond: 425 })).toBe(
      'cold large-file read: globpipe 412 MiB/s = 97% of fio psync (425 MiB/s)',
    );
    expect(compareSequential('warm', 8.25, { mibPerSecond: 0 })).toBe(
      'warm: globpipe 8.3 MiB/s = 0% of fio psync (0.0 MiB/s)',
    );
  });

  it('puts files per second against IOPS at the nearest depth', () => {
    expect(compareRandom('cold 4 KiB files', 5120, 64, randomRead)).toBe(
      "cold 4 KiB files at -j 64: 5,120 files/s = 31% of fio's 16,400 IOPS at iodepth 64",
    );
    expect(compareRandom('cold', 3000, 8, randomRead)).toBe(
      "cold at -j 8: 3,000 files/s = 31% of fio's 9,800 IOPS at iodepth 16",
    );
    expect(compareRandom('cold', 1500, 1, randomRead)).toContain('= 71% of fio');
    expect(compareRandom('cold', 1500, 4, [])).toBeUndefined();
  });

  it('makes every comparison the figures allow', () => {
    const globpipe = {
      largeFile: { label: 'cold large-file read', mibPerSecond: 400 },
      smallFiles: [{ label: 'cold 4 KiB files', filesPerSecond: 5120, concurrency: 64 }],
    };
    expect(compare({ randomRead, sequentialRead: { file: '/d/big', mibPerSecond: 500 } }, globpipe)).toEqual([
      'cold large-file read: globpipe 400 MiB/s = 80% of fio psync (500 MiB/s)',
      "cold 4 KiB files at -j 64: 5,120 files/s = 31% of fio's 16,400 IOPS at iodepth 64",
    ]);
    expect(compare({ randomRead: [] }, globpipe)).toEqual([]);
  });
});

describe('runFio', () => {
  it.skipIf(!fio)(
    'measures random reads in the scratch directory and the large file, and changes neither',
    async () => {
      const scratch = tempDir('globpipe-fio-');
      const data = tempDir('globpipe-fio-data-');
      const large = join(data, 'big: file.bin');
      writeFileSync(large, Buffer.alloc(8 * 1024 * 1024, 'x'));
      const digest = () => createHash('sha256').update(readFileSync(large)).digest('hex');
      const before = digest();
      const result = await runFio({
        dir: scratch,
        depths: [1, 8],
        largeFile: large,
        cold: { name: 'none', command: '', note: 'test' },
        runtimeSeconds: 1,
        size: '16M',
      });
      expect(result.version).toBe(fio);
      expect(result.randomRead.map((figure) => figure.iodepth)).toEqual([1, 8]);
      for (const figure of result.randomRead) expect(figure.iops).toBeGreaterThan(0);
      expect(result.sequentialRead?.file).toBe(large);
      expect(result.sequentialRead?.mibPerSecond).toBeGreaterThan(0);
      expect(result.commands).toHaveLength(3);
      expect(result.commands[0]).toContain(`--ioengine=${result.engine}`);
      expect(result.notes).toContain('fio read cached files too: test');
      expect(readdirSync(scratch)).toEqual([]);
      expect(existsSync(large) && digest()).toBe(before);
    },
  );
});
