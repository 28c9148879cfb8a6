import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import fg from 'fast-glob';
import { describeType, type FileType } from './io/file-type.js';
import { retryOnFdExhaustion } from './io/retry.js';
import type { Settings } from './options/settings.js';
import { decodeName, fsPath, isInside, isNormal, toPosix } from './paths.js';
import { compressedSkip, MatchTally, unmatchedError } from './plan/matching.js';
import { patternPlan } from './plan/patterns.js';

export type EntryKind = 'file' | 'symlink' | 'other';

/** One match of the glob. */
export interface Entry {
  /** Relative to cwd, forward slashes, as the pattern produced it (may start with `../`). */
  readonly path: string;
  readonly absolutePath: string;
  readonly kind: EntryKind;
  /** For kind `other`: what it is instead of a file, `is a FIFO (named pipe)`. */
  readonly special?: string;
}

/** A glob failure that is not about one match (an unreadable directory, a loop). */
export class DiscoverError extends Error {
  override readonly name = 'DiscoverError';
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`cannot read ${path}`, { cause });
    this.path = path;
  }
}

/** The type from readdir's dirent (or, for a followed symlink, from stat): no syscall per file. */
function kindOf(stats: FileType): EntryKind | 'directory' {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

export interface DiscoverHooks {
  /** Called as soon as the glob finds a match, before the pipeline is ready for it. */
  readonly onMatch: (entry: Entry) => void;
  /** Called once the glob is complete, with nothing more to find. */
  readonly onEnd: () => void;
  /** Called for a symlinked directory that leads back to one of its own ancestors; it is not descended. */
  readonly onLoop: (path: string, target: string) => void;
  /** Called for a match that is not processed (an already compressed file, plan/matching.ts), with why. */
  readonly onSkip: (entry: Entry, reason: string) => void;
  /**
   * Called for a directory under `--cwd` that cannot be read (EACCES, or no longer a directory):
   * it is not descended, and the walk goes on. `--cwd` itself failing ends the glob.
   */
  readonly onUnreadable: (path: string, error: NodeJS.ErrnoException) => void;
}

/**
 * Readdir errors that belong to one directory, not to the whole walk. ENOENT is not one: a
 * pattern's base directory that does not exist is fast-glob's to pass over (no match).
 */
const dirErrors: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'ENOTDIR', 'EIO']);

type ReaddirCallback = (error: NodeJS.ErrnoException | null, result?: unknown) => void;

/**
 * Holds the walker back while enough matches wait for the pipeline: fast-glob
 * pushes entries without waiting for its reader, but it cannot push what it has
 * not read, so delaying its readdir calls is backpressure. Memory then stays
 * bounded by this mark (plus one directory's entries), whatever the file count.
 */
class Gate {
  static readonly HIGH = 8192;
  static readonly LOW = 2048;
  readonly #held: (() => void)[] = [];
  waiting = 0;
  /** Matches are held back until each pattern has matched (discover): the walk must go on meanwhile. */
  open = false;

  pass(read: () => void): void {
    if (this.waiting >= Gate.HIGH && !this.open) this.#held.push(read);
    else read();
  }

