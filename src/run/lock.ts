import {
  closeSync,
  constants,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GlobpipeError } from '../errors.js';
import { randomHex } from '../place.js';
import { type Liveness, type LockOwner, liveness, ownerHere, parseLock, thisMachine } from './lock-owner.js';
import type { Shard } from './shard.js';

export {
  type Liveness,
  type LockOwner,
  liveness,
  type Machine,
  parseLock,
  thisMachine,
} from './lock-owner.js';

/** Lives in cwd while an in-place run goes; never globbed (nor the temp names of a takeover beside it). */
export const LOCK_NAME = '.globpipe-lock';

/** A shard's lock, `.globpipe-lock.2-of-4`: shards of one tree write disjoint files and may run at once. */
export function lockName(shard?: Shard): string {
  return shard === undefined ? LOCK_NAME : `${LOCK_NAME}.${shard.index}-of-${shard.count}`;
}

/** Creates `path` holding `text`, only if nothing is there (not even a symlink), readable by its owner only. */
function writeNew(path: string, text: string): void {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * As writeNew, and whole from the moment it appears: written to a temp beside it, then
 * linked into place (link fails if anything is there), so another run never reads a lock
 * that is still being written.
 */
function writeExclusive(path: string, text: string): void {
  const temp = `${path}.${process.pid}-${randomHex(6)}.tmp`;
  writeNew(temp, text);
  try {
    linkSync(temp, path);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Gone already.
    }
  }
}

interface Found {
  /** `undefined`: the file is not a lock globpipe wrote (damaged, cut short, a symlink). */
  readonly owner: LockOwner | undefined;
  readonly ino: number;
  readonly dev: number;
}

/** The lock at `path` as it is now; `undefined` when there is none. */
function readLock(path: string): Found | undefined {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(path);
  } catch {
    return undefined;
  }
  if (stats.isDirectory()) {
    throw new GlobpipeError(
      'EUSAGE',
      `\`${path}\` is a directory, where globpipe keeps the lock of an in-place run; remove it`,
      { path },
    );
  }
  let text: string | undefined;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    // A symlink (ELOOP), a FIFO, gone meanwhile: not a lock of ours.
  }
  return { owner: text === undefined ? undefined : parseLock(text), ino: stats.ino, dev: stats.dev };
}

function busy(path: string, cwd: string, owner: LockOwner, state: Liveness): GlobpipeError {
  const who = `pid ${owner.pid} on host ${owner.host}, since ${owner.since}`;
  const where =
    owner.host === thisMachine.host ? 'in another pid namespace (a container)' : 'on another host';
  return new GlobpipeError(
    'EUSAGE',
    state === 'live'
      ? `Another in-place run is live on \`${cwd}\` (${who}; lock \`${path}\`): wait for it to end. Nothing was written`
      : `Another in-place run may be live on \`${cwd}\` (${who}; lock \`${path}\`): a run ${where} cannot be checked from here, so it counts as live. If you are sure it no longer runs, delete \`${path}\` and rerun (with --resume if it left a journal). Nothing was written`,
    { path },
  );
}

/**
 * One in-place run per tree: a lock file in cwd, created exclusively and
 * holding who took it. A lock whose owner no longer runs (`kill -9`, a crash,
 * a reboot) is stale and taken over; one from another host cannot be checked
 * and counts as live. Released when the run ends, and synchronously on
 * process exit (the CLI's second Ctrl-C calls process.exit).
 */
export class RunLock {
  readonly path: string;
  readonly #token: string;
  readonly #onExit = () => this.release();
  #held = true;

  private constructor(path: string, token: string) {
    this.path = path;
    this.#token = token;
    process.on('exit', this.#onExit);
  }

  /** Takes the lock of `cwd`, or throws a usage error naming the run that holds it. */
  static async acquire(cwd: string, name = LOCK_NAME): Promise<RunLock> {
    const path = join(cwd, name);
    const me = ownerHere();
    const text = `${JSON.stringify(me)}\n`;
    let damaged = 0;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      try {
        writeExclusive(path, text);
        return new RunLock(path, me.token);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotLock(path, error);
      }
      const found = readLock(path);
      if (found === undefined) continue; // Released meanwhile: try again.
      if (found.owner === undefined) {
        // Maybe a run that created it an instant ago and is writing it: give it time, then count it as left behind.
        damaged += 1;
        if (damaged < 10) {
          await sleep(20);
          continue;
        }
      } else {
        const state = liveness(found.owner);
        if (state !== 'stale') throw busy(path, cwd, found.owner, state);
      }
      if (takeOver(path, found, text, me.token)) return new RunLock(path, me.token);
    }
    const owner = readLock(path)?.owner;
    if (owner !== undefined) throw busy(path, cwd, owner, 'live');
    throw cannotLock(path, new Error('it keeps changing'));
  }

  /** Throws as `acquire` would, without taking the lock: for a dry run, which writes nothing. */
  static check(cwd: string, name = LOCK_NAME): void {
    const path = join(cwd, name);
    const owner = readLock(path)?.owner;
    if (owner === undefined) return;
    const state = liveness(owner);
    if (state !== 'stale') throw busy(path, cwd, owner, state);
  }

  /** Removes the lock, if it is still this run's; idempotent, and synchronous so it can run on exit. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    process.off('exit', this.#onExit);
    try {
      if (readLock(this.path)?.owner?.token === this.#token) unlinkSync(this.path);
    } catch {
      // Gone already, or a directory put there: nothing of ours to remove.
    }
  }
}

/**
 * Replaces a stale lock with ours in one rename (no moment without a lock), unless
 * it changed since it was judged stale; then reads it back: two runs taking
 * over at once both rename, and only the one whose lock is there owns it.
 */
function takeOver(path: string, stale: Found, text: string, token: string): boolean {
  const temp = `${path}.${process.pid}-${token}.tmp`;
  try {
    writeNew(temp, text);
  } catch (error) {
    throw cannotLock(path, error);
  }
  try {
    const now = lstatSync(path, { throwIfNoEntry: false });
    if (now === undefined || now.ino !== stale.ino || now.dev !== stale.dev) return false;
    renameSync(temp, path);
  } catch (error) {
    throw cannotLock(path, error);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed into place.
    }
  }
  return readLock(path)?.owner?.token === token;
}

function cannotLock(path: string, cause: unknown): GlobpipeError {
  const why = (cause as Error | undefined)?.message ?? String(cause);
  return new GlobpipeError('EUSAGE', `Cannot take the in-place lock \`${path}\`: ${why}`, { cause, path });
}
