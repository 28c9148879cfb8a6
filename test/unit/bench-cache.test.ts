import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseColdMethod,
  DROP_CACHES,
  evict,
  type FadviseTool,
  fadviseWorks,
  fincoreAvailable,
  GUEST_NOTE,
  residentBytes,
  sampleOf,
  TMPFS_NOTE,
} from '../../src/bench/cache.js';
import { filesystemOf } from '../../src/bench/machine.js';
import { GlobpipeError } from '../../src/index.js';
import { decodeName, fsPath } from '../../src/paths.js';
import { publicBin, tempDir } from '../helpers.js';

const fincore = await fincoreAvailable();
const isRoot = process.getuid?.() === 0;
const tools: FadviseTool[] = ['python3', 'perl', 'dd'];
const SIZE = 64 * 1024;

/**
 * A dataset of awkward names (a space, a newline, a byte that is not UTF-8) in a fresh
 * directory, written and read, so that every page is cached. Returns the paths as globpipe
 * names them (paths.ts).
 */
function cachedFiles(count = 6, parent?: string): { root: string; files: string[] } {
  const root = parent ?? tempDir('globpipe-cache-');
  chmodSync(fsPath(root), 0o755);
  const names = [
    'plain.bin',
    'with space.bin',
    'new\nline.bin',
    decodeName(Buffer.from([0x6e, 0xff, 0x2e, 0x62])),
  ];
  const files = Array.from({ length: count }, (_, i) => join(root, `${i}-${names[i % names.length]}`));
  for (const file of files) {
    writeFileSync(fsPath(file), Buffer.alloc(SIZE, file));
    readFileSync(fsPath(file));
  }
  return { root, files };
}

/** Why the cache cannot be tested here, or undefined when it can. */
async function cannotTest(root: string): Promise<string | undefined> {
  if (!fincore) return 'fincore (util-linux) is not installed';
  const type = (await filesystemOf(root)).type;
  if (type === 'tmpfs' || type === 'ramfs') return `${root} is on ${type}: nothing to evict`;
  return undefined;
}

describe('residentBytes', () => {
  it('counts cached bytes, and scales a sample', async (ctx) => {
    const { root, files } = cachedFiles(8);
    const reason = await cannotTest(root);
    if (reason !== undefined) return ctx.skip(reason);
    expect(await residentBytes(files)).toBe(8 * SIZE);
    expect(await residentBytes(files, { sample: 2 })).toBe(8 * SIZE);
    expect(await residentBytes([])).toBe(0);
    // A file that is gone is not cached; the others still count.
    expect(await residentBytes([...files, join(root, 'gone')])).toBe(8 * SIZE);
  });

  it('is undefined without fincore', async (ctx) => {
    if (fincore) return ctx.skip('fincore is installed here');
    expect(await residentBytes(['/etc/hostname'])).toBeUndefined();
  });
});

describe('sampleOf', () => {
  it('takes files spread evenly over the list, the same each time', () => {
    const list = Array.from({ length: 100 }, (_, i) => i);
    expect(sampleOf(list, 4)).toEqual([12, 37, 62, 87]);
    expect(sampleOf(list, 4)).toEqual(sampleOf(list, 4));
    expect(sampleOf(list, 200)).toBe(list);
    expect(sampleOf(list, undefined)).toBe(list);
  });
});

describe('chooseColdMethod', () => {
  it('has no cold state on tmpfs', async () => {
    expect(await chooseColdMethod('/dev/shm', 'tmpfs', { virtualized: true })).toEqual({
      name: 'none',
      command: '',
      note: TMPFS_NOTE,
    });
  });

  it('drops caches as root, when allowed', async (ctx) => {
    if (!isRoot) return ctx.skip('not root');
    const method = await chooseColdMethod('/data', 'ext4', {});
    if (method.name !== 'drop-caches') return ctx.skip('/proc/sys/vm/drop_caches is not writable here');
    expect(method.command).toBe(DROP_CACHES);
  });

  it('uses fadvise without root or when asked, and says a guest is only guest-cold', async (ctx) => {
    const method = await chooseColdMethod('/data/my set', 'ext4', { root: false, virtualized: true });
    if (method.name === 'none') return ctx.skip(method.note ?? '');
    expect(method.name).toBe('fadvise');
    expect(method.command).toMatch(/^sync -f '\/data\/my set' && find '\/data\/my set' -type f -print0 \| /);
    expect(method.note).toBe(GUEST_NOTE);
    const asked = await chooseColdMethod('/data', 'xfs', { method: 'fadvise' });
    expect(asked).toMatchObject({ name: 'fadvise' });
    expect(asked.note).toBeUndefined();
  });

  it('refuses drop-caches without root', async () => {
    const refused = chooseColdMethod('/data', 'ext4', { method: 'drop-caches', root: false });
    await expect(refused).rejects.toBeInstanceOf(GlobpipeError);
    await expect(refused).rejects.toThrow('needs root');
  });
});

