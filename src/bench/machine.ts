import { existsSync, readFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeName, fsPath } from '../paths.js';
import { escapeName, formatBytes, formatCount } from '../report/format.js';
import type { ColdMethod, Dataset, MachineInfo, SizeBucket } from './types.js';

/**
 * What bench says about the machine and the dataset before any figure: a result means
 * little without the disk, the file system, the cache state and the sizes it was measured
 * on. Everything here is read once, before the cells run.
 */

type Filesystem = MachineInfo['filesystem'];

const UNKNOWN: Filesystem = { type: 'unknown', device: 'unknown', mount: 'unknown' };

/**
 * A field of /proc/self/mountinfo as the path it names: the kernel writes space, tab,
 * newline and backslash as octal (`/mnt/my\040disk` -> `/mnt/my disk`); the bytes that
 * result are a file name like any other (paths.ts decodeName, so names that are not
 * UTF-8 compare equal to realpath's).
 */
function unescapeField(field: string): string {
  const latin1 = field.replace(/\\([0-7]{3})/g, (_all, code: string) =>
    String.fromCharCode(Number.parseInt(code, 8)),
  );
  return decodeName(Buffer.from(latin1, 'latin1'));
}

/**
 * The mounts of /proc/self/mountinfo, in the kernel's order (a later mount on the same
 * point hides the earlier). A line: `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw`:
 * the mount point is the fifth field, then optional fields up to `-`, then type and source.
 */
export function parseMountinfo(text: string | Buffer): Filesystem[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const mounts: Filesystem[] = [];
  for (const line of bytes.toString('latin1').split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    const mount = fields[4];
    const type = fields[dash + 1];
    const device = fields[dash + 2];
    if (dash < 0 || mount === undefined || type === undefined || device === undefined) continue;
    mounts.push({ type: unescapeField(type), device: unescapeField(device), mount: unescapeField(mount) });
  }
  return mounts;
}

/** The mount holding `path` (absolute, symlinks resolved): the longest mount point above it, the last of equals. */
export function mountOf(path: string, mounts: readonly Filesystem[]): Filesystem | undefined {
  let best: Filesystem | undefined;
  for (const mount of mounts) {
    const point = mount.mount;
    const above = point === '/' || path === point || path.startsWith(`${point}/`);
    if (above && (best === undefined || point.length >= best.mount.length)) best = mount;
  }
  return best;
}

/** The file system of a directory; `unknown` where there is no /proc (macOS, Windows). */
export async function filesystemOf(path: string): Promise<Filesystem> {
  try {
    const real = decodeName(await realpath(fsPath(resolve(path)), { encoding: 'buffer' }));
    const mounts = parseMountinfo(await readFile('/proc/self/mountinfo'));
    return mountOf(real, mounts) ?? UNKNOWN;
  } catch {
    return UNKNOWN;
  }
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** `Debian GNU/Linux 12 (bookworm)` from /etc/os-release, else `Linux`, `Darwin`. */
async function osName(): Promise<string> {
  const pretty = /^PRETTY_NAME=(.*)$/m.exec(await readText('/etc/os-release'))?.[1]?.trim();
  const unquoted = pretty?.replace(/^(["'])(.*)\1$/, '$2');
  return unquoted || os.type();
}

/** DMI vendors that are a hypervisor whatever the product (Hyper-V and EC2 also sell bare metal). */
const VM_VENDORS = /QEMU|KVM|VMware|Xen|innotek|VirtualBox|Parallels|Bochs|OpenStack|Google/i;

/**
 * Whether this is a guest: the CPU's `hypervisor` flag (x86), else the DMI vendor
 * (arm64 guests have no such flag). In a guest, evicting the page cache leaves the
 * host's cache, so a "cold" read may still come from the host's RAM.
 */
export async function isVirtualized(): Promise<boolean> {
  if (/^flags\s*:.*\bhypervisor\b/m.test(await readText('/proc/cpuinfo'))) return true;
  const vendor = (await readText('/sys/class/dmi/id/sys_vendor')).trim();
  const product = (await readText('/sys/class/dmi/id/product_name')).trim();
  if (VM_VENDORS.test(vendor)) return true;
  if (/^Microsoft/i.test(vendor)) return /Virtual/i.test(product);
  if (/^Amazon/i.test(vendor)) return !/\.metal$/i.test(product);
  return false;
}

/**
 * globpipe's own version, from the package.json above this module: two levels up from
 * src/bench/ and dist/bench/ alike, and from dist/cli/ where the bundle lives.
 */
export function globpipeVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level += 1) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'globpipe' && pkg.version !== undefined) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** The machine a bench ran on, and the file system of its dataset. */
export async function machineInfo(datasetRoot: string, threadpool: number): Promise<MachineInfo> {
  const [osText, virtualized, filesystem] = await Promise.all([
    osName(),
    isVirtualized(),
    filesystemOf(datasetRoot),
  ]);
  return {
    hostname: os.hostname(),
    os: osText,
    kernel: os.release(),
    cpu: os.cpus()[0]?.model.trim() || 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    globpipe: globpipeVersion(),
    threadpool,
    virtualized,
    filesystem,
  };
}

const KiB = 1024;

/**
 * Files by size in power-of-4 buckets, each up to and including its bound: ≤1 KiB,
 * 1–4 KiB, 4–16 KiB… up to the one holding the largest file, so that a dataset of 4 KiB
 * files is `1–4 KiB`, as its user thinks of it. As SizeBucket has them, `from` is inclusive
 * and `to` exclusive: 1–4 KiB is from 1,025 to 4,097. Empty buckets are left out. Small-file
 * cells are bound by requests per second, large-file cells by bandwidth: the histogram says
 * which a dataset is.
 */
export function sizeHistogram(sizes: Iterable<number>): SizeBucket[] {
  const buckets = new Map<number, { files: number; bytes: number }>();
  for (const size of sizes) {
    let bound = KiB;
    while (size > bound) bound *= 4;
    const bucket = buckets.get(bound) ?? { files: 0, bytes: 0 };
    bucket.files += 1;
    bucket.bytes += size;
    buckets.set(bound, bucket);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bound, { files, bytes }]) => ({
      from: bound === KiB ? 0 : bound / 4 + 1,
      to: bound + 1,
      files,
      bytes,
    }));
}

