import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bin, readTree, root, runCli, writeTree } from '../helpers.js';

/** Appends a line after a pause: applied twice to one file, it shows. */
const STAMP = 'sleep 0.3; cat; echo stamped';
const SHARD_JOURNAL = '.globpipe-journal.1-of-2.jsonl';

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { cwd: root, stdio: 'ignore' });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0);

/** Shard 1/2 of an in-place run over 16 files, killed (-9) once it has journaled two files. */
async function interruptedShard() {
  const names = Array.from({ length: 16 }, (_, i) => `f${String(i).padStart(2, '0')}.txt`);
  const cwd = writeTree(Object.fromEntries(names.map((name) => [name, `${name}\n`])));
  const child = start(['-C', cwd, '--in-place', '-j', '1', '--exec', STAMP, '--shard', '1/2']);
  const closed = new Promise((resolve) => child.on('close', resolve));
  await until(() => lines(join(cwd, SHARD_JOURNAL)) >= 3, 'two files journaled');
  child.kill('SIGKILL');
  await closed;
  return { cwd, before: readTree(cwd) };
}

describe('in place, a shard interrupted', () => {
  it.each([
    ['a run over the whole tree', [] as string[]],
    ['a shard of another count', ['--shard', '1/3']],
  ])(
    'holds up %s over the same tree until it is resumed: no file is transformed twice',
    async (_, shard) => {
      const { cwd, before } = await interruptedShard();
      const result = await runCli(['-C', cwd, '--in-place', '--exec', STAMP, ...shard]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(
        `An in-place run of shard 1/2 has its journal \`${join(cwd, SHARD_JOURNAL)}\` here (interrupted, or still running), ` +
          'over files this run would take too: finish it with --resume --shard 1/2, or delete the journal to start over',
      );
      expect(readTree(cwd)).toEqual(before);
      // Its own shard resumes it, and no file ends up stamped twice.
      const resumed = await runCli(['-C', cwd, '--in-place', '--exec', STAMP, '--shard', '1/2', '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const rest = await runCli(['-C', cwd, '--in-place', '--exec', STAMP, '--shard', '2/2']);
      expect(rest.code, rest.stderr).toBe(0);
      for (const [name, content] of readTree(cwd))
        expect(content.toString(), name).toBe(`${name}\nstamped\n`);
    },
    30_000,
  );

  it('does not hold up the other shard of its own count', async () => {
    const { cwd } = await interruptedShard();
    const other = await runCli(['-C', cwd, '--in-place', '--exec', STAMP, '--shard', '2/2']);
    expect(other.code, other.stderr).toBe(0);
  }, 30_000);
});
