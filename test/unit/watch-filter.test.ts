import { mkdirSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBatch } from '../../src/cli/watch-main.js';
import { pruned, selection } from '../../src/plan/selection.js';
import { builtin } from '../../src/transforms/builtins.js';
import { sortPaths, type WatchState } from '../../src/watch/batch.js';
import { OwnWrites, watchIgnored } from '../../src/watch/own-writes.js';
import { tempDir } from '../helpers.js';
import { testSettings } from '../settings.js';

describe('watchIgnored: what the file watcher never looks at', () => {
  it('temps anywhere, the in-place journal and lock at the root, and --out inside --cwd', () => {
    const ignored = watchIgnored('/site', '/site/build');
    expect(ignored('/site/a/.index.html.4242-0a1b2c3d4e5f60-7.globpipe-tmp')).toBe(true);
    expect(ignored('/site/.globpipe-journal.jsonl')).toBe(true);
    expect(ignored('/site/.globpipe-lock')).toBe(true);
    expect(ignored('/site/.globpipe-lock.4242.tmp')).toBe(true);
    expect(ignored('/site/build')).toBe(true);
    expect(ignored('/site/build/a/b.txt')).toBe(true);
    expect(ignored('/site')).toBe(false);
    expect(ignored('/site/a.txt')).toBe(false);
    expect(ignored('/site/builds/a.txt')).toBe(false);
    expect(ignored('/site/sub/.globpipe-journal.jsonl')).toBe(false);
  });

  it('an out equal to cwd is watched: the inputs are there (own outputs are told apart by OwnWrites)', () => {
    const ignored = watchIgnored('/dist', '/dist');
    expect(ignored('/dist/a.js')).toBe(false);
    expect(ignored('/dist/a.js.gz')).toBe(false);
    expect(ignored('/dist/.a.js.gz.1-2-3.globpipe-tmp')).toBe(true);
  });

  it('an out elsewhere ignores nothing of the tree', () => {
    const ignored = watchIgnored('/src', '/out');
    expect(ignored('/src/out/a.txt')).toBe(false);
  });
});

describe('OwnWrites: a path is ours while it holds the file we wrote', () => {
  it('until anyone changes it, even to the same size', () => {
    const dir = tempDir();
    const path = join(dir, 'a.txt.gz');
    writeFileSync(path, 'written');
    const own = new OwnWrites();
    own.remember(path, statSync(path));
    expect(own.isOurs(path, statSync(path))).toBe(true);
    writeFileSync(path, 'changed');
    utimesSync(path, new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(own.isOurs(path, statSync(path))).toBe(false);
  });

  it('a file renamed over it is not ours', () => {
    const dir = tempDir();
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'same');
    const own = new OwnWrites();
    own.remember(path, statSync(path));
    writeFileSync(join(dir, '.tmp'), 'same');
    renameSync(join(dir, '.tmp'), path);
    expect(own.isOurs(path, statSync(path))).toBe(false);
    own.forget(path);
    expect(own.isOurs(path, statSync(path))).toBe(false);
  });
});

describe('sortPaths: a batch of changed paths into files to run and inputs gone', () => {
  it('drops our own writes, directories and gone paths nothing was written for; a gone directory takes its inputs', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'new'));
    for (const name of ['a.txt', 'a.txt.gz', 'new/n.txt']) writeFileSync(join(cwd, name), name);
    const state: WatchState = {
      cwd,
      out: cwd,
      own: new OwnWrites(),
      outputsOf: new Map([
        ['a.txt', ['a.txt.gz']],
        ['gone/x.txt', ['gone/x.txt.gz']],
        ['gone/y/z.txt', ['gone/y/z.txt.gz']],
        ['c.txt', ['c.txt.gz']],
        ['gone.txt', ['gone.txt.gz']],
      ]),
    };
    state.own.remember(join(cwd, 'a.txt.gz'), statSync(join(cwd, 'a.txt.gz')));
    const sorted = await sortPaths(
      ['a.txt', 'a.txt.gz', 'new', 'new/n.txt', 'gone', 'sedX1b2c3', 'c.txt'],
      state,
    );
    expect(sorted.present).toEqual(['a.txt', 'new/n.txt']);
    expect(sorted.gone.sort()).toEqual(['c.txt', 'gone/x.txt', 'gone/y/z.txt']);
  });
});

