import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { faultyPort } from '../faults.js';
import { bin, keepAllFor, keepAllOptions, makeTree, readTree, tempDir } from '../helpers.js';

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('fsync', () => {
  it('asks the io port for durable writes on every path: batches, single files, streams', async () => {
    const cwd = makeTree(6);
    writeFileSync(join(cwd, 'large.bin'), Buffer.alloc(9 * 1024 * 1024, 3));
    for (const executor of ['batch', 'single'] as const) {
      for (const transforms of [['copy'], ['gzip']]) {
        const port = faultyPort([]);
        const keep = transforms[0] === 'gzip' ? keepAllOptions : {};
        const summary = await run({ cwd, out: tempDir(), transforms, fsync: true, port, executor, ...keep });
        expect(summary.written).toBe(7);
        const durable = port.calls.filter((call) => ['copy', 'write', 'rename'].includes(call.op));
        expect(durable.length).toBeGreaterThanOrEqual(7);
        for (const call of durable) expect(call.flags).toMatchObject({ fsync: true });
        for (const call of port.calls.filter((c) => c.op === 'openWriteStream'))
          expect(call.flags).toEqual({ flush: true });
      }
    }
  });

  it.skipIf(!hasStrace())(
    'flushes every output file and its directory to disk (seen by strace in the IO workers)',
    () => {
      const cwd = makeTree(6);
      writeFileSync(join(cwd, 'large.bin'), Buffer.alloc(9 * 1024 * 1024, 3));
      for (const transform of ['copy', 'gzip']) {
        const out = tempDir();
        const traced = spawnSync(
          'strace',
          [
            '-f',
            '-qq',
            '-y',
            '-e',
            'trace=fsync,fdatasync',
            process.execPath,
            bin,
            '-C',
            cwd,
            '-t',
            transform,
            ...keepAllFor(transform),
            '-o',
            out,
            '--fsync',
            '-q',
          ],
          { encoding: 'utf8' },
        );
        expect(traced.status, traced.stderr).toBe(0);
        expect(readTree(out).size).toBe(7);
        const synced = [...traced.stderr.matchAll(/f(?:data)?sync\(\d+<([^>]*)>/g)].map(
          (m) => m[1] as string,
        );
        // Each output's temp is flushed before its rename, then each directory it was renamed in.
        expect(synced.filter((path) => path.endsWith('.globpipe-tmp'))).toHaveLength(7);
        for (const dir of ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', '']) expect(synced).toContain(join(out, dir));
      }
    },
  );
});
