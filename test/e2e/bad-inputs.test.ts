import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FileResult, run } from '../../src/index.js';
import { faultyPort } from '../faults.js';
import {
  bin,
  keepAllFor,
  keepAllOptions,
  publicBin,
  readTree,
  root,
  runCli,
  tempDir,
  writeTree,
} from '../helpers.js';

const TEMP = /\.globpipe-tmp$/;
const isRoot = process.getuid?.() === 0;

/** Files whose content names them: `content of a.txt`. */
function tree(names: string[]): string {
  return writeTree(Object.fromEntries(names.map((name) => [name, `content of ${name}\n`])));
}

function noTemps(dir: string): void {
  expect(
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((p) => TEMP.test(p)),
  ).toEqual([]);
}

/** The good files were written exactly. */
function expectCopied(_cwd: string, out: string, names: string[]): void {
  const written = readTree(out);
  for (const name of names) expect(written.get(name)?.toString(), name).toBe(`content of ${name}\n`);
}

describe('inputs that change between the glob and the read', () => {
  it.each([
    [
      'deleted',
      (path: string) => unlinkSync(path),
      /cannot read victim\.txt: ENOENT: no such file or directory/,
    ],
    [
      'replaced by a directory',
      (path: string) => {
        unlinkSync(path);
        mkdirSync(path);
      },
      /victim\.txt: not a regular file: it is a directory|EISDIR/,
    ],
  ])('a file %s after it was matched fails alone, named with the cause', async (_name, change, message) => {
    for (const transforms of [['copy'], ['gzip']]) {
      const names = ['a.txt', 'victim.txt', 'z/b.txt'];
      const cwd = tree(names);
      const out = tempDir();
      const results: FileResult[] = [];
      const summary = await run({
        cwd,
        out,
        transforms,
        ...(transforms[0] === 'gzip' ? keepAllOptions : {}),
        concurrency: 1,
        onEvent(event) {
          // The glob reports a match before the queue reaches it: change the file in between.
          if (event.type === 'match' && event.path === 'victim.txt') change(join(cwd, 'victim.txt'));
          if (event.type === 'file') results.push(event.result);
        },
      });
      expect(summary.failed).toBe(1);
      expect(summary.failures[0]?.path).toBe('victim.txt');
      expect(`${summary.failures[0]?.path}: ${summary.failures[0]?.message}`).toMatch(message);
      expect(summary.written).toBe(2);
      noTemps(out);
    }
  });
});

describe('special files matched by a pattern', () => {
  it('a FIFO and a socket fail with what they are, without blocking', async () => {
    const names = ['a.txt', 'b/c.txt'];
    const cwd = tree(names);
    execFileSync('mkfifo', [join(cwd, 'pipe')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(cwd, 'sock'), resolve));
    try {
      const out = tempDir();
      const result = await runCli(['-C', cwd, '-o', out]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('failed: pipe: not a regular file: it is a FIFO (named pipe)');
      expect(result.stderr).toContain('failed: sock: not a regular file: it is a socket');
      expectCopied(cwd, out, names);
      expect(readTree(out).size).toBe(2);
    } finally {
      server.close();
    }
  });
});

describe('symbolic links', () => {
  it('without --follow-symlinks they are skipped with a reason; the run succeeds', async () => {
    const cwd = tree(['a.txt']);
    symlinkSync('a.txt', join(cwd, 'link.txt'));
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-o', out, '--json']);
    expect(result.code).toBe(0);
    const link = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((line) => line.input === 'link.txt');
    expect(link).toMatchObject({
      status: 'skipped',
      reason: 'symbolic link (not followed without --follow-symlinks)',
    });
  });

  it('with --follow-symlinks: a dangling link and a link to itself fail, named; a loop through a directory does not hang', async () => {
    const names = ['a.txt', 'deep/er/b.txt'];
    const cwd = tree(names);
    symlinkSync('missing-target', join(cwd, 'dangling'));
    symlinkSync('self', join(cwd, 'self'));
    symlinkSync('../..', join(cwd, 'deep/er/up'));
    symlinkSync('a.txt', join(cwd, 'good-link.txt'));
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-o', out, '--follow-symlinks']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'failed: dangling: dangling symbolic link: its target `missing-target` does not exist',
    );
    expect(result.stderr).toContain('failed: self: symbolic link loop: `self` leads back to itself');
    expect(result.stderr).toMatch(
      /failed directory: deep\/er\/up: symbolic link loop: leads back to `.*`, not descended/,
    );
    expectCopied(cwd, out, names);
    // A link to a file is followed: its target's content under the link's name.
    expect(readTree(out).get('good-link.txt')?.toString()).toBe('content of a.txt\n');
    expect([...readTree(out).keys()].sort()).toEqual(['a.txt', 'deep/er/b.txt', 'good-link.txt']);
  });
});