/** The dataset a bench reads: its root, the patterns that chose the files, and their sizes. */
export function datasetOf(
  root: string,
  files: readonly { size: number }[],
  patterns: readonly string[],
): Dataset {
  const sizes = files.map((file) => file.size);
  return {
    root: resolve(root),
    patterns: [...patterns],
    files: files.length,
    bytes: sizes.reduce((sum, size) => sum + size, 0),
    histogram: sizeHistogram(sizes),
  };
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A bucket bound, always a power of two: `[1, 'KiB']`, `[256, 'KiB']`, `[1, 'MiB']`. */
function bound(bytes: number): [number, string] {
  let value = bytes / KiB;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return [value, UNITS[unit] as string];
}

/** `≤1 KiB`, `1–4 KiB`, `256 KiB–1 MiB`. */
export function bucketLabel(bucket: Pick<SizeBucket, 'from' | 'to'>): string {
  const [to, toUnit] = bound(bucket.to - 1);
  if (bucket.from === 0) return `≤${to} ${toUnit}`;
  const [from, fromUnit] = bound(bucket.from - 1);
  return fromUnit === toUnit ? `${from}–${to} ${toUnit}` : `${from} ${fromUnit}–${to} ${toUnit}`;
}

/** The histogram as one line: `≤1 KiB: 10 · 1–4 KiB: 19,990 · 1–4 MiB: 2`. */
export function formatHistogram(dataset: Pick<Dataset, 'histogram'>): string {
  return dataset.histogram
    .map((bucket) => `${bucketLabel(bucket)}: ${formatCount(bucket.files)}`)
    .join(' · ');
}

/**
 * The header bench prints before its table: what was measured, on what, and how cold was
 * made cold, so that a pasted result carries its conditions:
 * `machine: AMD EPYC 7B13 · 2 cores · 23.5 GiB RAM · virtual machine`
 * `os: Debian GNU/Linux 12 (bookworm) · kernel 6.1.0 · node v20.20.2 · libuv pool 4 · globpipe 0.1.0`
 * `file system: ext4 on /dev/vda, mounted at /`
 * `dataset: /tmp/ds · 20,000 files · 78.1 MiB`
 * `sizes: ≤1 KiB: 10 · 1–4 KiB: 19,990`
 * `cold: fadvise: sync -f /tmp/ds && find … (guest-cold: …)`
 */
export function headerLines(machine: MachineInfo, dataset: Dataset, cold: ColdMethod): string[] {
  const { filesystem: fs } = machine;
  return [
    `machine: ${machine.cpu} · ${machine.cores} ${machine.cores === 1 ? 'core' : 'cores'} · ${formatBytes(machine.memoryBytes)} RAM · ${machine.virtualized ? 'virtual machine' : 'bare metal'}`,
    `os: ${machine.os} · kernel ${machine.kernel} · node ${machine.node} · libuv pool ${machine.threadpool} · globpipe ${machine.globpipe}`,
    `file system: ${fs.type} on ${escapeName(fs.device)}, mounted at ${escapeName(fs.mount)}`,
    `dataset: ${escapeName(dataset.root)} · ${formatCount(dataset.files)} ${dataset.files === 1 ? 'file' : 'files'} · ${formatBytes(dataset.bytes)}`,
    ...(dataset.histogram.length > 0 ? [`sizes: ${formatHistogram(dataset)}`] : []),
    `cold: ${cold.name}${cold.command === '' ? '' : `: ${cold.command}`}${cold.note === undefined ? '' : ` (${cold.note})`}`,
  ];
}