describe('selection: what the glob would match, from the path alone', () => {
  it('positive patterns, exclusions, ignores that prune directories, dotfiles', () => {
    const selects = selection(
      testSettings({ patterns: ['**/*.{js,css}', '!**/*.min.js'], ignore: ['node_modules', 'dist/**'] }),
    );
    expect(selects('a.js')).toBe(true);
    expect(selects('deep/b/c.css')).toBe(true);
    expect(selects('a.txt')).toBe(false);
    expect(selects('a.min.js')).toBe(false);
    expect(selects('node_modules/x/i.js')).toBe(false);
    expect(selects('dist/a.js')).toBe(false);
    expect(selects('.hidden/a.js')).toBe(false);
    expect(selection(testSettings({ patterns: ['**/*.js'], dot: true }))('.hidden/a.js')).toBe(true);
  });

  it('the settings ignore --out inside --cwd as normalize puts it', () => {
    const selects = selection(testSettings({ ignore: ['build/**'], stages: [[builtin('gzip', {})]] }));
    expect(selects('build/a.txt.gz')).toBe(false);
    expect(selects('a.txt')).toBe(true);
  });
});

describe('pruned: directories the walk never enters, so the watch never watches', () => {
  it('pruning exclusions, and dot names unless a pattern or --dot selects them', () => {
    const prunes = pruned(
      testSettings({ patterns: ['**/*', '!**/*.map'], ignore: ['node_modules', 'tmp/**'] }),
    );
    expect(prunes('node_modules')).toBe(true);
    expect(prunes('a/node_modules')).toBe(false);
    expect(prunes('tmp')).toBe(true);
    expect(prunes('.git')).toBe(true);
    expect(prunes('src/.cache')).toBe(true);
    expect(prunes('src')).toBe(false);
    expect(prunes('a.js.map')).toBe(false);
    expect(pruned(testSettings({ dot: true }))('.git')).toBe(false);
    expect(pruned(testSettings({ patterns: ['.github/**/*.yml'] }))('.github')).toBe(false);
  });

  it('watchIgnored takes them, by path relative to cwd', () => {
    const ignored = watchIgnored('/site', '/out', pruned(testSettings({ ignore: ['node_modules'] })));
    expect(ignored('/site/node_modules')).toBe(true);
    expect(ignored('/site/.git')).toBe(true);
    expect(ignored('/site')).toBe(false);
    expect(ignored('/site/src/a.js')).toBe(false);
  });
});

describe('formatBatch', () => {
  const summary = {
    written: 2,
    planned: 0,
    discarded: 0,
    skipped: 0,
    failed: 0,
    notProcessed: 0,
    interrupted: false,
  } as Parameters<typeof formatBatch>[0]['summary'];
  it('one line: what changed, what was done, how long it took', () => {
    expect(
      formatBatch({
        index: 3,
        changed: 3,
        deleted: [{ input: 'c.txt', removed: ['c.txt.gz'], kept: [] }],
        summary,
        ms: 40,
      }),
    ).toBe('globpipe: 3 changed: 2 written, 1 removed | 0.04 s');
    expect(
      formatBatch({
        index: 4,
        changed: 1,
        deleted: [{ input: 'c.txt', removed: [], kept: ['c.txt'] }],
        summary: { ...summary, written: 0 },
        ms: 10,
      }),
    ).toBe('globpipe: 1 changed: 1 input gone (outputs kept; --delete-stale removes them) | 0.01 s');
  });
});
