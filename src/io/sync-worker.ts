import { parentPort } from 'node:worker_threads';
import { runBatch } from './batch-ops.js';
import type { BatchOp } from './batch-protocol.js';
import { type OpResult, runOp, type SyncOp } from './sync-ops.js';

// One message at a time: every op runs to completion with synchronous calls, in order.
parentPort?.on('message', (message: { id: number; ops: SyncOp[] } | { id: number; batch: BatchOp }) => {
  const { id } = message;
  if ('batch' in message) {
    const batch = runBatch(message.batch);
    parentPort?.postMessage({ id, batch }, batch.data === undefined ? [] : [batch.data]);
    return;
  }
  const results: OpResult[] = message.ops.map(runOp);
  const transfer: ArrayBuffer[] = [];
  for (const result of results) {
    if (result.ok && result.data !== undefined) transfer.push(result.data.buffer as ArrayBuffer);
  }
  parentPort?.postMessage({ id, results }, transfer);
});
