import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import { GlobpipeError } from '../errors.js';
import { fsPath, hasRawBytes } from '../paths.js';
import { shellQuote } from '../transforms/exec.js';
import type { ColdMethod } from './types.js';

/**
 * Cold cells must read from the disk, not the page cache: before each cold run the dataset
 * is evicted, and fincore can tell whether that worked. As root, `drop_caches` empties the
 * whole cache. Without root, each file's pages are dropped with posix_fadvise(DONTNEED) on
 * it, as `dd iflag=nocache` and fio's `invalidate=1` do. Node has no binding for it, so a
 * tool that has one reads the NUL-separated list of files on stdin: python3 (the libc call),
 * else perl (perl-base is on every Debian and Ubuntu: the raw syscall on x64 and arm64),
 * else GNU dd, a process per file. 20,000 files of 4 KiB on ext4: python3 0.2–0.4 s, perl
 * 0.15–0.3 s, dd 11–30 s (two cores, as load allows).
 * The paths travel as bytes on stdin, never in a command string.
 */

/** A program that calls posix_fadvise(DONTNEED) on each file named on its stdin. */
export type FadviseTool = 'python3' | 'perl' | 'dd';

export const DROP_CACHES = 'sync && echo 3 > /proc/sys/vm/drop_caches';

const PYTHON =
  'import os,sys;[(os.posix_fadvise(f.fileno(),0,0,os.POSIX_FADV_DONTNEED),f.close()) for f in ' +
  '(open(p,"rb",buffering=0,opener=lambda p,fl:os.open(p,fl|os.O_NONBLOCK)) ' +
  'for p in sys.stdin.buffer.read().split(b"\\0") if p)]';

/** fadvise64's number where perl can call it by number; POSIX_FADV_DONTNEED is 4 on both. */
const FADVISE_SYSCALL: Partial<Record<NodeJS.Architecture, number>> = { x64: 221, arm64: 223 };

function perlScript(syscall: number): string {
  return (
    'use Fcntl; chomp; sysopen(my $f, $_, O_RDONLY|O_NONBLOCK) or die "$_: $!\\n"; ' +
    `syscall(${syscall}, fileno($f), 0, 0, 4) == 0 or die "$_: posix_fadvise: $!\\n"`
  );
}

/** The program and arguments of a tool, or undefined where it cannot work (perl elsewhere than x64/arm64). */
function toolArgv(tool: FadviseTool): [string, string[]] | undefined {
  if (tool === 'python3') return ['python3', ['-c', PYTHON]];
  if (tool === 'dd') {
    const jobs = String(os.availableParallelism());
    const dd = ['dd', 'if={}', 'iflag=nocache,nonblock', 'count=0', 'status=none'];
    return ['xargs', ['-0', '-P', jobs, '-I{}', ...dd]];
  }
  const syscall = FADVISE_SYSCALL[process.arch];
  return syscall === undefined ? undefined : ['perl', ['-0', '-ne', perlScript(syscall)]];
}

/** A word for sh: as it is when nothing in it is special, else quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./{}-]+$/.test(word) ? word : shellQuote(word);
}

/**
 * A path for a command a user pastes: quoted, or, when it holds bytes that are not UTF-8,
 * made by printf from octal escapes into a variable set by the returned prelude.
 */
