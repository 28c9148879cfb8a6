import { readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';

// node:crypto on first use only: loading it costs a run ~10 ms of OpenSSL's start.
const load = createRequire(import.meta.url);

/**
 * Where this process runs, as far as a pid means anything: the host, the boot and the pid
 * namespace. A pid seen in a lock or a temp name tells whether its run is alive only when
 * it was taken in this same place (lock-owner.ts, io/atomic.ts).
 */
export interface Place {
  readonly host: string;
  /** `/proc/sys/kernel/random/boot_id`; null without /proc. */
  readonly boot: string | null;
  /** `/proc/self/ns/pid` (`pid:[4026531836]`); null without /proc. */
  readonly ns: string | null;
}

export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

export const here: Place = {
  host: hostname(),
  boot: readText('/proc/sys/kernel/random/boot_id'),
  ns: pidNamespace(),
};

/** Whether a process with this pid exists here (EPERM: it does, as another user's). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `bytes` random bytes in hex (lock file names and owner tokens: in-place runs only). */
export function randomHex(bytes: number): string {
  const { randomBytes } = load('node:crypto') as typeof import('node:crypto');
  return randomBytes(bytes).toString('hex');
}
