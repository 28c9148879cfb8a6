import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GlobpipeError, type RunOptions, run } from '../../src/index.js';
import { makeTree, readTree, tempDir } from '../helpers.js';

/** The options as a caller without types (JavaScript, a JSON config) would pass them. */
const untyped = (options: Record<string, unknown>) => options as RunOptions;

describe('run() checks its options as the CLI checks its flags', () => {
  it('misspelt keys are an error naming each with the key it meant, and nothing is written', async () => {
    const cwd = makeTree(28);
    const out = join(tempDir(), 'out');
    const attempt = run(untyped({ cwd, out, concurency: 2, dryrun: true }));
    await expect(attempt).rejects.toBeInstanceOf(GlobpipeError);
    await expect(attempt).rejects.toMatchObject({
      code: 'EUSAGE',
      isUsageError: true,
      message:
        'Unknown options: `concurency` (did you mean `concurrency`?), `dryrun` (did you mean `dryRun`?)',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('one unknown key: its likely meaning, or only its name', async () => {
    const cwd = makeTree(2);
    const out = join(tempDir(), 'out');
    await expect(run(untyped({ cwd, out, skip_existing: true }))).rejects.toThrow(
      new GlobpipeError('EUSAGE', 'Unknown option `skip_existing`: did you mean `skipExisting`?'),
    );
    await expect(run(untyped({ cwd, out, frobnicate: 1 }))).rejects.toThrow(
      new GlobpipeError('EUSAGE', 'Unknown option `frobnicate`'),
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a value of the wrong type names the option and both types', async () => {
    const cwd = makeTree(2);
    const out = join(tempDir(), 'out');
    await expect(run(untyped({ cwd, out, concurrency: '2' }))).rejects.toThrow(
      new GlobpipeError('EUSAGE', 'Expected `concurrency` to be a number, got `2` (string)'),
    );
    await expect(run(untyped({ cwd, out, dryRun: 'true' }))).rejects.toThrow(
      new GlobpipeError('EUSAGE', 'Expected `dryRun` to be a boolean, got `true` (string)'),
    );
    expect(existsSync(out)).toBe(false);
  });

  it('names keys, never flags', async () => {
    const cwd = makeTree(2);
    await expect(run({ cwd, out: tempDir(), inPlace: true })).rejects.toThrow(
      new GlobpipeError(
        'EUSAGE',
        '`inPlace` and `out` exclude each other: in-place writes each result over its input',
      ),
    );
    await expect(run({ cwd, out: tempDir(), transforms: ['gzip'], level: 10 })).rejects.toThrow(
      new GlobpipeError('EUSAGE', '`level` 10 is out of range: gzip levels are 1–9'),
    );
  });

  it('accepts the internal options tests use', async () => {
    const cwd = makeTree(5);
    const out = tempDir();
    const waits: number[] = [];
    const summary = await run({
      cwd,
      out,
      executor: 'single',
      probe: { onEnqueue: (waiting) => waits.push(waiting) },
    });
    expect(summary).toMatchObject({ matched: 5, written: 5, failed: 0 });
    expect(waits).toHaveLength(5);
    expect(readTree(out)).toEqual(readTree(cwd));
  });
});
