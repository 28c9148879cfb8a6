import { parentPort } from 'node:worker_threads';
import { type OpResult, runOp, type SyncOp } from './sync-ops.js';

// One batch per message: every op runs to completion with synchronous calls, in order.
parentPort?.on('message', ({ id, ops }: { id: number; ops: SyncOp[] }) => {
  const results: OpResult[] = ops.map(runOp);
  const transfer: ArrayBuffer[] = [];
  for (const result of results) {
    if (result.ok && result.data !== undefined) transfer.push(result.data.buffer as ArrayBuffer);
  }
  parentPort?.postMessage({ id, results }, transfer);
});
