import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Gate } from '../../src/run/gate.js';

describe('Gate', () => {
  it('runs at most `limit` tasks at once, in the order they came, and passes on a failure', async () => {
    const gate = new Gate(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      running += 1;
      most = Math.max(most, running);
      await sleep(5 + (i % 3) * 5);
      running -= 1;
      if (i === 3) throw new Error('three');
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => gate.run(task(i))));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(results[3]).toMatchObject({ status: 'rejected', reason: new Error('three') });
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(8);
    // Every turn was given back: the gate is free again.
    expect(await Promise.all([gate.run(async () => 'a'), gate.run(async () => 'b')])).toEqual(['a', 'b']);
  });

  it('treats a limit below one as one', async () => {
    const gate = new Gate(0);
    let running = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        gate.run(async () => {
          running += 1;
          most = Math.max(most, running);
          await sleep(2);
          running -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
  });
});
