import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellsOf, type Matrix, type Places, type Planned, shellQuote } from '../../src/bench/cells.js';
import { tempDir } from '../helpers.js';

/**
 * bench's mode matrix as cells: the cross product in a stable order, and for each cell the
 * shell line a user pastes to rerun it. The lines are checked by a real `sh`, with paths
 * that need quoting (spaces, quotes, `$`, a backquote, a glob).
 */

const EVICT = 'sync && echo 3 > /proc/sys/vm/drop_caches';

const hostile = '/data/it\'s a "set" of $HOME `id` *';

function places(over: Partial<Places> = {}): Places {
  return {
    bin: '/opt/glob pipe/bin/globpipe.js',
    syncLoop: '/opt/glob pipe/dist/bench/sync-loop.js',
    node: '/usr/bin/node',
    root: hostile,
    patterns: ['**/*', '!*.$tmp'],
    scratch: "/tmp/scr atch/.it's.globpipe-bench-x",
    list: "/tmp/scr atch/.it's.globpipe-bench-x/files.lst",
    evict: EVICT,
    ...over,
  };
}

function matrix(over: Partial<Matrix> = {}): Matrix {
  return {
    concurrency: [1, 8],
    cache: ['warm'],
    read: ['auto'],
    work: ['copy'],
    threadpool: [undefined],
    transforms: ['gzip'],
    references: false,
    ...over,
  };
}

