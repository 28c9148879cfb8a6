/**
 * Out of descriptors (`ulimit -n 64` with `-j 500`): other files in flight will
 * close theirs, so wait and try again rather than fail the file. Twins: the
 * async one for the main thread, the sync one for the IO workers (where
 * blocking the thread is the point).
 */
const retryCodes: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);
const RETRY_FOR_MS = 60_000;
const MAX_DELAY_MS = 50;

function shouldRetry(error: unknown, deadline: number): boolean {
  return retryCodes.has((error as NodeJS.ErrnoException | undefined)?.code ?? '') && Date.now() <= deadline;
}

/** A jittered, doubling wait: 1 ms, 2 ms, … up to 50 ms. */
function nextDelay(delay: number): number {
  return Math.min(delay * 2, MAX_DELAY_MS);
}

export async function retryOnFdExhaustion<T>(operation: () => Promise<T>): Promise<T> {
  let delay = 1;
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!shouldRetry(error, deadline)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      delay = nextDelay(delay);
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function retryOnFdExhaustionSync<T>(operation: () => T): T {
  let delay = 1;
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    try {
      return operation();
    } catch (error) {
      if (!shouldRetry(error, deadline)) throw error;
      Atomics.wait(sleeper, 0, 0, delay * (0.5 + Math.random()));
      delay = nextDelay(delay);
    }
  }
}