describe('transforms that fail', () => {
  it('a module that throws, or returns the wrong type, fails those files only', async () => {
    const names = ['a.txt', 'bad.txt', 'wrong.txt', 'z.txt'];
    const cwd = tree(names);
    const module = join(tempDir(), 'picky.mjs');
    writeFileSync(
      module,
      `export default { name: 'picky', buffer(c, file) {
        if (file.path === 'bad.txt') throw new Error('cannot handle bad.txt');
        if (file.path === 'wrong.txt') return { not: 'a buffer' };
        return c;
      } };\n`,
    );
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', module, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed: bad.txt: picky: cannot handle bad.txt');
    expect(result.stderr).toContain(
      'failed: wrong.txt: picky: returned an object (Object), expected a Buffer, Uint8Array or string',
    );
    expectCopied(cwd, out, ['a.txt', 'z.txt']);
    expect(readTree(out).size).toBe(2);
    noTemps(out);
  });

  it('a stream transform that fails mid-file leaves no partial output and no temp file', async () => {
    const cwd = tree(['small.txt']);
    writeFileSync(join(cwd, 'large.bin'), Buffer.alloc(10 * 1024 * 1024, 7));
    const module = join(tempDir(), 'breaks.mjs');
    writeFileSync(
      module,
      `import { Transform } from 'node:stream';
export default { name: 'breaks', stream(file) {
  let seen = 0;
  return new Transform({ transform(chunk, _e, cb) {
    seen += chunk.length;
    if (file.size > 1e6 && seen > 3e6) cb(new Error('broke after ' + seen + ' bytes'));
    else cb(null, chunk);
  } });
} };\n`,
    );
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', module, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/failed: large\.bin: breaks: broke after \d+ bytes/);
    expect([...readTree(out).keys()]).toEqual(['small.txt']);
    noTemps(out);
  });
});

describe('a full disk', () => {
  it.runIf(isRoot)(
    'ENOSPC on a small tmpfs: the files that fit are complete, the others fail named, no temp file',
    () => {
      const mount = tempDir();
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mount], { stdio: 'pipe' });
      } catch (error) {
        // Containers without CAP_SYS_ADMIN: the fault-injection test below covers the same path.
        console.warn(
          `skipping the tmpfs ENOSPC test: mount failed (${(error as Error).message.split('\n')[0]})`,
        );
        return;
      }
      try {
        const cwd = tempDir();
        for (let i = 0; i < 12; i += 1) writeFileSync(join(cwd, `f${i}.bin`), Buffer.alloc(100 * 1024, i));
        const out = join(mount, 'out');
        const result = execFileSync(
          'bash',
          [
            '-c',
            `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} -C ${JSON.stringify(cwd)} -o ${JSON.stringify(out)} -j 3 2>&1; echo "exit=$?"`,
          ],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        expect(result).toContain('exit=1');
        expect(result).toMatch(
          new RegExp(`failed: f\\d+\\.bin: cannot write ${out}/f\\d+\\.bin: ENOSPC: no space left on device`),
        );
        const written = readTree(out);
        expect(written.size).toBeGreaterThan(0);
        expect(written.size).toBeLessThan(12);
        for (const [path, content] of written) {
          expect(content.equals(readFileSync(join(cwd, path))), path).toBe(true);
        }
        noTemps(out);
      } finally {
        execFileSync('umount', [mount]);
      }
    },
  );

  it('ENOSPC injected at the io port fails that file, names the output and the cause', async () => {
    const names = ['a.txt', 'b.txt', 'c.txt'];
    const cwd = tree(names);
    const out = tempDir();
    const port = faultyPort([{ op: 'write', name: 'b.txt.gz', code: 'ENOSPC' }]);
    const summary = await run({ cwd, out, transforms: ['gzip'], port, ...keepAllOptions });
    expect(summary.failures).toEqual([
      {
        path: 'b.txt',
        code: 'EWRITE',
        message: `cannot write ${join(out, 'b.txt.gz')}: ENOSPC: no space left on device`,
      },
    ]);
    expect([...readTree(out).keys()]).toEqual(['a.txt.gz', 'c.txt.gz']);
    noTemps(out);
  });
});

