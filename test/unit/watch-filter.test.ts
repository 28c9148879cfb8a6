import { mkdirSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { formatBatch } from '../../src/cli/watch-main.js';
import { pruned, selection } from '../../src/plan/selection.js';
import { builtin } from '../../src/transforms/builtins.js';
import { sortPaths, type WatchState } from '../../src/watch/batch.js';
import { filesUnder } from '../../src/watch/crawl.js';
import { identityOf, OwnWrites, watchIgnored } from '../../src/watch/own-writes.js';
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

function watchState(cwd: string, outputsOf: [string, string[]][] = []): WatchState {
  return {
    cwd,
    out: cwd,
    own: new OwnWrites(),
    outputsOf: new Map(outputsOf),
    ran: new Map(),
    failed: new Set(),
    ignored: watchIgnored(cwd, cwd),
    followSymlinks: false,
  };
}

/** As a batch finds files once their events have gone quiet (ctime cannot be set back). */
const quiet = (): Promise<void> => sleep(80);

describe('sortPaths: a batch of changed paths into files to run and inputs gone', () => {
  it('drops our own writes and gone paths nothing was written for; a gone directory takes its inputs', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'new'));
    for (const name of ['a.txt', 'a.txt.gz', 'new/n.txt']) writeFileSync(join(cwd, name), name);
    const state = watchState(cwd, [
      ['a.txt', ['a.txt.gz']],
      ['gone/x.txt', ['gone/x.txt.gz']],
      ['gone/y/z.txt', ['gone/y/z.txt.gz']],
      ['c.txt', ['c.txt.gz']],
      ['gone.txt', ['gone.txt.gz']],
    ]);
    state.own.remember(join(cwd, 'a.txt.gz'), statSync(join(cwd, 'a.txt.gz')));
    const sorted = await sortPaths(
      ['a.txt', 'a.txt.gz', 'new', 'new/n.txt', 'gone', 'sedX1b2c3', 'c.txt'],
      state,
    );
    expect(sorted.present).toEqual(['a.txt', 'new/n.txt']);
    expect(sorted.gone.sort()).toEqual(['c.txt', 'gone/x.txt', 'gone/y/z.txt']);
  });

  it('a new directory stands for every file beneath it, those no event reported included', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'new/deep/deeper'), { recursive: true });
    for (const name of ['new/a.txt', 'new/deep/b.txt', 'new/deep/deeper/c.txt'])
      writeFileSync(join(cwd, name), name);
    // chokidar reported the directories and one file: the others were written before it watched.
    const sorted = await sortPaths(['new', 'new/deep', 'new/a.txt'], watchState(cwd));
    expect(sorted.present.sort()).toEqual(['new/a.txt', 'new/deep/b.txt', 'new/deep/deeper/c.txt']);
    expect(sorted.gone).toEqual([]);
  });

  it('an input a batch ran starts nothing while unchanged; any change to it, even to the same size, does', async () => {
    const cwd = tempDir();
    const path = join(cwd, 'a.txt');
    writeFileSync(path, 'alpha');
    await quiet();
    const state = watchState(cwd);
    const first = await sortPaths(['a.txt'], state);
    expect(first.present).toEqual(['a.txt']);
    // What recordedRun does once the run has handled it.
    state.ran.set('a.txt', first.identities.get('a.txt') as string);
    expect((await sortPaths(['a.txt'], state)).present).toEqual([]);
    writeFileSync(path, 'ALPHA');
    expect((await sortPaths(['a.txt'], state)).present).toEqual(['a.txt']);
  });

  it('a file changed within a timestamp tick is looked at again after it: a change meanwhile is not lost', async () => {
    const cwd = tempDir();
    const path = join(cwd, 'fresh.txt');
    writeFileSync(path, 'fresh');
    const state = watchState(cwd);
    // Rewritten to the same size while the batch waits out the tick.
    const rewrite = sleep(5).then(() => writeFileSync(path, 'FRESH'));
    const sorted = await sortPaths(['fresh.txt'], state);
    await rewrite;
    expect(sorted.present).toEqual(['fresh.txt']);
    for (const [rel, identity] of sorted.identities) state.ran.set(rel, identity);
    // The rewrite's own event: whatever the batch read, this one runs.
    expect((await sortPaths(['fresh.txt'], state)).present).toEqual(['fresh.txt']);
  });

  it('a file that settled while the batch waited is recorded as it is then', async () => {
    const cwd = tempDir();
    const path = join(cwd, 'fresh.txt');
    writeFileSync(path, 'fresh');
    const sorted = await sortPaths(['fresh.txt'], watchState(cwd));
    expect(sorted.identities.get('fresh.txt')).toBe(identityOf(statSync(path)));
  });

  it('an input gone is forgotten: a new file at its path runs whatever its stats', async () => {
    const cwd = tempDir();
    const state = watchState(cwd, [['a.txt', ['a.txt.gz']]]);
    state.ran.set('a.txt', 'anything');
    expect((await sortPaths(['a.txt'], state)).gone).toEqual(['a.txt']);
    expect(state.ran.has('a.txt')).toBe(false);
  });
});

describe('filesUnder: the files beneath a new directory', () => {
  it('enters no ignored directory, skips temps, follows a symlinked directory only when asked, each once', () => {
    const cwd = tempDir();
    for (const dir of ['d/sub', 'd/build', 'elsewhere']) mkdirSync(join(cwd, dir), { recursive: true });
    for (const name of ['d/a.txt', 'd/sub/b.txt', 'd/build/out.txt', 'elsewhere/e.txt'])
      writeFileSync(join(cwd, name), name);
    writeFileSync(join(cwd, 'd/.a.txt.1-2-3.globpipe-tmp'), 'temp');
    symlinkSync(join(cwd, 'elsewhere'), join(cwd, 'd/link'));
    symlinkSync(join(cwd, 'd'), join(cwd, 'd/sub/loop'));
    const ignored = watchIgnored(cwd, join(cwd, 'd/build'));
    return Promise.all([
      filesUnder(cwd, 'd', ignored, false).then((files) =>
        expect(files.sort()).toEqual(['d/a.txt', 'd/link', 'd/sub/b.txt', 'd/sub/loop']),
      ),
      filesUnder(cwd, 'd', ignored, true).then((files) =>
        expect(files.sort()).toEqual(['d/a.txt', 'd/link/e.txt', 'd/sub/b.txt']),
      ),
    ]);
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
