import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GlobpipeError } from '../../src/errors.js';
import { Journal, type JournalOptions } from '../../src/run/journal.js';
import {
  LOCK_NAME,
  type LockOwner,
  liveness,
  type Machine,
  parseLock,
  RunLock,
  thisMachine,
} from '../../src/run/lock.js';
import { readTree, tempDir } from '../helpers.js';

const hasProc = existsSync('/proc/self/stat');

/** Field 22 of /proc/<pid>/stat, as the lock records it. */
function startOf(pid: number): string | null {
  if (!hasProc) return null;
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

/** A pid that no process has now: one that just ran and was reaped. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '0']);
  return pid as number;
}

function owner(fields: Partial<LockOwner> = {}): LockOwner {
  return {
    pid: process.pid,
    host: thisMachine.host,
    boot: thisMachine.boot,
    ns: thisMachine.ns,
    start: startOf(process.pid),
    since: '2026-01-01T00:00:00.000Z',
    token: 'f00d',
    ...fields,
  };
}

function writeLock(dir: string, fields: Partial<LockOwner>): void {
  writeFileSync(join(dir, LOCK_NAME), `${JSON.stringify(owner(fields))}\n`);
}

async function refusal(promise: Promise<unknown>): Promise<GlobpipeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GlobpipeError);
  expect((error as GlobpipeError).isUsageError).toBe(true);
  return error as GlobpipeError;
}

describe('liveness of a lock', () => {
  it('a live pid with its own start time is live', () => {
    expect(liveness(owner())).toBe('live');
  });

  it('a dead pid is stale', () => {
    expect(liveness(owner({ pid: deadPid() }))).toBe('stale');
  });

  it.skipIf(!hasProc)('a live pid with another start time is stale: the pid was reused', () => {
    expect(liveness(owner({ start: '1' }))).toBe('stale');
  });

  it('a lock from another host cannot be checked: unverifiable, whatever its pid', () => {
    expect(liveness(owner({ host: `not-${hostname()}`, pid: deadPid() }))).toBe('unverifiable');
  });

  it.skipIf(!hasProc)(
    'a lock from another pid namespace (a container on this host) cannot be checked',
    () => {
      expect(liveness(owner({ ns: 'pid:[1]', pid: deadPid() }))).toBe('unverifiable');
    },
  );

  it.skipIf(!hasProc)('a lock from before a reboot is stale, even if its pid runs again', () => {
    expect(liveness(owner({ boot: '00000000-0000-0000-0000-000000000000' }))).toBe('stale');
  });

  it('without /proc, the pid alone decides', () => {
    const machine = (alive: boolean): Machine => ({
      host: 'box',
      boot: null,
      ns: null,
      startOf: () => (alive ? null : undefined),
    });
    const lock = owner({ host: 'box', boot: null, ns: null, start: '99' });
    expect(liveness(lock, machine(true))).toBe('live');
    expect(liveness(lock, machine(false))).toBe('stale');
  });

  it('reads only well-formed locks; a pid that would name a process group is not one', () => {
    expect(parseLock(JSON.stringify(owner()))).toEqual(owner());
    for (const text of [
      '',
      '{"pid":12',
      'null',
      JSON.stringify(owner({ pid: 0 })),
      JSON.stringify(owner({ pid: -1 })),
      JSON.stringify(owner({ pid: 1.5 })),
      JSON.stringify({ ...owner(), host: undefined }),
    ]) {
      expect(parseLock(text), text).toBeUndefined();
    }
  });
});

describe('RunLock', () => {
  it('creates the lock exclusively, readable by its owner only, and removes it on release', async () => {
    const dir = tempDir();
    const exits = process.listenerCount('exit');
    const lock = await RunLock.acquire(dir);
    const held = parseLock(readFileSync(lock.path, 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, host: hostname(), start: startOf(process.pid) });
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    // Held: released synchronously on process exit too (the CLI's second Ctrl-C calls process.exit).
    expect(process.listenerCount('exit')).toBe(exits + 1);
    lock.release();
    expect(process.listenerCount('exit')).toBe(exits);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses while another run holds it, naming its pid and host', async () => {
    const dir = tempDir();
    const child = spawn('sleep', ['30']);
    try {
      const pid = child.pid as number;
      writeLock(dir, { pid, start: startOf(pid) });
      const before = readTree(dir);
      const error = await refusal(RunLock.acquire(dir));
      expect(error.message).toContain(`Another in-place run is live on \`${dir}\``);
      expect(error.message).toContain(`pid ${pid} on host ${hostname()}`);
      expect(() => RunLock.check(dir)).toThrow(`pid ${pid}`);
      expect(readTree(dir)).toEqual(before);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a second lock in the same process: two runs there are two runs too', async () => {
    const dir = tempDir();
    const lock = await RunLock.acquire(dir);
    try {
      expect((await refusal(RunLock.acquire(dir))).message).toContain(`pid ${process.pid}`);
    } finally {
      lock.release();
    }
  });

  it('refuses a lock from another host, and says how to remove it', async () => {
    const dir = tempDir();
    writeLock(dir, { host: 'build-7.elsewhere', pid: 4242 });
    const error = await refusal(RunLock.acquire(dir));
    expect(error.message).toContain('pid 4242 on host build-7.elsewhere');
    expect(error.message).toContain('cannot be checked from here');
    expect(error.message).toContain(`delete \`${join(dir, LOCK_NAME)}\``);
  });

  it.skipIf(!hasProc)('refuses a lock from another pid namespace on this host, naming it', async () => {
    const dir = tempDir();
    writeLock(dir, { ns: 'pid:[1]', pid: deadPid() });
    const error = await refusal(RunLock.acquire(dir));
    expect(error.message).toContain(
      'a run in another pid namespace (a container) cannot be checked from here',
    );
  });

  it.each([
    ['a dead pid', true, (): Partial<LockOwner> => ({ pid: deadPid() })],
    // Only /proc tells a reused pid.
    ['a reused pid (live, another start time)', hasProc, (): Partial<LockOwner> => ({ start: '1' })],
  ])('takes over a stale lock: %s', async (_, applies, fields) => {
    if (!applies) return;
    const dir = tempDir();
    writeLock(dir, fields());
    const lock = await RunLock.acquire(dir);
    const held = parseLock(readFileSync(lock.path, 'utf8'));
    expect(held?.pid).toBe(process.pid);
    expect(held?.token).not.toBe('f00d');
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    lock.release();
    // No takeover temp left beside it.
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a damaged lock (a run killed as it wrote it), and one replaced by a symlink', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_NAME), '{"pid":');
    const lock = await RunLock.acquire(dir);
    lock.release();
    const outside = join(tempDir(), 'target');
    writeFileSync(outside, 'not yours');
    symlinkSync(outside, join(dir, LOCK_NAME));
    const again = await RunLock.acquire(dir);
    expect(parseLock(readFileSync(again.path, 'utf8'))?.pid).toBe(process.pid);
    again.release();
    expect(readFileSync(outside, 'utf8')).toBe('not yours');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('release leaves alone a lock that is no longer its own', async () => {
    const dir = tempDir();
    const lock = await RunLock.acquire(dir);
    writeLock(dir, { host: 'elsewhere' });
    lock.release();
    expect(parseLock(readFileSync(lock.path, 'utf8'))?.host).toBe('elsewhere');
  });
});

describe('Journal', () => {
  function options(cwd: string, fields: Partial<JournalOptions> = {}): JournalOptions {
    return {
      cwd,
      realCwd: realpathSync(cwd),
      transforms: 'copy',
      resume: true,
      dryRun: false,
      fsync: false,
      outputsOf: (path) => [join(cwd, path)],
      ...fields,
    };
  }
  const header = (cwd: string) => JSON.stringify({ globpipe: 1, transforms: 'copy', cwd: realpathSync(cwd) });

  it('holds the lock while open and releases it on close, completed or not', async () => {
    const cwd = tempDir();
    const journal = await Journal.open(options(cwd, { resume: false }));
    expect(readdirSync(cwd).sort()).toEqual(['.globpipe-journal.jsonl', LOCK_NAME]);
    await refusal(Journal.open(options(cwd)));
    await journal.close(false);
    expect(readdirSync(cwd)).toEqual(['.globpipe-journal.jsonl']);
    expect(readFileSync(journal.path, 'utf8')).toBe(`${header(cwd)}\n`);
  });

  it('releases the lock when opening the journal fails', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, '.globpipe-journal.jsonl'), `${header(cwd)}\n`);
    await refusal(Journal.open(options(cwd, { resume: false })));
    expect(readdirSync(cwd)).toEqual(['.globpipe-journal.jsonl']);
  });

  it('records renames relative to cwd, and a resume finishes them and skips their files', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'sub'));
    writeFileSync(join(cwd, 'sub', 'a.txt'), 'old');
    const temp = join(cwd, 'sub', '.a.txt.4242-abc123-1.globpipe-tmp');
    writeFileSync(temp, 'new');
    const first = await Journal.open(options(cwd, { resume: false }));
    await first.record('sub/a.txt', [[temp, join(cwd, 'sub', 'a.txt')]]);
    await first.close(false);
    expect(readFileSync(first.path, 'utf8').split('\n')[1]).toBe(
      '{"path":"sub/a.txt","renames":[["sub/.a.txt.4242-abc123-1.globpipe-tmp","sub/a.txt"]]}',
    );
    const resumed = await Journal.open(options(cwd));
    expect(resumed.isDone('sub/a.txt')).toBe(true);
    expect(readFileSync(join(cwd, 'sub', 'a.txt'), 'utf8')).toBe('new');
    await resumed.close(true);
    expect(readdirSync(cwd)).toEqual(['sub']);
  });

  it('drops a last line cut short, so the next record starts on its own line', async () => {
    const cwd = tempDir();
    const path = join(cwd, '.globpipe-journal.jsonl');
    writeFileSync(path, `${header(cwd)}\n{"path":"a.txt","ren`);
    const journal = await Journal.open(options(cwd));
    expect(journal.isDone('a.txt')).toBe(false);
    await journal.record('b.txt', []);
    await journal.close(false);
    expect(readFileSync(path, 'utf8')).toBe(`${header(cwd)}\n{"path":"b.txt","renames":[]}\n`);
  });

  it('a record taken back (undone) renames nothing on resume and leaves its file to redo', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a.txt'), 'old');
    writeFileSync(join(cwd, '.a.txt.4242-abc123-1.globpipe-tmp'), 'new');
    writeFileSync(
      join(cwd, '.globpipe-journal.jsonl'),
      `${header(cwd)}\n{"path":"a.txt","renames":[[".a.txt.4242-abc123-1.globpipe-tmp","a.txt"]]}\n{"undone":"a.txt"}\n`,
    );
    const journal = await Journal.open(options(cwd));
    expect(journal.isDone('a.txt')).toBe(false);
    expect(readFileSync(join(cwd, 'a.txt'), 'utf8')).toBe('old');
    await journal.close(true);
  });

  it('keeps the first 180 characters of a long name in its temp, as tempPathFor does', async () => {
    const cwd = tempDir();
    const name = `${'n'.repeat(200)}.txt`;
    writeFileSync(join(cwd, name), 'old');
    const temp = `.${name.slice(0, 180)}.4242-abc123-1.globpipe-tmp`;
    writeFileSync(join(cwd, temp), 'new');
    writeFileSync(
      join(cwd, '.globpipe-journal.jsonl'),
      `${header(cwd)}\n${JSON.stringify({ path: name, renames: [[temp, name]] })}\n`,
    );
    const journal = await Journal.open(options(cwd));
    expect(readFileSync(join(cwd, name), 'utf8')).toBe('new');
    await journal.close(true);
  });
});