describe('too many open files', () => {
  it('ulimit -n 64 with -j 500 completes, by waiting for descriptors', async () => {
    const names = Array.from({ length: 1200 }, (_, i) => `d${i % 9}/f${i}.txt`);
    const cwd = tree(names);
    for (const transform of ['copy', 'gzip']) {
      const out = tempDir();
      const result = execFileSync(
        'bash',
        [
          '-c',
          `ulimit -n 64 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} -C ${JSON.stringify(cwd)} -t ${transform} ${keepAllFor(transform).join(' ')} -j 500 -o ${JSON.stringify(out)}`,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: root },
      );
      expect(result).toBe('');
      expect(readTree(out).size).toBe(names.length);
    }
    // Stream path too: two large files with a 64-descriptor limit and many small ones.
    writeFileSync(join(cwd, 'big1.bin'), Buffer.alloc(9 * 1024 * 1024, 1));
    writeFileSync(join(cwd, 'big2.bin'), Buffer.alloc(9 * 1024 * 1024, 2));
    const out = tempDir();
    execFileSync(
      'bash',
      [
        '-c',
        `ulimit -n 64 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} -C ${JSON.stringify(cwd)} -t gzip ${keepAllFor('gzip').join(' ')} -j 500 -o ${JSON.stringify(out)} -q`,
      ],
      {
        stdio: 'pipe',
      },
    );
    expect(readTree(out).size).toBe(names.length + 2);
  }, 120_000);
});

describe('an unreadable file', () => {
  it('fails with EACCES, named, when not running as root', async () => {
    const names = ['a.txt', 'secret.txt', 'z.txt'];
    const cwd = tree(names);
    const out = tempDir();
    chmodSync(join(cwd, 'secret.txt'), 0o000);
    // As root nothing is unreadable: run the CLI as `nobody`, in trees it may enter.
    const asNobody = isRoot ? { uid: 65534, gid: 65534 } : {};
    if (isRoot) {
      for (const dir of [cwd, out, join(cwd, '..'), join(out, '..')]) chmodSync(dir, 0o777);
    }
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [isRoot ? publicBin() : bin, '-C', cwd, '-o', out], {
        ...asNobody,
        cwd: '/',
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed: secret.txt: cannot read secret.txt: EACCES: permission denied');
    expectCopied(cwd, out, ['a.txt', 'z.txt']);
    chmodSync(join(cwd, 'secret.txt'), 0o644);
    rmSync(out, { recursive: true, force: true });
    expect(existsSync(out)).toBe(false);
  });
});

describe('an unreadable directory', () => {
  it('is reported (EGLOB, apart from the files) and the walk goes on: every other file is written', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const cwd = tree(['a/1.txt', 'a/2.txt', 'a/3.txt', 'a/4.txt', 'a/5.txt', 'b/hidden.txt', 'c/6.txt']);
      const out = tempDir();
      chmodSync(join(cwd, 'b'), 0o000);
      const asNobody = isRoot ? { uid: 65534, gid: 65534 } : {};
      if (isRoot) {
        for (const dir of [cwd, join(cwd, 'a'), join(cwd, 'c'), out, join(cwd, '..'), join(out, '..')])
          chmodSync(dir, 0o777);
      }
      const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [isRoot ? publicBin() : bin, '-C', cwd, '-o', out, '--json'], {
          ...asNobody,
          cwd: '/',
        });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
        });
        child.on('close', (code) => resolve({ code, stdout }));
      });
      chmodSync(join(cwd, 'b'), 0o755);
      expect(result.code).toBe(1);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              type: string;
              status?: string;
              written?: number;
              directoryFailures?: unknown[];
            },
        );
      // The summary is the last line: no file is written after the run said it was over.
      expect(lines.at(-1)?.type).toBe('summary');
      const written = lines.filter((line) => line.type === 'file' && line.status === 'written').length;
      expect(lines.at(-1)?.written).toBe(written);
      expect(readTree(out).size).toBe(written);
      // The directories after the unreadable one are walked too: all six readable files.
      expect(written).toBe(6);
      expect([...readTree(out).keys()].sort()).toEqual([
        'a/1.txt',
        'a/2.txt',
        'a/3.txt',
        'a/4.txt',
        'a/5.txt',
        'c/6.txt',
      ]);
      expect(lines.at(-1)?.directoryFailures).toEqual([
        { path: 'b', code: 'EGLOB', message: 'cannot read: EACCES: permission denied' },
      ]);
    }
  });
});

