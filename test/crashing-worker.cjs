// An IO worker that dies on any message naming a file called `crash-me…`, as a worker killed
// mid-request would (out of memory, a fatal signal): for the tests of worker death.
const { parentPort } = require('node:worker_threads');

parentPort.on('message', (message) => {
  if (/crash-me/.test(JSON.stringify(message.body))) process.exit(7);
});
require('../dist/io/worker.cjs');
