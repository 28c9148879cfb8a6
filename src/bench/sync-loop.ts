#!/usr/bin/env node
/**
 * bench's reference: the plainest way to do what a sequential run does, one synchronous
 * readFileSync and writeFileSync per file, nothing else (no temp files, no checks, no
 * queue). What globpipe's `--sequential` costs above it is the price of its pipeline and
 * of its safety (atomic, race-free writes); below it, nothing one at a time can go.
 *
 *   node sync-loop.js <root> <list> <out> --report <file> [--discard]
 *   node sync-loop.js --list <root> <list> [patterns..]
 *
 * `list` holds the files' paths relative to `root`, NUL-separated, as bytes (names need not
 * be UTF-8). The report has the fields of globpipe's own `--report`, so bench checks both alike.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

function fail(message: string, code = 2): never {
  process.stderr.write(`sync-loop: ${message}\n`);
  process.exit(code);
}

/** A file that cannot be read or written ends the loop with one line, not a stack: bench quotes it. */
function failed(error: unknown): never {
  fail((error as Error).message.split('\n')[0] ?? String(error), 1);
}

if (process.argv[2] === '--list') {
  // `--list <root> <list> [patterns..]`: writes the list as bench does (its own is gone with
  // its scratch directory), for a rerun by hand. fast-glob is loaded here only: a timed run
  // of the loop loads nothing but node's own modules. Names are found as bench finds them.
  const [, root, list, ...patterns] = process.argv.slice(2);
  if (root === undefined || list === undefined) fail('usage: sync-loop.js --list <root> <list> [patterns..]');
  const [{ findFiles }, { fsPath }] = await Promise.all([import('./dataset-scan.js'), import('../paths.js')]);
  const files = await findFiles(root, patterns.length > 0 ? patterns : ['**/*']);
  // Each name as its bytes, as bench wrote the list: names need not be UTF-8.
  const bytes = (rel: string) => {
    const name = fsPath(rel);
    return typeof name === 'string' ? Buffer.from(name) : name;
  };
  writeFileSync(list, Buffer.concat(files.flatMap((file) => [bytes(file.rel), Buffer.from([0])])));
  process.exit(0);
}

const [root, list, out, flag, report, ...rest] = process.argv.slice(2);
if (
  root === undefined ||
  list === undefined ||
  out === undefined ||
  flag !== '--report' ||
  report === undefined
)
  fail('usage: sync-loop.js <root> <list> <out> --report <file> [--discard]');
const discard = rest.includes('--discard');

const started = performance.now();
const names = readFileSync(list)
  .toString('latin1')
  .split('\0')
  .filter((name) => name !== '');
const made = new Set<string>();
const times = new Float64Array(names.length);
let bytes = 0;
for (const [i, latin1] of names.entries()) {
  try {
    times[i] = copyOne(latin1);
  } catch (error) {
    failed(error);
  }
}

/** One file read (and written), its time in ms. */
function copyOne(latin1: string): number {
  const t = performance.now();
  // latin1 keeps every byte as one character: back to the exact bytes of the name.
  const rel = Buffer.from(latin1, 'latin1');
  const data = readFileSync(Buffer.concat([Buffer.from(`${root}/`), rel]));
  bytes += data.length;
  if (!discard) {
    const slash = latin1.lastIndexOf('/');
    const dir = slash < 0 ? '' : latin1.slice(0, slash);
    if (!made.has(dir)) {
      mkdirSync(Buffer.concat([Buffer.from(`${out}/`), Buffer.from(dir, 'latin1')]), { recursive: true });
      made.add(dir);
    }
    writeFileSync(Buffer.concat([Buffer.from(`${out}/`), rel]), data);
  }
  return performance.now() - t;
}
const seconds = (performance.now() - started) / 1000;
times.sort();
const at = (q: number) =>
  times.length === 0 ? 0 : (times[Math.max(0, Math.ceil(q * times.length) - 1)] as number);
const usage = process.resourceUsage();
const summary = {
  type: 'summary',
  matched: names.length,
  written: discard ? 0 : names.length,
  discarded: discard ? names.length : 0,
  failed: 0,
  bytesIn: bytes,
  bytesOut: discard ? 0 : bytes,
  elapsedSeconds: seconds,
  latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) },
  process: {
    userSeconds: usage.userCPUTime / 1e6,
    systemSeconds: usage.systemCPUTime / 1e6,
    peakRssBytes: usage.maxRSS * 1024,
  },
};
writeFileSync(`${report}.tmp`, `${JSON.stringify(summary)}\n`);
renameSync(`${report}.tmp`, report);
