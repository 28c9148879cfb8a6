import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GlobpipeError } from '../errors.js';

/** Lives in cwd while an in-place run goes; never globbed (nor the temp names of a takeover beside it). */
export const LOCK_NAME = '.globpipe-lock';

/** What a lock file says about the run that holds it. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** `/proc/sys/kernel/random/boot_id`: a lock from before a reboot is stale whatever its pid. */
  readonly boot: string | null;
  /** `/proc/self/ns/pid` (`pid:[4026531836]`): its pid means something only in that namespace. */
  readonly ns: string | null;
  /** Field 22 of `/proc/<pid>/stat` (clock ticks after boot): tells the owner from a later process given its pid. */
  readonly start: string | null;
  /** When the lock was taken (ISO time), for the message. */
  readonly since: string;
  /** Random: a run tells its own lock from another run's in the same process. */
  readonly token: string;
}

/** What can be learnt about processes here; a test passes its own. */
export interface Machine {
  readonly host: string;
  readonly boot: string | null;
  readonly ns: string | null;
  /** `undefined`: no such process (or a zombie); otherwise its start time, `null` where it cannot be read. */
  startOf(pid: number): string | null | undefined;
}

/**
 * `live`: the owner runs, here. `stale`: it does not (killed, crashed, or
 * before a reboot), so the lock may be taken over. `unverifiable`: it was
 * taken on another host, or in another pid namespace (a container sharing the
 * tree), where its pid means nothing to us: counted as live.
 */
export type Liveness = 'live' | 'stale' | 'unverifiable';

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** State and start time from `/proc/<pid>/stat`; `undefined` without /proc or without that process. */
function procStat(pid: number): { state: string; start: string } | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return undefined;
  // `4242 (node) S 1 ...`: the command name may hold spaces and parentheses, so count fields after the last `)`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, start] = [fields[0], fields[19]];
  return state === undefined || start === undefined ? undefined : { state, start };
}

function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This machine, as /proc and the kernel tell it. */
export const thisMachine: Machine = {
  host: hostname(),
  boot: readText('/proc/sys/kernel/random/boot_id'),
  ns: pidNamespace(),
  startOf(pid) {
    const stat = procStat(pid);
    if (stat !== undefined) return stat.state === 'Z' || stat.state === 'X' ? undefined : stat.start;
    // No /proc here, or a /proc that hides other users' processes (hidepid): the pid alone must do.
    return pidExists(pid) ? null : undefined;
  },
};

/** Whether the run that wrote `owner` still runs (see Liveness). */
export function liveness(owner: LockOwner, machine: Machine = thisMachine): Liveness {
  if (owner.host !== machine.host) return 'unverifiable';
  if (owner.boot !== null && machine.boot !== null && owner.boot !== machine.boot) return 'stale';
  if (owner.ns !== null && machine.ns !== null && owner.ns !== machine.ns) return 'unverifiable';
  const start = machine.startOf(owner.pid);
  if (start === undefined) return 'stale';
  // Another process was given the pid since: the owner is gone.
  if (owner.start !== null && start !== null && owner.start !== start) return 'stale';
  return 'live';
}

/** The owner a lock file's text names, or `undefined` for text that is not a lock (damaged, cut short). */
export function parseLock(text: string): LockOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as Partial<Record<keyof LockOwner, unknown>> | null;
  const orNull = (x: unknown) => x === null || typeof x === 'string';
  if (
    typeof v !== 'object' ||
    v === null ||
    // process.kill(0 or a negative pid) would reach a whole process group.
    typeof v.pid !== 'number' ||
    !Number.isSafeInteger(v.pid) ||
    v.pid < 1 ||
    typeof v.host !== 'string' ||
    !orNull(v.boot) ||
    // Older locks name no namespace.
    !(v.ns === undefined || orNull(v.ns)) ||
    !orNull(v.start) ||
    typeof v.since !== 'string' ||
    typeof v.token !== 'string'
  ) {
    return undefined;
  }
  return { ...(v as LockOwner), ns: (v.ns as string | null | undefined) ?? null };
}

function ownerHere(): LockOwner {
  return {
    pid: process.pid,
    host: thisMachine.host,
    boot: thisMachine.boot,
    ns: thisMachine.ns,
    start: procStat(process.pid)?.start ?? null,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
}

/** Creates `path` holding `text`, only if nothing is there (not even a symlink), readable by its owner only. */
function writeExclusive(path: string, text: string): void {
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
  static async acquire(cwd: string): Promise<RunLock> {
    const path = join(cwd, LOCK_NAME);
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
  static check(cwd: string): void {
    const path = join(cwd, LOCK_NAME);
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
    writeExclusive(temp, text);
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
