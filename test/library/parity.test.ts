import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FileResult, run, type Summary, type TransformStage } from '../../src/index.js';
import { nodePort } from '../../src/io/fs.js';
import { WorkerPool } from '../../src/io/worker/pool.js';
import { type Fault, faultyPort } from '../faults.js';
import { readTree, tempDir } from '../helpers.js';

/**
 * The batch and the single-file executors (src/run/strategy.ts) give every file
 * the same outcome: each case runs through both, with the same inputs and the
 * same faults injected at the io port, and must end with the same per-file
 * results (all but the time), the same output bytes, and no temp file.
 */

type Mode = 'copy' | 'transform';

interface Case {
  readonly name: string;
  readonly files: Record<string, string | Buffer>;
  /** Faults for this mode; `cwd` is the input tree, `abort` interrupts the run. */
  readonly faults?: (mode: Mode, cwd: string, abort: () => void) => Fault[];
  /** Runs on IO workers that die on any request naming `crash-me`. */
  readonly crashing?: boolean;
  /** What the results must show, beyond being the same on both executors. */
  readonly check: (results: Map<string, Outcome>, summary: Summary, mode: Mode) => void;
}

type Outcome = Omit<FileResult, 'ms'>;

const upper = {
  name: 'upper',
  buffer(content: Buffer, file: { path: string }) {
    if (file.path.includes('boom')) throw new Error('boom goes the transform');
    return content.toString('latin1').toUpperCase();
  },
};

const big = Buffer.alloc(9 * 1024 * 1024, 'abc');
const fine = (results: Map<string, Outcome>, name: string) =>
  expect(results.get(name)?.status).toBe('written');

