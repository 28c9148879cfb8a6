#!/usr/bin/env node
'use strict';
// CommonJS on purpose (see bin/package.json): an ES module entry is read through
// libuv's threadpool, which fixes the pool's size before any code here could set it.
// The pool runs every fs call and zlib job; its default of 4 threads starves the
// concurrency globpipe uses on cold caches and slow disks.
const { availableParallelism } = require('node:os');

if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.min(64, Math.max(16, availableParallelism() * 4)));
}

let settled = false;
import('../dist/cli/bundle.js')
  .then(
    (cli) => cli.main(process.argv.slice(2)),
    (error) => {
      process.stderr.write(
        `globpipe: cannot start: ${error?.message}\nRun \`npm run build\` first when working from a clone.\n`,
      );
      process.exitCode = 2;
    },
  )
  .finally(() => {
    settled = true;
  });

// A run whose work vanished (a promise nothing will settle) must not pass for a success.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('globpipe: internal error: the run stopped before it finished\n');
  process.exitCode = 1;
});
