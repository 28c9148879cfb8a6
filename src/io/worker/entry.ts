import { parentPort } from 'node:worker_threads';
import { handle } from './handle.js';
import type { Request } from './protocol.js';

// An IO worker: one message at a time, every file in it run to completion with synchronous calls.
parentPort?.on('message', (message: { id: number; body: Request }) => {
  const reply = handle(message.body);
  parentPort?.postMessage({ id: message.id, body: reply }, reply.data === undefined ? [] : [reply.data]);
});