describe('regressions', () => {
  it('a streamed fan-out whose one branch fails fails the file, writes neither output, leaves no temp', async () => {
    const cwd = tempDir();
    const random = Buffer.alloc(9 * 1024 * 1024);
    for (let i = 0; i < random.length; i += 1) random[i] = (i * 2654435761) >>> 24;
    writeFileSync(join(cwd, 'r.bin'), random);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', 'gzip,gunzip', '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed: r.bin: gunzip: incorrect header check');
    expect(readdirSync(out)).toEqual([]);
  });

  it('a write failure while streaming is a write error (EFBIG under ulimit -f), not the transform', () => {
    const cwd = tempDir();
    const random = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < random.length; i += 1) random[i] = (i * 2654435761) >>> 24;
    writeFileSync(join(cwd, 'big.bin'), random); // compresses poorly: the .gz passes the 1 MiB limit
    const out = tempDir();
    const result = execFileSync(
      'bash',
      [
        '-c',
        `ulimit -f 1024; ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} -C ${JSON.stringify(cwd)} -o ${JSON.stringify(out)} -t gzip --level 1 2>&1; echo "exit=$?"`,
      ],
      { encoding: 'utf8' },
    );
    expect(result).toContain('exit=1');
    expect(result).toContain(`failed: big.bin: cannot write ${join(out, 'big.bin.gz')}: EFBIG`);
    noTemps(out);
  });

  it('a transform returning the same buffer every time (a constant) works through the worker pool', async () => {
    const cwd = tree(['a.txt', 'b.txt', 'c.txt']);
    const constant = join(tempDir(), 'const.mjs');
    writeFileSync(
      constant,
      "const H = Buffer.allocUnsafeSlow(4).fill(65);\nexport default { name: 'const', buffer: () => H };\n",
    );
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', constant, '-o', out, '-j', '1']);
    expect(result.code).toBe(0);
    expect([...readTree(out).values()].map(String)).toEqual(['AAAA', 'AAAA', 'AAAA']);
  });

  it('--resume after runs that wrote only a journal header still resumes', async () => {
    const cwd = tree(['a.txt']);
    expect((await runCli(['-C', cwd, '--in-place', '--exec', 'exit 3'])).code).toBe(1);
    expect((await runCli(['-C', cwd, '--in-place', '--resume', '--exec', 'exit 3'])).code).toBe(1);
    const last = await runCli(['-C', cwd, '--in-place', '--resume', '--exec', 'tr a-z A-Z']);
    expect(last.code, last.stderr).toBe(0);
    expect(readTree(cwd)).toEqual(new Map([['a.txt', Buffer.from('CONTENT OF A.TXT\n')]]));
  });

  it('in place, a rename that fails after the journal line is taken back: --resume redoes that file', async () => {
    const cwd = tree(['a.txt', 'b.txt']);
    const stamp = { name: 'stamp', buffer: (c: Buffer) => `${c}# stamped\n` };
    const port = faultyPort([{ op: 'rename', name: 'a.txt', code: 'EIO', times: 1 }]);
    const first = await run({ cwd, inPlace: true, transforms: [stamp], port });
    expect(first.failures.map((f) => [f.path, f.code])).toEqual([['a.txt', 'EWRITE']]);
    const second = await run({ cwd, inPlace: true, resume: true, transforms: [stamp] });
    expect(second).toMatchObject({ written: 1, skipped: 1, failed: 0 });
    expect(readTree(cwd)).toEqual(
      new Map([
        ['a.txt', Buffer.from('content of a.txt\n# stamped\n')],
        ['b.txt', Buffer.from('content of b.txt\n# stamped\n')],
      ]),
    );
  });
});
