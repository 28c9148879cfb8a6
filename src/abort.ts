/**
 * Waiting on a run's signal from every file in flight, through one listener per signal.
 *
 * A listener per file would pass the EventTarget limit of 10 at `-j 11` (Node then prints
 * `MaxListenersExceededWarning: … 11 abort listeners added to [AbortSignal]`), and raising
 * the limit would only hide a listener that leaks. Here the signal holds one listener
 * while anything waits, and none once nothing does.
 */
interface Waiting {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const waiting = new WeakMap<AbortSignal, Waiting>();

/**
 * Calls `callback` once when `signal` aborts (at once if it has). The function returned
 * stops waiting: call it when the work the callback would cancel is over.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => {};
  }
  let entry = waiting.get(signal);
  if (entry === undefined) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      waiting.delete(signal);
      for (const waiter of callbacks) waiter();
      callbacks.clear();
    };
    entry = { callbacks, listener };
    waiting.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = entry;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    signal.removeEventListener('abort', listener);
    if (waiting.get(signal)?.listener === listener) waiting.delete(signal);
  };
}
