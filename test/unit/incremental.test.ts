import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/discover.js';
import type { IoPort } from '../../src/io/port.js';
import { Incremental, UNCHANGED } from '../../src/run/incremental.js';
import { fileResult, tempDir } from '../helpers.js';
import { testSettings } from '../settings.js';

/** A tree with one input and its output, and a run whose manifest already records them. */
function recorded() {
  const cwd = tempDir();
  const out = tempDir();
  const settings = testSettings({
    cwd,
    out,
    incremental: { manifest: join(tempDir(), 'm.json'), options: '' },
  });
  const input = join(cwd, 'a.txt');
  writeFileSync(input, 'alpha');
  // Old enough that its stat is trusted (no racy check).
  const old = new Date(Date.now() - 60_000);
  utimesSync(input, old, old);
  const entry: Entry = { path: 'a.txt', absolutePath: input, kind: 'file' };
  const first = Incremental.open(settings, settings);
  expect(first.decide(entry)).toBeUndefined();
  const meta = statSync(input);
  first.read('a.txt', { size: meta.size, mtimeMs: meta.mtimeMs, mode: 0o644 }, Buffer.from('alpha'));
  writeFileSync(join(out, 'a.txt.gz'), 'output');
  first.settle(fileResult({ input: 'a.txt', outputs: ['a.txt.gz'], status: 'written' }));
  return { settings, entry, input, out, first };
}

const port = {} as IoPort;

describe('Incremental.decide', () => {
  it('skips an input whose stat and outputs match; processes it when either changes', async () => {
    const { settings, entry, input, out, first } = recorded();
    await first.finish(port, true);
    const rerun = () => Incremental.open(settings, settings).decide(entry);
    expect(rerun()).toEqual({
      outputs: ['a.txt.gz'],
      status: 'skipped',
      bytesIn: 0,
      bytesOut: 0,
      reason: UNCHANGED,
    });
    // Touched, same bytes: still skipped.
    const later = new Date(Date.now() - 30_000);
    utimesSync(input, later, later);
    expect(rerun()?.reason).toBe(UNCHANGED);
    // Same size, other bytes.
    writeFileSync(input, 'ALPHA');
    utimesSync(input, later, later);
    expect(rerun()).toBeUndefined();
    writeFileSync(input, 'alpha');
    utimesSync(input, later, later);
    expect(rerun()?.reason).toBe(UNCHANGED);
    writeFileSync(join(out, 'a.txt.gz'), 'changed');
    expect(rerun()).toBeUndefined();
  });

  it('forgets a file that failed, and processes everything when the pipeline changes', async () => {
    const { settings, entry, first } = recorded();
    await first.finish(port, true);
    const other = {
      ...settings,
      incremental: { manifest: settings.incremental?.manifest, options: '{"level":1}' },
    };
    const changed = Incremental.open(other, other);
    expect(changed.decide(entry)).toBeUndefined();
    expect(changed.report().notices).toEqual([
      'the pipeline changed since the last run: every file is processed',
    ]);
    const again = Incremental.open(settings, settings);
    again.settle(fileResult({ input: 'a.txt', status: 'failed' }));
    await again.finish(port, true);
    expect(Incremental.open(settings, settings).decide(entry)).toBeUndefined();
  });
});
