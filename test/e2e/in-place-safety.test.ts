import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bin, readTree, root, runCli, tempDir, writeTree } from '../helpers.js';

const LOCK = '.globpipe-lock';
const JOURNAL = '.globpipe-journal.jsonl';
/** Appends a line after a pause: applying it twice to one file would show. */
const STAMP = 'sleep 0.4; cat; echo stamped';

function startCli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, done };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function journalLines(cwd: string): number {
  const path = join(cwd, JOURNAL);
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

function files(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`d${i % 2}/f${i}.txt`, `file ${i}\n`]));
}

/** Every input stamped exactly once, and nothing of globpipe's left in the tree. */
function expectStampedOnce(cwd: string, inputs: Record<string, string>): void {
  expect(readTree(cwd)).toEqual(
    new Map(Object.entries(inputs).map(([path, content]) => [path, Buffer.from(`${content}stamped\n`)])),
  );
}

describe('one in-place run per tree', () => {
  it('a second run, a --resume and a dry run on a live run are refused at once; the live run is not disturbed', async () => {
    const inputs = files(5);
    const cwd = writeTree(inputs);
    // 5 s in all: it outlives every refusal below, or the last would find no lock.
    const first = startCli(['-C', cwd, '--in-place', '-j', '1', '--exec', 'sleep 1; cat; echo stamped']);
    await until(() => existsSync(join(cwd, LOCK)), 'the lock');
    const lock = readFileSync(join(cwd, LOCK), 'utf8');
    const pid = first.child.pid as number;
    expect(JSON.parse(lock)).toMatchObject({ pid, host: hostname() });

    for (const extra of [[], ['--resume'], ['--dry-run'], ['--dot']]) {
      const started = Date.now();
      const second = await runCli(['-C', cwd, '--in-place', '--exec', STAMP, ...extra]);
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toContain(
        `globpipe: Another in-place run is live on \`${cwd}\` (pid ${pid} on host ${hostname()}`,
      );
      expect(second.stderr).toContain('Nothing was written');
      // Never taken for an interrupted run.
      expect(second.stderr).not.toContain('interrupted');
      expect(second.stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(readFileSync(join(cwd, LOCK), 'utf8')).toBe(lock);
    }

    const result = await first.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('5 written');
    expectStampedOnce(cwd, inputs);
  }, 30_000);

  it('after kill -9, the stale lock is taken over and --resume finishes the run', async () => {
    const inputs = files(6);
    const cwd = writeTree(inputs);
    const first = startCli(['-C', cwd, '--in-place', '-j', '1', '--exec', STAMP]);
    // Header and two files journaled: killed mid-run.
    await until(() => journalLines(cwd) >= 3, 'two files journaled');
    first.child.kill('SIGKILL');
    await first.done;
    const stale = JSON.parse(readFileSync(join(cwd, LOCK), 'utf8')) as { pid: number };
    expect(stale.pid).toBe(first.child.pid);

    // Without --resume: the journal is an interrupted run's now, and the lock no obstacle.
    const plain = await runCli(['-C', cwd, '--in-place', '--exec', STAMP]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('An interrupted in-place run left its journal');
    expect(existsSync(join(cwd, LOCK))).toBe(false);

    writeFileSync(join(cwd, LOCK), `${JSON.stringify(stale)}\n`);
    const resumed = await runCli(['-C', cwd, '--in-place', '--resume', '--exec', STAMP]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/, \d+ skipped \(finished by the interrupted run\), 0 failed/);
    expectStampedOnce(cwd, inputs);
  }, 30_000);

  it('a lock from another host counts as live, and the message says how to remove it', async () => {
    const inputs = files(2);
    const cwd = writeTree(inputs);
    const lock = join(cwd, LOCK);
    const foreign = {
      pid: 4242,
      host: 'ci-runner-7.example',
      boot: null,
      ns: null,
      start: null,
      since: '2026-01-01T00:00:00.000Z',
      token: 'abc',
    };
    writeFileSync(lock, JSON.stringify(foreign));
    const before = readTree(cwd);
    const refused = await runCli(['-C', cwd, '--in-place', '--exec', STAMP]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pid 4242 on host ci-runner-7.example');
    expect(refused.stderr).toContain(`If you are sure it no longer runs, delete \`${lock}\``);
    expect(readTree(cwd)).toEqual(before);
  });

  it('the glob never matches the lock, even with --dot', async () => {
    const inputs = files(3);
    const cwd = writeTree(inputs);
    // Left by a dead run, with a takeover temp of one beside it: neither is an input.
    writeFileSync(join(cwd, LOCK), '{"pid":');
    writeFileSync(join(cwd, `${LOCK}.4242-abcdef.tmp`), '{"pid":');
    const dotted = await runCli(['-C', cwd, '--in-place', '--dot', '--json', '--exec', 'cat; echo stamped']);
    expect(dotted.code, dotted.stderr).toBe(0);
    const inputsSeen = dotted.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; input?: string })
      .filter((event) => event.type === 'file')
      .map((event) => event.input)
      .sort();
    expect(inputsSeen).toEqual(Object.keys(inputs).sort());
    expect(readdirSync(cwd).sort()).toEqual([`${LOCK}.4242-abcdef.tmp`, 'd0', 'd1']);
  });

  it("a hard exit mid-run (process.exit, as on the CLI's second Ctrl-C) still releases the lock", async () => {
    const cwd = writeTree(files(3));
    const script = `
      import { existsSync } from 'node:fs';
      import { run } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
      const cwd = ${JSON.stringify(cwd)};
      await run({ cwd, inPlace: true, concurrency: 1, transforms: [{ name: 'exit', buffer() {
        if (!existsSync(cwd + '/${LOCK}')) process.exit(3);
        process.exit(7);
      } }] });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(7);
    expect(readdirSync(cwd).sort()).toEqual([JOURNAL, 'd0', 'd1']);
  }, 30_000);
});

describe('--resume trusts its journal only for renames inside --cwd', () => {
  const TEMP = '4242-abc123-1.globpipe-tmp';

  /**
   * A tree interrupted with one rename pending (`.a.txt.<...>` -> `a.txt`, line 2), a
   * journal whose line 3 is `line`, and a directory outside it holding what a forged line
   * would reach for. The resume must be refused naming line 3, and nothing renamed anywhere:
   * not even the valid rename of line 2.
   */
  async function expectForgedRefused(
    line: (paths: { cwd: string; outside: string }) => string,
    message: string,
    setup: (paths: { cwd: string; outside: string }) => void = () => {},
    headerFields: object | undefined = undefined,
  ): Promise<void> {
    const cwd = writeTree({ 'a.txt': 'old a\n', 'sub/b.txt': 'old b\n', [`.a.txt.${TEMP}`]: 'new a\n' });
    const outside = writeTree({ passwd: 'root:x:0:0\n', [`.passwd.${TEMP}`]: 'evil::0:0\n' });
    setup({ cwd, outside });
    const header = headerFields ?? { globpipe: 1, transforms: 'copy', cwd: realpathSync(cwd) };
    const journal = join(cwd, JOURNAL);
    writeFileSync(
      journal,
      [
        JSON.stringify(header),
        JSON.stringify({ path: 'a.txt', renames: [[`.a.txt.${TEMP}`, 'a.txt']] }),
        line({ cwd, outside }),
        JSON.stringify({ path: 'sub/b.txt', renames: [] }),
        '',
      ].join('\n'),
    );
    const before = [readTree(cwd), readTree(outside)];
    const result = await runCli(['-C', cwd, '--in-place', '--resume']);
    expect(result.code, result.stderr).toBe(2);
    const lineNumber = headerFields === undefined ? 3 : 1;
    expect(result.stderr).toContain(`journal \`${journal}\`, line ${lineNumber}`);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('nothing was renamed');
    expect([readTree(cwd), readTree(outside)]).toEqual(before);
  }

  const record = (path: string, temp: string, dest: string) =>
    JSON.stringify({ path, renames: [[temp, dest]] });

  it('a rename of a file outside --cwd, by absolute path', async () => {
    await expectForgedRefused(
      ({ outside }) => record('a.txt', join(outside, `.passwd.${TEMP}`), join(outside, 'passwd')),
      'is not a plain path inside --cwd',
    );
  });

  it('a `..` path, out of --cwd or back into it', async () => {
    await expectForgedRefused(
      ({ cwd, outside }) =>
        record(
          'a.txt',
          join(relativeTo(cwd, outside), `.passwd.${TEMP}`),
          join(relativeTo(cwd, outside), 'passwd'),
        ),
      'is not a plain path inside --cwd',
    );
    await expectForgedRefused(
      () => record('a.txt', `sub/../.a.txt.${TEMP}`, 'sub/../a.txt'),
      '`sub/../.a.txt.4242-abc123-1.globpipe-tmp` is not a plain path inside --cwd',
    );
    await expectForgedRefused(
      () => record('../a.txt', `.a.txt.${TEMP}`, 'a.txt'),
      '`../a.txt` is not an input path inside --cwd',
    );
  });

  it('a temp that is not a globpipe temp', async () => {
    await expectForgedRefused(
      () => record('sub/b.txt', 'sub/evil.txt', 'sub/b.txt'),
      '`sub/evil.txt` is not a globpipe temp file of `sub/b.txt`',
      ({ cwd }) => writeFileSync(join(cwd, 'sub', 'evil.txt'), 'evil\n'),
    );
    // The right pattern, in another directory than its destination's.
    await expectForgedRefused(
      () => record('sub/b.txt', `.b.txt.${TEMP}`, 'sub/b.txt'),
      `\`.b.txt.${TEMP}\` is not a globpipe temp file of \`sub/b.txt\``,
      ({ cwd }) => writeFileSync(join(cwd, `.b.txt.${TEMP}`), 'evil\n'),
    );
  });

  it("a destination that is not the temp's matching input", async () => {
    // The temp of a.txt over b.txt.
    await expectForgedRefused(
      () => record('sub/b.txt', `sub/.a.txt.${TEMP}`, 'sub/b.txt'),
      `\`sub/.a.txt.${TEMP}\` is not a globpipe temp file of \`sub/b.txt\``,
      ({ cwd }) => writeFileSync(join(cwd, 'sub', `.a.txt.${TEMP}`), 'evil\n'),
    );
    // A well-formed rename onto another file than the line's input.
    await expectForgedRefused(
      () => record('a.txt', `sub/.b.txt.${TEMP}`, 'sub/b.txt'),
      '`sub/b.txt` is not where this run writes `a.txt` (`a.txt`; resume with the options of the interrupted run)',
      ({ cwd }) => writeFileSync(join(cwd, 'sub', `.b.txt.${TEMP}`), 'evil\n'),
    );
  });

  it('a symlinked directory leading out of --cwd', async () => {
    await expectForgedRefused(
      () => record('link/passwd', `link/.passwd.${TEMP}`, 'link/passwd'),
      `\`link/passwd\` is in \``,
      ({ cwd, outside }) => symlinkSync(outside, join(cwd, 'link')),
    );
  });

  it('a temp that is not a regular file', async () => {
    await expectForgedRefused(
      () => record('sub/b.txt', `sub/.b.txt.${TEMP}`, 'sub/b.txt'),
      `\`sub/.b.txt.${TEMP}\` is not a regular file`,
      ({ cwd, outside }) => symlinkSync(join(outside, 'passwd'), join(cwd, 'sub', `.b.txt.${TEMP}`)),
    );
  });

  it('a damaged line before the last', async () => {
    await expectForgedRefused(
      () => '{"path":"a.txt","renames":[[',
      'the journal is damaged (unreadable line',
    );
    await expectForgedRefused(() => '', 'the journal is damaged');
    await expectForgedRefused(() => '{"path":"a.txt"}', 'the journal is damaged (not a record');
  });

  it('a header for another directory, or naming none', async () => {
    const other = tempDir();
    await expectForgedRefused(
      () => record('sub/b.txt', `sub/.b.txt.${TEMP}`, 'sub/b.txt'),
      `it was written for \`${realpathSync(other)}\`, not for --cwd`,
      () => {},
      { globpipe: 1, transforms: 'copy', cwd: realpathSync(other) },
    );
    await expectForgedRefused(
      () => record('sub/b.txt', `sub/.b.txt.${TEMP}`, 'sub/b.txt'),
      'its header does not name the directory it was written for',
      () => {},
      { globpipe: 1, transforms: 'copy' },
    );
  });

  it('a valid journal is finished: pending renames done, a last line cut short ignored', async () => {
    const cwd = writeTree({ 'a.txt': 'old a\n', 'sub/b.txt': 'old b\n', 'sub/c.txt': 'old c\n' });
    writeFileSync(join(cwd, 'sub', `.b.txt.${TEMP}`), 'new b\n');
    writeFileSync(
      join(cwd, JOURNAL),
      [
        JSON.stringify({ globpipe: 1, transforms: 'copy', cwd: realpathSync(cwd) }),
        // Renamed before the crash: its temp is gone.
        record('a.txt', `.a.txt.${TEMP}`, 'a.txt'),
        record('sub/b.txt', `sub/.b.txt.${TEMP}`, 'sub/b.txt'),
        '{"path":"sub/c.txt","ren',
      ].join('\n'),
    );
    const result = await runCli(['-C', cwd, '--in-place', '--resume', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const statuses = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; input?: string; status?: string })
      .filter((event) => event.type === 'file')
      .map((event) => [event.input, event.status])
      .sort();
    expect(statuses).toEqual([
      ['a.txt', 'skipped'],
      ['sub/b.txt', 'skipped'],
      ['sub/c.txt', 'written'],
    ]);
    expect(readTree(cwd)).toEqual(
      new Map([
        ['a.txt', Buffer.from('old a\n')],
        ['sub/b.txt', Buffer.from('new b\n')],
        ['sub/c.txt', Buffer.from('old c\n')],
      ]),
    );
  });

  it('a journal written through another spelling of --cwd (a symlink to it) resumes', async () => {
    const cwd = writeTree({ 'a.txt': 'old a\n' });
    const link = join(tempDir(), 'tree');
    symlinkSync(cwd, link);
    mkdirSync(join(cwd, 'sub'));
    writeFileSync(join(cwd, 'sub', 'b.txt'), 'old b\n');
    writeFileSync(join(cwd, 'sub', `.b.txt.${TEMP}`), 'new b\n');
    writeFileSync(
      join(cwd, JOURNAL),
      `${JSON.stringify({ globpipe: 1, transforms: 'copy', cwd: realpathSync(cwd) })}\n${record('sub/b.txt', `sub/.b.txt.${TEMP}`, 'sub/b.txt')}\n`,
    );
    const result = await runCli(['-C', link, '--in-place', '--resume']);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'sub', 'b.txt'), 'utf8')).toBe('new b\n');
    expect(readdirSync(cwd).sort()).toEqual(['a.txt', 'sub']);
  });
});

function relativeTo(from: string, to: string): string {
  const up = from
    .split('/')
    .filter(Boolean)
    .map(() => '..');
  return [...up, ...to.split('/').filter(Boolean)].join('/');
}
