import { here, pidExists, randomHex, readText } from '../place.js';

/**
 * Who holds an in-place lock (lock.ts), and whether that run still runs: what a pid,
 * a host, a boot and a pid namespace tell, and cannot tell, about a process.
 */

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

/** State and start time from `/proc/<pid>/stat`; `undefined` without /proc or without that process. */
function procStat(pid: number): { state: string; start: string } | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return undefined;
  // `4242 (node) S 1 ...`: the command name may hold spaces and parentheses, so count fields after the last `)`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, start] = [fields[0], fields[19]];
  return state === undefined || start === undefined ? undefined : { state, start };
}

/** This machine, as /proc and the kernel tell it. */
export const thisMachine: Machine = {
  ...here,
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

export function ownerHere(): LockOwner {
  return {
    pid: process.pid,
    host: thisMachine.host,
    boot: thisMachine.boot,
    ns: thisMachine.ns,
    start: procStat(process.pid)?.start ?? null,
    since: new Date().toISOString(),
    token: randomHex(8),
  };
}