/** The words `sh` makes of a line, each as printf passes it on. */
function words(line: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const argvOf = (planned: Planned) => planned.invocation.argv;

describe('cellsOf', () => {
  it('gives the cross product of the matrix, concurrency innermost, with unique ids', () => {
    const m = matrix({
      concurrency: [1, 8, 64],
      cache: ['warm', 'cold'],
      read: ['auto', 'direct'],
      work: ['read', 'copy'],
      threadpool: [undefined, 4],
    });
    const cells = cellsOf(m, places()).map((p) => p.cell);
    expect(cells).toHaveLength(3 * 2 * 2 * 2 * 2);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
    const tuples = new Set(
      cells.map((c) => `${c.concurrency}|${c.cache}|${c.read}|${c.work}|${c.threadpool}`),
    );
    for (const c of m.concurrency)
      for (const cache of m.cache)
        for (const read of m.read)
          for (const work of m.work)
            for (const pool of m.threadpool)
              expect(tuples).toContain(`${c}|${cache}|${read}|${work}|${pool}`);
    expect(cells.slice(0, 7).map((c) => c.id)).toEqual([
      'j1-warm-auto-read',
      'j8-warm-auto-read',
      'j64-warm-auto-read',
      'j1-cold-auto-read',
      'j8-cold-auto-read',
      'j64-cold-auto-read',
      'j1-warm-auto-read-tp4',
    ]);
    expect(cells.at(-1)?.id).toBe('j64-cold-direct-copy-tp4');
    // Stable: the same matrix, the same order.
    expect(cellsOf(m, places()).map((p) => p.cell.id)).toEqual(cells.map((c) => c.id));
  });

  it('writes each command so that sh parses it back to exactly the argv a run executes', () => {
    const m = matrix({ cache: ['warm', 'cold'], threadpool: [undefined, 16], references: true });
    for (const { cell, invocation } of cellsOf(m, places())) {
      const env = Object.entries(invocation.env).map(([key, value]) => `${key}=${value}`);
      expect(words(cell.command), cell.id).toEqual([...env, ...invocation.argv]);
      expect(cell.command).toContain(shellQuote(hostile));
    }
  });

  it('runs as written: sh hands the program the same words and the threadpool in its environment', () => {
    // A stand-in for node, in a directory whose name needs quoting, that prints what it got.
    const dir = join(tempDir(), "bin dir's $x");
    mkdirSync(dir);
    const node = join(dir, 'fake node');
    writeFileSync(node, '#!/bin/sh\nprintf \'%s\\0\' "$UV_THREADPOOL_SIZE" "$@"\n');
    chmodSync(node, 0o755);
    const { UV_THREADPOOL_SIZE: _, ...env } = process.env;
    const cells = cellsOf(matrix({ threadpool: [undefined, 16] }), places({ node }));
    for (const { cell, invocation } of cells) {
      const got = execFileSync('sh', ['-c', cell.command], { encoding: 'utf8', env });
      const expected = [invocation.env.UV_THREADPOOL_SIZE ?? '', ...invocation.argv.slice(1)];
      expect(got.split('\0').slice(0, -1), cell.id).toEqual(expected);
    }
  });

  it('prepares cold cells by evicting after clearing the outputs, warm ones by clearing only', () => {
    const cells = cellsOf(matrix({ cache: ['warm', 'cold'], references: true }), places());
    for (const { cell } of cells) {
      const out = join(places().scratch, cell.id, 'out');
      expect(cell.prepare.startsWith(`rm -rf ${shellQuote(out)} && `), cell.id).toBe(true);
      if (cell.cache === 'cold') expect(cell.prepare.endsWith(` && ${EVICT}`), cell.id).toBe(true);
      else expect(cell.prepare, cell.id).not.toContain('drop_caches');
    }
    expect(cells.filter((p) => p.cell.cache === 'cold').length).toBeGreaterThan(0);
  });

  it('carries UV_THREADPOOL_SIZE=N at the start of a threadpool cell’s command, and nowhere else', () => {
    const cells = cellsOf(matrix({ threadpool: [undefined, 4, 32] }), places());
    for (const { cell } of cells) {
      if (cell.threadpool === undefined) expect(cell.command).not.toContain('UV_THREADPOOL_SIZE');
      else {
        expect(cell.command.startsWith(`UV_THREADPOOL_SIZE=${cell.threadpool} /usr/bin/node `)).toBe(true);
        expect(cell.id.endsWith(`-tp${cell.threadpool}`)).toBe(true);
        expect(cell.label).toContain(`pool ${cell.threadpool}`);
      }
    }
  });

  it('adds --discard for read, -t per transform, --fsync for fsync, nothing for copy', () => {
    const m = matrix({
      concurrency: [4],
      work: ['read', 'copy', 'transform', 'fsync'],
      transforms: ['gzip', 'brotli'],
    });
    const byWork = new Map(cellsOf(m, places()).map((p) => [p.cell.work, argvOf(p)]));
    const flags = (work: string) =>
      (byWork.get(work as never) ?? []).filter((w) => /^-(-discard|-fsync|t)$/.test(w));
    expect(flags('read')).toEqual(['--discard']);
    expect(flags('copy')).toEqual([]);
    expect(flags('fsync')).toEqual(['--fsync']);
    const transform = byWork.get('transform') ?? [];
    expect(transform.join(' ')).toContain('-t gzip -t brotli');
  });

  it('runs concurrency 1 as --sequential and others as -j N; --read only when not auto', () => {
    const cells = cellsOf(matrix({ concurrency: [1, 64], read: ['auto', 'direct'] }), places());
    for (const planned of cells) {
      const argv = argvOf(planned);
      const { cell } = planned;
      if (cell.concurrency === 1) {
        expect(argv).toContain('--sequential');
        expect(argv).not.toContain('-j');
        expect(cell.label.startsWith('--sequential, ')).toBe(true);
      } else {
        expect(argv.join(' ')).toContain('-j 64');
        expect(argv).not.toContain('--sequential');
      }
      if (cell.read === 'auto') expect(argv).not.toContain('--read');
      else expect(argv.join(' ')).toContain('--read direct');
      expect(argv.slice(-4)).toEqual([
        '-q',
        '--no-progress',
        '--report',
        join(places().scratch, cell.id, 'report.json'),
      ]);
    }
  });

  it('adds the references only when asked: a sync loop per cache state, then one overhead cell', () => {
    const without = cellsOf(matrix({ cache: ['warm', 'cold'] }), places()).map((p) => p.cell);
    expect(without.every((c) => c.kind === 'globpipe')).toBe(true);
    const planned = cellsOf(matrix({ cache: ['warm', 'cold'], references: true }), places());
    const kinds = planned.map((p) => p.cell.kind);
    expect(kinds.filter((k) => k === 'globpipe')).toHaveLength(without.length);
    expect(planned.slice(without.length).map((p) => p.cell.id)).toEqual([
      'sync-loop-warm-copy',
      'sync-loop-cold-copy',
      'overhead',
    ]);
    const loop = planned.find((p) => p.cell.id === 'sync-loop-warm-copy') as Planned;
    expect(argvOf(loop).slice(0, 3)).toEqual(['/usr/bin/node', places().syncLoop, hostile]);
    // The list the loop reads is written again by its prepare: a rerun by hand needs no bench.
    expect(loop.cell.prepare).toContain(`${shellQuote(places().syncLoop)} --list ${shellQuote(hostile)}`);
    const overhead = planned.find((p) => p.cell.kind === 'overhead') as Planned;
    expect(argvOf(overhead)).toEqual(expect.arrayContaining(['--dry-run', '-j', '1']));
    expect(overhead.cell.cache).toBe('warm');
  });

  it('has the sync loop read only (--discard) when the work is read and not copy', () => {
    const loop = cellsOf(matrix({ work: ['read'], references: true }), places()).find(
      (p) => p.cell.kind === 'sync-loop',
    ) as Planned;
    expect(loop.cell.work).toBe('read');
    expect(argvOf(loop).at(-1)).toBe('--discard');
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest, each quote closed and escaped', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellQuote('UV_THREADPOOL_SIZE=4')).toBe('UV_THREADPOOL_SIZE=4');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    for (const word of ['a b', "it's", '$HOME', '`id`', '*', 'a\nb', '"x"', '\\', '-', '~'])
      expect(words(shellQuote(word))).toEqual([word]);
  });
});
