import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bucketLabel,
  datasetOf,
  filesystemOf,
  formatHistogram,
  headerLines,
  machineInfo,
  mountOf,
  parseMountinfo,
  sizeHistogram,
} from '../../src/bench/machine.js';
import type { MachineInfo } from '../../src/bench/types.js';
import { root } from '../helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

// As the kernel writes it: optional fields (shared:, master:) before `-`, octal escapes for
// space (\040) and backslash (\134), /dev/shm mounted twice (the later one is on top).
const MOUNTINFO = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '25 24 0:23 / /dev/shm rw,relatime shared:5 - tmpfs tmpfs rw,size=24684084k',
  '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '30 25 0:27 / /dev/shm rw,relatime shared:9 master:5 - tmpfs shm2 rw',
  '41 27 8:17 / /mnt/my\\040disk rw,noatime - xfs /dev/sdb1 rw',
  '42 27 8:18 /sub /mnt/back\\134slash rw - btrfs /dev/sdc\\0401 rw',
  '',
].join('\n');

describe('parseMountinfo and mountOf', () => {
  const mounts = parseMountinfo(MOUNTINFO);

  it('reads type, device and mount point, with escapes undone', () => {
    expect(mounts).toHaveLength(6);
    expect(mounts[4]).toEqual({ type: 'xfs', device: '/dev/sdb1', mount: '/mnt/my disk' });
    expect(mounts[5]).toEqual({ type: 'btrfs', device: '/dev/sdc 1', mount: '/mnt/back\\slash' });
  });

  it('picks the longest mount point above the path, and the last of stacked mounts', () => {
    expect(mountOf('/mnt/my disk/data/a.txt', mounts)?.device).toBe('/dev/sdb1');
    expect(mountOf('/mnt/my disk', mounts)?.device).toBe('/dev/sdb1');
    // A prefix that is not a whole path segment is another directory of the root file system.
    expect(mountOf('/mnt/my diskette', mounts)?.device).toBe('/dev/vda');
    expect(mountOf('/dev/shm/x', mounts)).toEqual({ type: 'tmpfs', device: 'shm2', mount: '/dev/shm' });
    expect(mountOf('/tmp', mounts)).toEqual({ type: 'ext4', device: '/dev/vda', mount: '/' });
    expect(mountOf('/tmp', [])).toBeUndefined();
  });

  it('reads mount points that are not UTF-8 as paths.ts names them', () => {
    const bytes = Buffer.concat([
      Buffer.from('5 1 0:1 / /mnt/'),
      Buffer.from([0xff]),
      Buffer.from(' rw - ext4 /dev/x rw\n'),
    ]);
    expect(parseMountinfo(bytes)[0]?.mount).toBe('/mnt/\udcff');
  });

  it.skipIf(process.platform !== 'linux')('finds the file system of a real directory', async () => {
    const fs = await filesystemOf('/proc/self');
    expect(fs).toEqual({ type: 'proc', device: 'proc', mount: '/proc' });
    expect((await filesystemOf(root)).type).not.toBe('unknown');
    expect(await filesystemOf('/no/such/dir')).toEqual({
      type: 'unknown',
      device: 'unknown',
      mount: 'unknown',
    });
  });
});

describe('size histogram', () => {
  it('puts sizes in power-of-4 buckets, each up to its bound, and leaves out the empty ones', () => {
    const sizes = [0, 1024, 1025, 4096, 4097, 5 * MiB, 5 * MiB];
    expect(sizeHistogram(sizes)).toEqual([
      { from: 0, to: KiB + 1, files: 2, bytes: 1024 },
      { from: KiB + 1, to: 4 * KiB + 1, files: 2, bytes: 1025 + 4096 },
      { from: 4 * KiB + 1, to: 16 * KiB + 1, files: 1, bytes: 4097 },
      { from: 4 * MiB + 1, to: 16 * MiB + 1, files: 2, bytes: 10 * MiB },
    ]);
    expect(sizeHistogram([])).toEqual([]);
  });

  it('labels the buckets and writes them on one line', () => {
    const labels = sizeHistogram([1, 2048, 300 * KiB, 3 * 1024 * MiB]).map(bucketLabel);
    expect(labels).toEqual(['≤1 KiB', '1–4 KiB', '256 KiB–1 MiB', '1–4 GiB']);
    const files = [
      ...Array.from({ length: 10 }, () => ({ size: 100 })),
      ...Array.from({ length: 19_990 }, () => ({ size: 4096 })),
    ];
    const dataset = datasetOf('/data/./set', files, ['**/*']);
    expect(dataset).toMatchObject({
      root: '/data/set',
      patterns: ['**/*'],
      files: 20_000,
      bytes: 1000 + 19_990 * 4096,
    });
    expect(formatHistogram(dataset)).toBe('≤1 KiB: 10 · 1–4 KiB: 19,990');
  });
});

const machine: MachineInfo = {
  hostname: 'vm',
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: '6.1.0-18-amd64',
  cpu: 'AMD EPYC 7B13',
  cores: 2,
  memoryBytes: 24 * 1024 * MiB,
  node: 'v20.20.2',
  globpipe: '0.1.0',
  threadpool: 4,
  virtualized: true,
  filesystem: { type: 'ext4', device: '/dev/vda', mount: '/' },
};

describe('headerLines', () => {
  it('names the machine, the file system, the dataset and the cold method', () => {
    const dataset = datasetOf('/tmp/ds', [{ size: 100 }, { size: 3000 }], ['**']);
    const cold = { name: 'fadvise' as const, command: 'sync -f /tmp/ds && …', note: 'guest-cold: …' };
    expect(headerLines(machine, dataset, cold)).toEqual([
      'machine: AMD EPYC 7B13 · 2 cores · 24.0 GiB RAM · virtual machine',
      'os: Debian GNU/Linux 12 (bookworm) · kernel 6.1.0-18-amd64 · node v20.20.2 · libuv pool 4 · globpipe 0.1.0',
      'file system: ext4 on /dev/vda, mounted at /',
      'dataset: /tmp/ds · 2 files · 3.0 KiB',
      'sizes: ≤1 KiB: 1 · 1–4 KiB: 1',
      'cold: fadvise: sync -f /tmp/ds && … (guest-cold: …)',
    ]);
    const none = { name: 'none' as const, command: '', note: 'tmpfs keeps files in RAM' };
    const lines = headerLines({ ...machine, virtualized: false }, datasetOf('/x\ny', [], []), none);
    expect(lines[0]).toContain('bare metal');
    expect(lines[3]).toBe('dataset: /x\\ny · 0 files · 0 B');
    expect(lines[4]).toBe('cold: none (tmpfs keeps files in RAM)');
  });
});

describe('machineInfo', () => {
  it('describes this machine', async () => {
    const info = await machineInfo(root, 4);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(info.globpipe).toBe(pkg.version);
    expect(info.node).toBe(process.version);
    expect(info.threadpool).toBe(4);
    expect(info.cores).toBeGreaterThan(0);
    expect(info.memoryBytes).toBeGreaterThan(0);
    expect(info.os).not.toBe('');
    expect(typeof info.virtualized).toBe('boolean');
  });
});