  /** Called as entries leave: below the low mark, held reads go. */
  drained(): void {
    if (this.waiting > Gate.LOW || this.#held.length === 0) return;
    for (const read of this.#held.splice(0)) read();
  }
}

/**
 * The readdir fast-glob walks with: it waits out descriptor exhaustion instead
 * of failing the glob, and, when symlinks are followed, refuses to descend a
 * directory whose real path is its own ancestor's (`loop -> ..`), which would
 * otherwise be walked again and again until the kernel's ELOOP.
 */
function guardedReaddir(
  settings: Settings,
  gate: Gate,
  onLoop: (dir: string, real: string) => void,
  onUnreadable: (dir: string, error: NodeJS.ErrnoException) => void,
) {
  const realOf = new Map<string, string>();
  const root = settings.cwd;
  // Names are read as bytes and decoded so that those that are not UTF-8 stay exact (paths.ts).
  const read = (dir: string, options: unknown, callback: ReaddirCallback) => {
    const asBytes = { ...(options as object), encoding: 'buffer' } as {
      withFileTypes?: boolean;
      encoding: 'buffer';
    };
    retryOnFdExhaustion(() => fsp.readdir(fsPath(dir), asBytes as never)).then(
      (result: unknown[]) => {
        for (const [i, item] of result.entries()) {
          if (Buffer.isBuffer(item)) result[i] = decodeName(item);
          else (item as { name: unknown }).name = decodeName((item as { name: Buffer }).name);
        }
        callback(null, result);
      },
      (error: NodeJS.ErrnoException) => {
        // A directory below the root that cannot be read is reported and left: the rest of the tree goes on.
        if (dir === root || dir === '.' || !dirErrors.has(error.code ?? '')) return callback(error);
        onUnreadable(dir, error);
        callback(null, []);
      },
    );
  };
  return (dir: string, optionsOrCallback: unknown, maybeCallback?: ReaddirCallback) => {
    const callback = (
      typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    ) as ReaddirCallback;
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    if (!settings.followSymlinks) return gate.pass(() => read(dir, options, callback));
    gate.pass(() =>
      fs.realpath(fsPath(dir), { encoding: 'buffer' }, (error, bytes) => {
        if (error !== null) return read(dir, options, callback);
        const real = decodeName(bytes);
        realOf.set(dir, real);
        const parentReal = realOf.get(dirname(dir));
        if (parentReal !== undefined && isInside(parentReal, real)) {
          onLoop(dir, real);
          return callback(null, []);
        }
        read(dir, options, callback);
      }),
    );
  };
}

/** Entries handed over at once, at most. */
const CHUNK = 256;

/**
 * The matches of the settings' patterns, in chunks, as they are found: the pipeline
 * consumes entries while the glob goes on. Directories are dropped; symlinks,
 * FIFOs and the like are kept so the pipeline can report them; files a
 * compressing run does not take (plan/matching.ts) go to `onSkip`.
 *
 * A positive pattern that matches nothing is a usage error (unless
 * `errorOnUnmatchedPattern` is off), and a usage error writes nothing: so no
 * match is handed over until every pattern has matched at least once, or the
 * glob is over. With one pattern that is its first match; with several, the
 * walk goes on unthrottled until then.
 *
 * fast-glob's stream pushes entries without waiting for its reader, so they are
 * taken as they come (the hooks see the true count, for the progress total) and
 * held here, as plain objects, until the queue has room: what waits is data,
 * never a pending job.
 */
export async function* discover(settings: Settings, hooks: DiscoverHooks): AsyncGenerator<Entry[]> {
  const gate = new Gate();
  const plan = patternPlan(settings);
  const tally = settings.errorOnUnmatchedPattern ? new MatchTally(plan, settings) : undefined;
  const skip = compressedSkip(settings);
  /** A directory could not be read: what it holds is unknown, so no pattern is said to match nothing. */
  let incomplete = false;
  /** Skips found while matches are held: reported once they are let through. */
  let heldSkips: [Entry, string][] | undefined = tally === undefined ? undefined : [];
  gate.open = heldSkips !== undefined;
  const release = () => {
    gate.open = false;
    for (const [entry, reason] of heldSkips ?? []) hooks.onSkip(entry, reason);
    heldSkips = undefined;
  };
  const stream: Readable = fg.stream(plan.glob as string[], {
    cwd: settings.cwd,
    dot: settings.dot,
    ignore: settings.ignore as string[],
    followSymbolicLinks: settings.followSymlinks,
    onlyFiles: false,
    // No stats: the dirent's type is enough here; size and times come from the open file later.
    stats: false,
    objectMode: true,
    // Duplicates need two positive patterns; fast-glob's check costs a Set lookup per match.
    unique: plan.positive.length > 1,
    fs: {
      readdir: guardedReaddir(
        settings,
        gate,
        (dir, real) => hooks.onLoop(toPosix(relative(settings.cwd, dir)), real),
        (dir, error) => {
          incomplete = true;
          hooks.onUnreadable(toPosix(relative(settings.cwd, dir)), error);
        },
      ) as never,
      // Paths may hold names that are not UTF-8: the fs module gets their bytes.
      lstat: ((path: string, callback: never) => fs.lstat(fsPath(path), callback)) as never,
      stat: ((path: string, callback: never) => fs.stat(fsPath(path), callback)) as never,
      lstatSync: ((path: string) => fs.lstatSync(fsPath(path))) as never,
      statSync: ((path: string) => fs.statSync(fsPath(path))) as never,
    },
  }) as Readable;
  // fast-glob's paths are already normal (`a/b.txt`); join() normalising each of them again is waste.
  const base = settings.cwd.endsWith(sep) ? settings.cwd : settings.cwd + sep;
  const absolute = (path: string) => (isNormal(path) ? base + path : join(settings.cwd, path));
  let buffer: Entry[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  stream.on('data', (item: fg.Entry) => {
    const kind = kindOf(item.dirent as FileType);
    if (kind === 'directory') {
      if (heldSkips !== undefined) tally?.directory(item.path);
      return;
    }
    const entry: Entry = {
      path: item.path,
      absolutePath: absolute(item.path),
      kind,
      special: kind === 'other' ? describeType(item.dirent as FileType) : undefined,
    };
    hooks.onMatch(entry);
    if (heldSkips !== undefined) {
      tally?.file(item.path);
      if (tally?.settled) {
        release();
        wake?.();
      }
    }
    const reason = skip?.(item.path);
    if (reason !== undefined) {
      if (heldSkips !== undefined) heldSkips.push([entry, reason]);
      else hooks.onSkip(entry, reason);
      return;
    }
    buffer.push(entry);
    gate.waiting += 1;
    wake?.();
  });
  stream.once('end', () => {
    ended = true;
    hooks.onEnd();
    wake?.();
  });
  stream.once('error', (error) => {
    failure = error;
    ended = true;
    wake?.();
  });
  try {
    for (;;) {
      if (heldSkips !== undefined && (ended || failure !== undefined)) {
        const unmatched = tally?.unmatched() ?? [];
        // An incomplete glob (an unreadable directory) cannot tell what matches nothing. A
        // `--watch` run will not throw here: it will hand over what matched and wait for the rest.
        if (failure === undefined && !incomplete && unmatched.length > 0)
          throw unmatchedError(unmatched, settings);
        release();
      }
      if (buffer.length > 0 && heldSkips === undefined) {
        // In chunks: a step of an async iterator costs more than handling the entry it brings.
        const chunk = buffer.length <= CHUNK ? buffer : buffer.splice(0, CHUNK);
        if (chunk === buffer) buffer = [];
        gate.waiting -= chunk.length;
        gate.drained();
        yield chunk;
        continue;
      }
      if (failure !== undefined) {
        throw new DiscoverError((failure as NodeJS.ErrnoException).path ?? settings.cwd, failure);
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    stream.destroy();
  }
}
