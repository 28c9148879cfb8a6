import { describe, expect, it } from 'vitest';
import { shardsOwn } from '../../src/options/incremental-options.js';
import type { ShardSettings } from '../../src/options/shard-options.js';
import { manifestPath } from '../../src/run/incremental-setup.js';
import { isJournalName, JOURNAL_NAME, journalName } from '../../src/run/journal.js';
import { LOCK_NAME, lockName } from '../../src/run/lock.js';
import { root } from '../helpers.js';
import { testSettings } from '../settings.js';

const shard = (
  index: number,
  count: number,
  strategy: ShardSettings['strategy'] = 'hash',
): ShardSettings => ({
  index,
  count,
  strategy,
  source: undefined,
});

describe("a shard's own files", () => {
  it('names journals and locks by shard, and unsharded ones as before', () => {
    expect(journalName()).toBe(JOURNAL_NAME);
    expect(journalName(shard(2, 4))).toBe('.globpipe-journal.2-of-4.jsonl');
    expect(lockName()).toBe(LOCK_NAME);
    expect(lockName(shard(2, 4))).toBe('.globpipe-lock.2-of-4');
    // The glob and the watcher leave out every shard's journal and lock, whichever shard runs.
    expect(isJournalName(journalName(shard(3, 4)))).toBe(true);
    expect(isJournalName(JOURNAL_NAME)).toBe(true);
    expect(isJournalName('journal.jsonl')).toBe(false);
    expect(lockName(shard(3, 4)).startsWith(LOCK_NAME)).toBe(true);
  });

  it('keeps an incremental manifest given by path per shard, beside it', () => {
    expect(shardsOwn('/w/inc.json', undefined)).toBe('/w/inc.json');
    expect(shardsOwn('/w/inc.json', shard(2, 4))).toBe('/w/inc.2-of-4.json');
    expect(shardsOwn('/w/cache/state', shard(1, 2))).toBe('/w/cache/state.1-of-2');
    expect(shardsOwn('/w/.manifest', shard(1, 2))).toBe('/w/.manifest.1-of-2');
    expect(shardsOwn('/w/a.b.json', shard(3, 3))).toBe('/w/a.b.3-of-3.json');
  });

  it('keeps a default incremental manifest per shard (and strategy), the unsharded one unchanged', () => {
    const path = (given?: ShardSettings) =>
      manifestPath(
        testSettings({
          cwd: root,
          out: '/out',
          incremental: { manifest: undefined, options: '' },
          shard: given,
        }),
        testSettings({ cwd: root, out: '/out' }),
      );
    const names = [
      path(),
      path(shard(1, 4)),
      path(shard(2, 4)),
      path(shard(2, 3)),
      path(shard(2, 4, 'balanced')),
    ];
    expect(new Set(names).size).toBe(names.length);
    expect(path(shard(2, 4))).toBe(names[2]);
    expect(path()).toMatch(/[\\/]globpipe[\\/][\w-]{24}\.json$/);
  });
});