describe.each(tools)('evict with fadvise by %s', (tool) => {
  it('empties the page cache of every file, whatever its name', async (ctx) => {
    const { root, files } = cachedFiles();
    const reason =
      (await cannotTest(root)) ?? ((await fadviseWorks(tool)) ? undefined : `${tool} cannot fadvise here`);
    if (reason !== undefined) return ctx.skip(reason);
    const method = await chooseColdMethod(root, 'ext4', { method: 'fadvise', tool });
    expect(await residentBytes(files)).toBe(files.length * SIZE);
    await evict(method, files, root);
    expect(await residentBytes(files)).toBe(0);
  });

  it('has a command that a user can paste, even for a root that is not UTF-8', async (ctx) => {
    const parent = tempDir('globpipe-cache-');
    const dir = decodeName(Buffer.concat([Buffer.from(`${parent}/it's `), Buffer.from([0xfe])]));
    mkdirSync(fsPath(dir));
    const { root, files } = cachedFiles(4, dir);
    const reason =
      (await cannotTest(root)) ?? ((await fadviseWorks(tool)) ? undefined : `${tool} cannot fadvise here`);
    if (reason !== undefined) return ctx.skip(reason);
    const method = await chooseColdMethod(root, 'ext4', { method: 'fadvise', tool });
    const code = await new Promise((done) =>
      spawn('sh', ['-c', method.command], { stdio: 'inherit' }).on('close', done),
    );
    expect(code).toBe(0);
    expect(await residentBytes(files)).toBe(0);
  });
});

describe('evict', () => {
  it('empties the page cache with drop_caches, as root', async (ctx) => {
    const { root, files } = cachedFiles();
    const method = await chooseColdMethod(root, 'ext4', {});
    const reason =
      (await cannotTest(root)) ?? (method.name === 'drop-caches' ? undefined : 'cannot drop caches here');
    if (reason !== undefined) return ctx.skip(reason);
    expect(await residentBytes(files)).toBe(files.length * SIZE);
    await evict(method, files, root);
    expect(await residentBytes(files)).toBe(0);
  });

  it('does nothing for none, and fails clearly on a file it cannot open', async (ctx) => {
    await evict({ name: 'none', command: '' }, ['/no/such/file'], '/no');
    const method = await chooseColdMethod('/tmp', 'ext4', { method: 'fadvise', tool: 'python3' }).catch(
      () => undefined,
    );
    if (method === undefined) return ctx.skip('python3 cannot fadvise here');
    await expect(evict(method, ['/no/such/file'], '/tmp')).rejects.toThrow(/with python3: .*No such file/);
  });

  it('evicts without root: as nobody, files that only root owns', async (ctx) => {
    const { root, files } = cachedFiles();
    const reason = (await cannotTest(root)) ?? (isRoot ? undefined : 'needs root to run as nobody');
    if (reason !== undefined) return ctx.skip(reason);
    const cache = join(dirname(dirname(publicBin())), 'dist', 'bench', 'cache.js');
    // The names travel as JSON: a lone surrogate (a byte that is not UTF-8) survives it.
    const script = `const { chooseColdMethod, evict, residentBytes } = await import(${JSON.stringify(cache)});
      const files = ${JSON.stringify(files)}, root = ${JSON.stringify(root)};
      const method = await chooseColdMethod(root, 'ext4', {});
      await evict(method, files, root);
      console.log(JSON.stringify({ method: method.name, uid: process.getuid(), seen: await residentBytes(files) }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534 });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.pipe(process.stderr);
    expect(await new Promise((done) => child.on('close', done))).toBe(0);
    // mincore hides the cache of files nobody neither owns nor may write: only root can check.
    expect(JSON.parse(out)).toEqual({ method: 'fadvise', uid: 65534 });
    expect(await residentBytes(files)).toBe(0);
  });
});
