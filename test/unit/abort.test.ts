import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/abort.js';

describe('onAbort', () => {
  it('holds one listener for any number of waiters, and none once they all stop', () => {
    const controller = new AbortController();
    const stops = Array.from({ length: 100 }, () => onAbort(controller.signal, () => {}));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const stop of stops.slice(1)) stop();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    stops[0]?.();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Waiting again after that adds the one listener again.
    const again = onAbort(controller.signal, () => {});
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    again();
  });

  it('calls every waiter still waiting, once, and a waiter on an aborted signal at once', () => {
    const controller = new AbortController();
    const called: number[] = [];
    const stops = [1, 2, 3].map((n) => onAbort(controller.signal, () => called.push(n)));
    stops[1]?.();
    controller.abort();
    controller.abort();
    expect(called).toEqual([1, 3]);
    onAbort(controller.signal, () => called.push(4));
    expect(called).toEqual([1, 3, 4]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
