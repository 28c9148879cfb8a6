import type { ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, unlink } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { Duplex } from 'node:stream';
import { fsPath, hasRawBytes } from '../paths.js';
import type { FileInfo } from '../types.js';
import type { ResolvedTransform } from './resolved.js';

// child_process is loaded with the first --exec command, not at every start.
const load = createRequire(import.meta.url);

/** Every child alive now, by pid (each leads its own process group), so a hard exit can kill them all. */
const liveChildren = new Set<number>();

/** For a hard exit (second Ctrl-C): kills every child's whole process group at once. */
export function killAllChildrenSync(): void {
  for (const pid of liveChildren) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  liveChildren.clear();
}

/** Quotes a value for POSIX sh: `it's` -> `'it'\''s'`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A path as one argument of a command: shell-quoted, and never taken for an option,
 * whatever the command: `-rf x` -> `'./-rf x'` (so `cat {rel}` reads a file named `-n`).
 */
export function pathArgument(path: string): string {
  return shellQuote(path.startsWith('-') ? `./${path}` : path);
}

let outCounter = 0;
let outDir: string | undefined;

/**
 * Where `{out}` files go: a directory of this process's own, mode 0700, so that what a
 * command writes there (the result of a private input) is never readable by others,
 * whatever the command's umask. Removed when the process exits.
 */
function privateOutDir(): string {
  if (outDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'globpipe-exec-'));
    outDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return outDir;
}

/**
 * A value with bytes that are not UTF-8 (paths.ts) cannot travel in the command's string as
 * itself: the shell makes it from octal escapes (every byte as \ooo, so nothing in it is
 * quoting), through a variable so that a trailing newline survives the substitution.
 */
function rawBytesVariable(name: string, value: string): string {
  const bytes = fsPath(value) as Buffer;
  const octal = [...bytes].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
  return `${name}=$(printf '${octal}_'); ${name}=\${${name}%_}; `;
}

/**
 * The command with its placeholders filled, each value a path argument:
 * `{in}` the input's absolute path, `{rel}` its path relative to cwd, `{out}`
 * a temp file the command writes its result to (instead of stdout).
 */
export function expandCommand(command: string, file: FileInfo, outPath: string | undefined): string {
  let prelude = '';
  const body = command.replace(/\{(in|rel|out)\}/g, (_token, name: string) => {
    const value = name === 'in' ? file.absolutePath : name === 'rel' ? file.path : (outPath as string);
    if (!hasRawBytes(value)) return pathArgument(value);
    const variable = `globpipe_${name}`;
    if (!prelude.includes(`${variable}=`))
      prelude += rawBytesVariable(variable, value.startsWith('-') ? `./${value}` : value);
    return `"$${variable}"`;
  });
  return prelude + body;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/**
 * A child process as a Duplex: what is written goes to its stdin, its stdout
 * (or, with `{out}`, the file it wrote) is what is read. A non-zero exit fails
 * the stream with the command's stderr; destroying the stream (abort, Ctrl-C,
 * a failure elsewhere in the chain) kills the child's whole process group.
 */
class ExecStream extends Duplex {
  readonly #child: ChildProcess;
  readonly #command: string;
  readonly #outPath: string | undefined;
  #stderr = '';
  #exited = false;

  constructor(command: string, file: FileInfo, cwd: string | undefined) {
    super();
    this.#command = command;
    const usesOut = /\{out\}/.test(command);
    outCounter += 1;
    this.#outPath = usesOut ? join(privateOutDir(), `out-${outCounter}${extname(file.path)}`) : undefined;
    // Its own process group: the shell's children die with it, and a terminal's Ctrl-C reaches us first.
    // It runs in --cwd, where `{rel}` is a path to the input.
    const { spawn } = load('node:child_process') as typeof import('node:child_process');
    this.#child = spawn('/bin/sh', ['-c', expandCommand(command, file, this.#outPath)], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = this.#child.pid;
    if (pid !== undefined) liveChildren.add(pid);
    this.#child.on('error', (error) => this.destroy(error));
    // A command that stops reading early (`head -c 10`) closes its stdin: the rest of the input is not wanted.
    this.#child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') this.destroy(error);
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      if (this.#outPath !== undefined) return; // with {out}, stdout is the command's chatter
      if (!this.push(chunk)) this.#child.stdout?.pause();
    });
    this.#child.on('close', (code, signal) => {
      this.#exited = true;
      if (pid !== undefined) liveChildren.delete(pid);
      if (this.destroyed) return;
      if (code !== 0) {
        const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
        const stderr = oneLine(this.#stderr);
        this.destroy(new Error(`\`${this.#command}\` ${how}${stderr === '' ? '' : `: ${stderr}`}`));
        return;
      }
      if (this.#outPath === undefined) {
        this.push(null);
        return;
      }
      const result = createReadStream(this.#outPath);
      result.on('data', (chunk) => {
        if (!this.push(chunk)) result.pause();
      });
      this.#resumeResult = () => result.resume();
      result.on('error', (error) =>
        this.destroy(new Error(`\`${this.#command}\` wrote no file at {out}: ${error.message}`)),
      );
      result.on('end', () => this.push(null));
    });
  }

  #resumeResult: (() => void) | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const stdin = this.#child.stdin;
    if (stdin === null || stdin.destroyed || this.#exited) {
      callback();
      return;
    }
    if (stdin.write(chunk)) callback();
    else {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        callback();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin?.end();
    callback();
  }

  override _read(): void {
    this.#child.stdout?.resume();
    this.#resumeResult?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const pid = this.#child.pid;
    if (!this.#exited && pid !== undefined) {
      try {
        process.kill(-pid, 'SIGTERM');
        // A command that ignores SIGTERM gets SIGKILL; the timer does not keep the process alive.
        setTimeout(() => {
          try {
            if (!this.#exited) process.kill(-pid, 'SIGKILL');
          } catch {
            // Gone by now.
          }
        }, 1000).unref();
      } catch {
        // Already gone.
      }
    }
    if (this.#outPath !== undefined) unlink(this.#outPath, () => {});
    callback(error);
  }
}

/**
 * `--exec <command>`: run in `cwd` (the run's --cwd; without it, the process's own), the
 * file on stdin, the result from stdout (or `{out}`), a non-zero exit fails the file.
 */
export function execTransform(command: string, cwd?: string): ResolvedTransform {
  return {
    name: 'exec',
    // A process per file costs CPU to start: on a small machine, fewer in flight by default.
    cpuBound: true,
    spawnsChild: true,
    stream: (file) => new ExecStream(command, file, cwd),
  };
}
