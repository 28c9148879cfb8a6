import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { defineTransform, type FileResult } from '../src/index.js';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bin = join(root, 'bin', 'globpipe.js');
export const fixtures = join(root, 'fixtures');
export const site = join(fixtures, 'site');

let publicCopy: string | undefined;

/**
 * The built CLI where any user can run it, for tests that run it as another user (`nobody`):
 * the clone may live in a directory only its owner can enter (a 0700 home, `mktemp -d`).
 * A copy of bin/, dist/ and package.json (all the CLI needs to run without a terminal) in
 * a world-readable temp directory, made once per test file and removed at exit; node_modules
 * is linked, for the packages the bundle loads at run time (mime-types, compressible, jiti).
 */
export function publicBin(): string {
  if (publicCopy === undefined) {
    const copy = mkdtempSync(join(tmpdir(), 'globpipe-cli-'));
    for (const part of ['bin', 'dist', 'package.json'])
      cpSync(join(root, part), join(copy, part), { recursive: true });
    const open = (path: string): void => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const full = join(path, entry.name);
        chmodSync(full, entry.isDirectory() ? 0o755 : 0o644);
        if (entry.isDirectory()) open(full);
      }
    };
    chmodSync(copy, 0o755);
    open(copy);
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
    publicCopy = copy;
  }
  return join(publicCopy, 'bin', 'globpipe.js');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process, as a user would (as `nobody` with `asNobody`, where root would see through modes). */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; asNobody?: boolean } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // As another user, the CLI runs from a copy that user can read (publicBin).
    const user = options.asNobody === true ? { uid: 65534, gid: 65534 } : {};
    const child = spawn(process.execPath, [options.asNobody === true ? publicBin() : bin, ...args], {
      ...user,
      cwd: options.cwd ?? root,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function tempDir(prefix = 'globpipe-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Every file under `dir`, by path relative to it (forward slashes), with its bytes. */
export function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(dir, full).split('\\').join('/'), readFileSync(full));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The site fixture without dotfiles: what `**\/*` matches by default. */
export function siteFiles(): Map<string, Buffer> {
  return new Map(
    [...readTree(site)].filter(([path]) => !path.split('/').some((part) => part.startsWith('.'))),
  );
}

/** A fresh directory holding `files` (path -> content), parents created; removed after the test. */
export function writeTree(files: Record<string, string | Buffer>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** `count` small files spread over seven directories: `d3/f10.txt`. */
export function makeTree(count: number, size = 16): string {
  const dir = tempDir();
  for (let i = 0; i < count; i += 1) {
    const sub = join(dir, `d${i % 7}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.txt`), `file ${i}\n`.padEnd(size, '.'));
  }
  return dir;
}

/** A transform that counts how many files it is working on at once. */
export function gauge(delayMs: number) {
  const state = { now: 0, max: 0, calls: 0 };
  const transform = defineTransform({
    name: 'gauge',
    async buffer(content: Buffer) {
      state.now += 1;
      state.calls += 1;
      state.max = Math.max(state.max, state.now);
      await sleep(delayMs);
      state.now -= 1;
      return content;
    },
  });
  return { state, transform };
}

/** A file's result with plain defaults, for the tests of what is printed. */
export function fileResult(fields: Partial<FileResult>): FileResult {
  return { input: 'a', outputs: ['a'], status: 'written', bytesIn: 0, bytesOut: 0, ms: 1, ...fields };
}

/**
 * Every type compressed, every size, every output kept: for tests of compressing runs that are
 * about something else than the web defaults (--min-size 1 KiB, --min-ratio 0.8, type skips),
 * over fixtures of tiny files. The patterns and precompress tests cover the defaults.
 */
export const keepAll: readonly string[] = ['--all-types', '--min-size', '0', '--min-ratio', 'Infinity'];
export const keepAllOptions = { allTypes: true, minSize: 0, minRatio: Number.POSITIVE_INFINITY } as const;

/** keepAll's flags when the transform named compresses (`gzip`, `gzip,brotli`), none otherwise. */
export function keepAllFor(transform: string): readonly string[] {
  return /\b(gzip|brotli|zstd|precompress)\b/.test(transform) ? keepAll : [];
}

/** `script` (util-linux) is here: it gives a test a real pty (`script -qec CMD /dev/null`). */
export function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A word for `sh -c`: single-quoted, its own single quotes escaped. */
export const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