/** Files that stand around each case's own, so that a batch holds more than the file at fault. */
const company = { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/c.txt': 'charlie\n' };

const cases: Case[] = [
  {
    name: 'a file deleted after the glob',
    files: { ...company, 'gone.txt': 'soon gone' },
    faults: (mode, cwd) => [
      {
        op: mode === 'copy' ? 'copy' : 'read',
        name: 'gone.txt',
        before: () => rmSync(join(cwd, 'gone.txt')),
      },
    ],
    check(results) {
      expect(results.get('gone.txt')?.error).toEqual({
        code: 'EREAD',
        message: 'cannot read gone.txt: ENOENT: no such file or directory',
      });
      fine(results, 'sub/b.txt');
    },
  },
  {
    name: 'a directory and a FIFO where files were globbed',
    files: { ...company, 'dir.txt': 'x', 'fifo.txt': 'y' },
    faults: (mode, cwd) => [
      {
        op: mode === 'copy' ? 'copy' : 'read',
        name: 'dir.txt',
        before: () => {
          rmSync(join(cwd, 'dir.txt'));
          mkdirSync(join(cwd, 'dir.txt'));
        },
      },
      {
        op: mode === 'copy' ? 'copy' : 'read',
        name: 'fifo.txt',
        before: () => {
          rmSync(join(cwd, 'fifo.txt'));
          execFileSync('mkfifo', [join(cwd, 'fifo.txt')]);
        },
      },
    ],
    check(results) {
      expect(results.get('dir.txt')?.error).toEqual({
        code: 'ENOTFILE',
        message: 'not a regular file: it is a directory',
      });
      expect(results.get('fifo.txt')?.error).toEqual({
        code: 'ENOTFILE',
        message: 'not a regular file: it is a FIFO (named pipe)',
      });
    },
  },
  {
    name: 'an empty file and a 9 MB file (streamed, or copied by the kernel)',
    files: { ...company, 'empty.txt': '', 'big.bin': big },
    check(results, _summary, mode) {
      expect(results.get('empty.txt')).toMatchObject({ status: 'written', bytesIn: 0, bytesOut: 0 });
      expect(results.get('big.bin')).toMatchObject({
        status: 'written',
        bytesIn: big.length,
        bytesOut: big.length,
      });
      expect(mode === 'copy' || results.get('a.txt')?.bytesOut === 6).toBe(true);
    },
  },
  {
    name: 'a transform that throws',
    files: { ...company, 'boom.txt': 'boom' },
    check(results, _summary, mode) {
      if (mode === 'copy') return fine(results, 'boom.txt');
      expect(results.get('boom.txt')).toMatchObject({
        status: 'failed',
        outputs: ['boom.txt'],
        error: { code: 'ETRANSFORM', message: 'upper: boom goes the transform' },
      });
    },
  },
  {
    name: 'ENOSPC on a small file and in the middle of a large one',
    files: { ...company, 'full.txt': 'no room', 'big.bin': big },
    faults: (mode) => [
      { op: mode === 'copy' ? 'copy' : 'write', name: /^full\.txt/, code: 'ENOSPC', side: 'write' },
      mode === 'copy'
        ? { op: 'copy', name: 'big.bin', code: 'ENOSPC', side: 'write' }
        : { op: 'openWriteStream', code: 'ENOSPC', afterBytes: 3 * 1024 * 1024 },
    ],
    check(results) {
      expect(results.get('full.txt')?.error?.message).toMatch(
        /^cannot write <out>\/full\.txt: ENOSPC: no space left on device$/,
      );
      expect(results.get('big.bin')?.error?.message).toMatch(
        /^cannot write <out>\/big\.bin: ENOSPC: no space left on device$/,
      );
      fine(results, 'a.txt');
    },
  },
  {
    name: 'EMFILE that outlasts the wait',
    files: { ...company, 'emfile.txt': 'e' },
    faults: (mode) => [{ op: mode === 'copy' ? 'copy' : 'read', name: 'emfile.txt', code: 'EMFILE' }],
    check(results) {
      expect(results.get('emfile.txt')?.error).toEqual({
        code: 'EREAD',
        message: 'cannot read emfile.txt: EMFILE: too many open files',
      });
    },
  },
  {
    name: 'a worker that dies on one file',
    files: { ...company, 'crash-me.txt': 'bye' },
    crashing: true,
    check(results, _summary, mode) {
      expect(results.get('crash-me.txt')?.error).toEqual(
        mode === 'copy'
          ? { code: 'EWRITE', message: 'cannot write <out>/crash-me.txt: IO worker exited (code 7)' }
          : { code: 'EREAD', message: 'cannot read crash-me.txt: IO worker exited (code 7)' },
      );
      for (const name of Object.keys(company)) fine(results, name);
    },
  },
  ...(['read', 'write', 'stream'] as const).map(
    (point): Case => ({
      name: `an abort before the ${point}`,
      files: { 'only.bin': point === 'stream' ? big : 'only' },
      faults: (mode, _cwd, abort) => [
        {
          op:
            mode === 'copy'
              ? 'copy'
              : point === 'read'
                ? 'read'
                : point === 'write'
                  ? 'write'
                  : 'openWriteStream',
          before: abort,
        },
      ],
      check(results, summary, mode) {
        expect(summary.interrupted).toBe(true);
        // A copy or a write already asked for completes (it is whole, so it counts); a read is
        // followed by a check of the signal, and a stream is cut: neither file is written.
        const completes = mode === 'copy' || point === 'write';
        expect([...results.values()].map((r) => r.status)).toEqual(completes ? ['written'] : []);
      },
    }),
  ),
];

async function runCase(c: Case, mode: Mode, executor: 'batch' | 'single') {
  const cwd = tempDir();
  for (const [name, content] of Object.entries(c.files)) {
    mkdirSync(join(cwd, name, '..'), { recursive: true });
    writeFileSync(join(cwd, name), content);
  }
  const out = tempDir();
  const controller = new AbortController();
  const inner = c.crashing
    ? nodePort(new WorkerPool({ size: 2, script: new URL('../crashing-worker.cjs', import.meta.url) }))
    : nodePort();
  const port = faultyPort(c.faults?.(mode, cwd, () => controller.abort()) ?? [], inner);
  const transforms: TransformStage[] = [mode === 'copy' ? 'copy' : upper];
  const results: FileResult[] = [];
  const summary = await run({
    cwd,
    out,
    transforms,
    port,
    executor,
    concurrency: 16,
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === 'file') results.push(event.result);
    },
  });
  // Messages name outputs by absolute path: each run has its own `out`, shown as `<out>`.
  const outcomes = new Map(
    results
      .sort((a, b) => (a.input < b.input ? -1 : 1))
      .map(({ ms: _ms, ...outcome }): [string, Outcome] => [
        outcome.input,
        outcome.error === undefined
          ? outcome
          : {
              ...outcome,
              error: { ...outcome.error, message: outcome.error.message.replaceAll(out, '<out>') },
            },
      ]),
  );
  // By hash: a deep comparison of 9 MB buffers, element by element, would take a minute.
  const tree = new Map(
    [...readTree(out)].map(([path, bytes]) => [path, createHash('sha256').update(bytes).digest('hex')]),
  );
  expect([...tree.keys()].filter((path) => path.includes('globpipe-tmp'))).toEqual([]);
  return { outcomes, summary, tree };
}

describe.each(['copy', 'transform'] as const)('parity of the executors (%s)', (mode) => {
  it.each(cases)('$name', async (c) => {
    const batch = await runCase(c, mode, 'batch');
    const single = await runCase(c, mode, 'single');
    expect(single.outcomes).toEqual(batch.outcomes);
    expect(single.tree).toEqual(batch.tree);
    expect(single.summary.interrupted).toBe(batch.summary.interrupted);
    c.check(batch.outcomes, batch.summary, mode);
  });
});

describe('parity of the executors (abort in a transform)', () => {
  it.each(['batch', 'single'] as const)('%s: the file is cut short, nothing is written', async (executor) => {
    const cwd = tempDir();
    for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(cwd, name), name);
    const out = tempDir();
    const controller = new AbortController();
    const results: FileResult[] = [];
    const summary = await run({
      cwd,
      out,
      executor,
      concurrency: 16,
      signal: controller.signal,
      transforms: [
        {
          name: 'stops',
          async buffer(content) {
            controller.abort();
            await new Promise((resolve) => setTimeout(resolve, 10));
            return content;
          },
        },
      ],
      onEvent: (event) => {
        if (event.type === 'file') results.push(event.result);
      },
    });
    expect(summary.interrupted).toBe(true);
    expect(results).toEqual([]);
    expect(readTree(out).size).toBe(0);
  });
});
