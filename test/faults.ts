import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import type { IoFailure } from '../src/errors.js';
import { nodePort } from '../src/io/fs.js';
import type { IoPort, Outcome } from '../src/io/port.js';

/**
 * Faults injected at the io port (src/io/port.ts): the port a real run uses,
 * with chosen calls failing or doing something first. Every executor goes
 * through the port, so the same faults reach the batched and the single-file
 * paths alike.
 */
export type Op = 'read' | 'copy' | 'write' | 'rename' | 'openReadStream' | 'openWriteStream' | 'mkdir';

export interface Fault {
  readonly op: Op;
  /**
   * The file the call is about, by base name of its input (read, copy, openReadStream) or of
   * its output (write, rename, openWriteStream, mkdir); every file when absent.
   */
  readonly name?: string | RegExp;
  /** The file fails with this errno code (ENOSPC, EMFILE, ENOENT…). */
  readonly code?: string;
  /** Which side the failure is on; by default the op's (read for read and copy, write for the rest). */
  readonly side?: 'read' | 'write';
  /** openWriteStream: the stream fails with `code` once this many bytes have gone in. */
  readonly afterBytes?: number;
  /** Runs before the call goes on (an abort, a worker's death…). */
  readonly before?: () => void | Promise<void>;
  /** How many calls it hits; every matching call when absent. */
  times?: number;
}

const descriptions: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EMFILE: 'too many open files',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EIO: 'input/output error',
};

export function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${descriptions[code] ?? 'injected'}, '${path}'`), { code, path });
}

const sides: Record<Op, 'read' | 'write'> = {
  read: 'read',
  copy: 'read',
  openReadStream: 'read',
  write: 'write',
  rename: 'write',
  openWriteStream: 'write',
  mkdir: 'write',
};

/** Every call the port saw: op, the file's base name, and the options that matter (fsync, flush). */
export interface Call {
  readonly op: Op;
  readonly path: string;
  readonly flags?: object;
}

export function faultyPort(faults: Fault[], inner: IoPort = nodePort()): IoPort & { calls: Call[] } {
  const calls: Call[] = [];
  const match = (op: Op, path: string): Fault | undefined => {
    const fault = faults.find(
      (f) =>
        f.op === op &&
        (f.times === undefined || f.times > 0) &&
        (f.name === undefined ||
          (typeof f.name === 'string' ? basename(path) === f.name : f.name.test(basename(path)))),
    );
    if (fault?.times !== undefined) fault.times -= 1;
    return fault;
  };
  const failure = (op: Op, fault: Fault, path: string, dest?: string): IoFailure => {
    const error = errno(fault.code as string, path);
    return { code: fault.code, message: error.message, path, dest, side: fault.side ?? sides[op] };
  };

  /** A list call: faulted files fail alone, the rest go through in one call. */
  async function list<I, O extends Outcome<object>>(
    op: Op,
    items: readonly I[],
    pathOf: (item: I) => string,
    destOf: (item: I) => string | undefined,
    call: (items: readonly I[]) => Promise<O[]>,
    flags?: object,
  ): Promise<O[]> {
    const results: (O | undefined)[] = [];
    const passed: I[] = [];
    const where: number[] = [];
    for (const [i, item] of items.entries()) {
      calls.push({ op, path: basename(pathOf(item)), ...(flags === undefined ? {} : { flags }) });
      const fault = match(op, pathOf(item));
      await fault?.before?.();
      if (fault?.code !== undefined)
        results[i] = { ok: false, ms: 0, error: failure(op, fault, pathOf(item), destOf(item)) } as O;
      else {
        passed.push(item);
        where.push(i);
      }
    }
    if (passed.length > 0)
      for (const [k, outcome] of (await call(passed)).entries()) results[where[k] as number] = outcome;
    return results as O[];
  }

  async function single<T>(op: Op, path: string, call: () => Promise<T>, flags?: object): Promise<T> {
    calls.push({ op, path: basename(path), ...(flags === undefined ? {} : { flags }) });
    const fault = match(op, path);
    await fault?.before?.();
    if (fault?.code !== undefined && fault.afterBytes === undefined) throw errno(fault.code, path);
    return call();
  }

  return {
    ...inner,
    calls,
    read: (paths, bounds) =>
      list(
        'read',
        paths,
        (p) => p,
        () => undefined,
        (some) => inner.read(some, bounds),
      ),
    copy: (items, flags) =>
      list(
        'copy',
        items,
        (i) => i.src,
        (i) => i.dest,
        (some) => inner.copy(some, flags),
        flags,
      ),
    write: (items, flags) => {
      const dest = (item: (typeof items)[number]) => item.outputs[0]?.dest ?? '';
      return list('write', items, dest, dest, (some) => inner.write(some, flags), flags);
    },
    rename: (items, flags) => {
      const dest = (pairs: (typeof items)[number]) => pairs[0]?.[1] ?? '';
      return list('rename', items, dest, dest, (some) => inner.rename(some, flags), flags);
    },
    openReadStream: (path, options) =>
      single('openReadStream', path, () => inner.openReadStream(path, options)),
    openWriteStream: (path, options) =>
      single(
        'openWriteStream',
        path,
        async () => {
          const stream = await inner.openWriteStream(path, options);
          const fault = faults.find((f) => f.op === 'openWriteStream' && f.afterBytes !== undefined);
          return fault === undefined
            ? stream
            : failAfter(stream, fault.afterBytes as number, errno(fault.code ?? 'ENOSPC', path));
        },
        { flush: options.flush },
      ),
    mkdir: (path, root) => single('mkdir', path, () => inner.mkdir(path, root)),
  };
}

/** A file write stream that fails with `error` once `limit` bytes have gone in, as a disk filling up does. */
function failAfter(stream: Writable, limit: number, error: Error): Writable {
  let seen = 0;
  const target = stream as Writable & {
    _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void;
    _writev?(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void;
  };
  const write = target._write.bind(target);
  target._write = (chunk, encoding, callback) => {
    seen += chunk.length;
    if (seen > limit) callback(error);
    else write(chunk, encoding, callback);
  };
  if (target._writev !== undefined) {
    const writev = target._writev.bind(target);
    target._writev = (chunks, callback) => {
      seen += chunks.reduce((sum, { chunk }) => sum + chunk.length, 0);
      if (seen > limit) callback(error);
      else writev(chunks, callback);
    };
  }
  return stream;
}