function pathInShell(path: string): { prelude: string; word: string } {
  if (!hasRawBytes(path)) return { prelude: '', word: shellQuote(path) };
  const octal = [...(fsPath(path) as Buffer)].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`);
  return { prelude: `root=$(printf '${octal.join('')}_'); root=\${root%_}; `, word: '"$root"' };
}

/**
 * The eviction as a command to paste: dirty pages are not dropped by DONTNEED, so the
 * file system is synced first. It evicts every file under the root (bench, only its files):
 * `sync -f /data && find /data -type f -print0 | python3 -c '…'`.
 */
export function fadviseCommand(tool: FadviseTool, root: string): string | undefined {
  const argv = toolArgv(tool);
  if (argv === undefined) return undefined;
  const { prelude, word } = pathInShell(root);
  const pipe = [argv[0], ...argv[1]].map(shellWord).join(' ');
  return `${prelude}sync -f ${word} && find ${word} -type f -print0 | ${pipe}`;
}

/** Which tool a fadvise command runs: evict runs what the record says. */
function toolOf(command: string): FadviseTool | undefined {
  if (command.includes('| python3 -c ')) return 'python3';
  if (command.includes('| perl -0 -ne ')) return 'perl';
  if (command.includes('| xargs -0 ')) return 'dd';
  return undefined;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with `input` on stdin; a program that cannot start gives code null. */
function run(program: string, args: readonly string[], input?: Buffer): Promise<Outcome> {
  return new Promise((done) => {
    const child = spawn(program, args, { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    // A child that exits before reading all of stdin (a failure it reports itself) breaks the pipe.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (error) => done({ code: null, stdout, stderr: error.message }));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The files as NUL-separated bytes: any name (spaces, newlines, bytes that are not UTF-8) passes unchanged. */
function nulSeparated(files: readonly string[]): Buffer {
  const NUL = Buffer.from([0]);
  return Buffer.concat(
    files.flatMap((file) => {
      const bytes = fsPath(file);
      return [typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes, NUL];
    }),
  );
}

function runTool(tool: FadviseTool, files: readonly string[]): Promise<Outcome> {
  const argv = toolArgv(tool);
  if (argv === undefined) return Promise.resolve({ code: null, stdout: '', stderr: `${tool}: not here` });
  return run(argv[0], argv[1], nulSeparated(files));
}

const probes = new Map<FadviseTool, Promise<boolean>>();

/** Whether a tool runs here and its fadvise succeeds (on /dev/null): python3 may lack it, dd may not be GNU's. */
export function fadviseWorks(tool: FadviseTool): Promise<boolean> {
  let probe = probes.get(tool);
  if (probe === undefined) {
    probe = runTool(tool, ['/dev/null']).then((outcome) => outcome.code === 0);
    probes.set(tool, probe);
  }
  return probe;
}

async function dropCachesWritable(): Promise<boolean> {
  try {
    // Opening checks the permission (and a read-only /proc in a container); only a write drops.
    await (await open('/proc/sys/vm/drop_caches', constants.O_WRONLY)).close();
    return true;
  } catch {
    return false;
  }
}

export interface ColdOptions {
  /** Whether this process may drop the caches: default, whether it runs as root. */
  readonly root?: boolean;
  /** `--cold-method`: by default drop-caches when allowed, else fadvise. */
  readonly method?: 'drop-caches' | 'fadvise';
  /** The fadvise tool: by default the first of python3, perl, dd that works here. */
  readonly tool?: FadviseTool;
  /** The machine is a guest (machine.ts isVirtualized): cold is the guest's cache only. */
  readonly virtualized?: boolean;
}

export const TMPFS_NOTE = 'tmpfs keeps files in RAM: there is no colder state';
export const GUEST_NOTE = "guest-cold: the hypervisor's host cache may still hold the files";
const DROP_NOTE =
  "drops every cached file, node's and globpipe's own code too: each cold run also loads them from disk";

/** How cold cells are made cold on the file system of `root` (type from machine.ts filesystemOf). */
export async function chooseColdMethod(
  root: string,
  fsType: string,
  opts: ColdOptions = {},
): Promise<ColdMethod> {
  if (fsType === 'tmpfs' || fsType === 'ramfs') return { name: 'none', command: '', note: TMPFS_NOTE };
  const notes = (...more: string[]) => {
    const all = [...more, ...(opts.virtualized ? [GUEST_NOTE] : [])];
    return all.length > 0 ? { note: all.join('; ') } : {};
  };
  if (opts.method !== 'fadvise') {
    const mayDrop = opts.root ?? process.getuid?.() === 0;
    if (mayDrop && (await dropCachesWritable()))
      return { name: 'drop-caches', command: DROP_CACHES, ...notes(DROP_NOTE) };
    if (opts.method === 'drop-caches') {
      throw new GlobpipeError(
        'EUSAGE',
        '`--cold-method drop-caches` needs root and a writable /proc/sys/vm/drop_caches; `--cold-method fadvise` works without root',
      );
    }
  }
  const tools: FadviseTool[] = opts.tool === undefined ? ['python3', 'perl', 'dd'] : [opts.tool];
  for (const tool of tools) {
    const command = fadviseCommand(tool, root);
    if (command !== undefined && (await fadviseWorks(tool))) return { name: 'fadvise', command, ...notes() };
  }
  if (opts.tool !== undefined) throw new GlobpipeError('EUSAGE', `\`${opts.tool}\` cannot evict files here`);
  return {
    name: 'none',
    command: '',
    note: 'no way to evict files here: drop_caches needs root, and posix_fadvise needs python3, perl (x64, arm64) or GNU dd',
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

/**
 * Evicts the files (absolute paths) from the page cache by `method`. The files' names go to
 * the tool on stdin as bytes; `root` is the dataset's directory, synced first.
 */
export async function evict(method: ColdMethod, files: readonly string[], root: string): Promise<void> {
  if (method.name === 'none') return;
  if (method.name === 'drop-caches') {
    const outcome = await run('sh', ['-c', DROP_CACHES]);
    if (outcome.code !== 0) throw new Error(`\`${DROP_CACHES}\` failed: ${lastLine(outcome.stderr)}`);
    return;
  }
  const tool = toolOf(method.command);
  if (tool === undefined) throw new Error(`not a fadvise command globpipe knows: ${method.command}`);
  // `sync -f` takes a path as an argument: one that is not UTF-8 cannot pass, so all file systems are synced.
  const synced = await run('sync', hasRawBytes(root) ? [] : ['-f', root]);
  if (synced.code !== 0) throw new Error(`sync failed before evicting ${root}: ${lastLine(synced.stderr)}`);
  if (files.length === 0) return;
  const outcome = await runTool(tool, files);
  if (outcome.code !== 0) {
    const cause = lastLine(outcome.stderr) || `exit code ${outcome.code}`;
    throw new Error(`cannot evict the dataset from the page cache with ${tool}: ${cause}`);
  }
}

let fincore: Promise<boolean> | undefined;

/** Whether fincore (util-linux) runs here. */
export function fincoreAvailable(): Promise<boolean> {
  fincore ??= run('fincore', ['--version']).then((outcome) => outcome.code === 0);
  return fincore;
}

/** `count` of the files, spread evenly over the list (the same ones every time), or all of them. */
export function sampleOf<T>(files: readonly T[], count: number | undefined): readonly T[] {
  if (count === undefined || files.length <= count) return files;
  return Array.from({ length: count }, (_, i) => files[Math.floor(((i + 0.5) * files.length) / count)] as T);
}

/**
 * Since Linux 5.0, mincore (fincore's source) reports every page resident for a file the
 * caller neither owns nor may write: the page cache's state is a side channel. For such a
 * file fincore's figure means nothing (evicting it works all the same).
 */
function cacheStateVisible(files: readonly string[]): boolean {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0) return true;
  return files.every((file) => {
    const path = fsPath(file);
    try {
      if (statSync(path).uid === uid) return true;
      accessSync(path, constants.W_OK);
      return true;
    } catch (error) {
      // A file that is gone is not cached: fincore skips it.
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
  });
}

/**
 * Bytes of these files in the page cache now, from fincore: undefined without it, or when
 * this user may not see it (neither owner nor writer of a file, and not root). With
 * `sample`, only that many files are checked and the sum is scaled by the file count: an
 * estimate, enough to tell a cold cache (0) from a warm one. The names go through
 * `xargs -0` on stdin, which keeps each fincore's command line under ARG_MAX and passes
 * any name as its bytes. A file that is gone counts 0 (fincore complains and goes on).
 */
export async function residentBytes(
  files: readonly string[],
  opts: { readonly sample?: number } = {},
): Promise<number | undefined> {
  if (!(await fincoreAvailable())) return undefined;
  const checked = sampleOf(files, opts.sample);
  if (checked.length === 0) return 0;
  if (!cacheStateVisible(checked)) return undefined;
  const args = ['-0', 'fincore', '--bytes', '--noheadings', '--raw', '--output', 'RES'];
  const outcome = await run('xargs', args, nulSeparated(checked));
  // 123: some fincore run failed on a file, the rest were counted.
  if (outcome.code !== 0 && outcome.code !== 123) return undefined;
  let sum = 0;
  for (const line of outcome.stdout.split('\n')) {
    const bytes = Number.parseInt(line, 10);
    if (Number.isFinite(bytes)) sum += bytes;
  }
  return Math.round((sum * files.length) / checked.length);
}
