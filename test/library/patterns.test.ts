import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { GlobpipeError, type GlobpipeEvent, run } from '../../src/index.js';
import { keepAllOptions, readTree, tempDir, writeTree } from '../helpers.js';

describe('errorOnUnmatchedPattern', () => {
  it('by default a pattern that matches nothing rejects with a usage error, before anything is written', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const out = join(tempDir(), 'out');
    const rejected = run({ cwd, out, patterns: ['*.txt', 'src/**/*.ts'] });
    await expect(rejected).rejects.toBeInstanceOf(GlobpipeError);
    await expect(rejected).rejects.toMatchObject({
      code: 'EUSAGE',
      path: 'src/**/*.ts',
      message: `No files match the pattern \`src/**/*.ts\` in \`${cwd}\`; check it for typos, or set \`errorOnUnmatchedPattern: false\` if matching nothing is fine`,
    });
    expect(existsSync(out)).toBe(false);
  });

  it('false: the run goes on with what the other patterns match', async () => {
    const cwd = writeTree({ 'a.txt': 'a' });
    const out = tempDir();
    const summary = await run({
      cwd,
      out,
      patterns: ['*.txt', 'src/**/*.ts'],
      errorOnUnmatchedPattern: false,
    });
    expect(summary).toMatchObject({ matched: 1, written: 1, failed: 0 });
    expect([...readTree(out).keys()]).toEqual(['a.txt']);
  });

  it('must be a boolean', async () => {
    await expect(
      run({ cwd: tempDir(), out: tempDir(), errorOnUnmatchedPattern: 'no' as never }),
    ).rejects.toThrow('Expected `errorOnUnmatchedPattern` to be a boolean, got `no` (string)');
  });

  it('is --no-error-on-unmatched-pattern on the command line', async () => {
    const off = await parseArgs(['-o', 'out', '--no-error-on-unmatched-pattern'], '0.0.0');
    const on = await parseArgs(['-o', 'out'], '0.0.0');
    expect(off.kind === 'run' && off.options.run.errorOnUnmatchedPattern).toBe(false);
    expect(on.kind === 'run' && on.options.run.errorOnUnmatchedPattern).toBeUndefined();
  });
});

describe('files already compressed', () => {
  it('are matched, then reported skipped with their reason, as events and in the summary', async () => {
    const cwd = writeTree({ 'a.css': 'a{}', 'a.css.gz': 'old', 'b.js.br': 'old' });
    const events: GlobpipeEvent[] = [];
    const summary = await run({
      cwd,
      out: cwd,
      transforms: [['gzip', 'brotli']],
      ...keepAllOptions,
      onEvent: (event) => events.push(event),
    });
    expect(summary).toMatchObject({ matched: 3, written: 1, skipped: 2, outputs: 2, failed: 0 });
    expect([...summary.skips].sort((a, b) => (a.reason < b.reason ? -1 : 1))).toEqual([
      {
        reason: 'already compressed (.br); a pattern ending in .br selects it',
        count: 1,
        paths: ['b.js.br'],
      },
      {
        reason: 'already compressed (.gz); a pattern ending in .gz selects it',
        count: 1,
        paths: ['a.css.gz'],
      },
    ]);
    const skipped = events.flatMap((e) =>
      e.type === 'file' && e.result.status === 'skipped' ? [e.result] : [],
    );
    expect(skipped.map((r) => [r.input, r.reason]).sort()).toEqual([
      ['a.css.gz', 'already compressed (.gz); a pattern ending in .gz selects it'],
      ['b.js.br', 'already compressed (.br); a pattern ending in .br selects it'],
    ]);
    expect(events.filter((e) => e.type === 'match')).toHaveLength(3);
  });
});
