import type { Options } from 'yargs';
import { knownNames } from '../transforms/builtins.js';
import { numeric } from './flags.js';

/** The main command's flags as yargs declares them: what --help lists, and how args.ts reads argv. */
export const runFlags = {
  cwd: {
    alias: 'C',
    type: 'string',
    // No yargs default: a config file's `cwd` must win over a flag nobody typed.
    defaultDescription: '.',
    describe: 'base directory for patterns and mirrored output paths',
    requiresArg: true,
  },
  out: {
    alias: 'o',
    type: 'string',
    describe: 'output directory: each file lands at <out>/<path relative to cwd>',
    requiresArg: true,
  },
  'in-place': { type: 'boolean', describe: 'replace each input with its result (atomically)' },
  resume: {
    type: 'boolean',
    describe: 'with --in-place: finish an interrupted run, skipping the files it completed',
  },
  transform: {
    alias: 't',
    type: 'string',
    array: true,
    describe: `built-in (${knownNames.join(', ')}) or module path; repeat to chain, comma list to fan out (default: copy)`,
    requiresArg: true,
    // One value an occurrence: a pattern after `-t gzip` stays a pattern.
    nargs: 1,
  },
  exec: {
    type: 'string',
    array: true,
    describe: 'run a shell command per file: file on stdin, result from stdout; {in} {rel} {out} give paths',
    requiresArg: true,
    nargs: 1,
  },
  ext: {
    type: 'string',
    describe: "replace the output file's extension, e.g. .html",
    requiresArg: true,
  },
  from: {
    type: 'string',
    describe: 'replace: the pattern, a regex (`a(b+)` or `/a(b+)/i`; every match)',
    requiresArg: true,
  },
  to: { type: 'string', describe: 'replace: the replacement, with $1 groups', requiresArg: true },
  // `-t eol` alone writes LF: said here and in the README, not at run time, where a build
  // step would print the same line on every run.
  eol: {
    type: 'string',
    describe: 'eol: the line ending to write, lf or crlf',
    defaultDescription: 'lf',
    requiresArg: true,
  },
  'from-encoding': {
    type: 'string',
    describe:
      'encoding: what the files are in, any iconv-lite name (utf-16le, windows-1252, iso-8859-15, shift_jis, euc-jp, gbk, big5, koi8-r, …)',
    requiresArg: true,
  },
  'to-encoding': {
    type: 'string',
    describe: 'encoding: what to write (default utf-8)',
    requiresArg: true,
  },
  bom: {
    type: 'boolean',
    describe:
      'encoding: start the output with a byte-order mark (input BOMs are removed; utf-16 and utf-32 always get one)',
  },
  force: {
    type: 'boolean',
    describe:
      'encoding: convert files that are already UTF-8 too (skipped by default, so a rerun never encodes twice)',
  },
  level: {
    ...numeric,
    describe:
      'compression level: gzip 1-9 (default 6), brotli 0-11 (default 11), zstd 1-22 (default 3); precompress: gzip 9 and brotli 11',
    requiresArg: true,
  },
  'min-size': {
    ...numeric,
    describe:
      'skip inputs smaller than this many bytes (default: 1024 when every output is compressed, else 0)',
    requiresArg: true,
  },
  'min-ratio': {
    ...numeric,
    describe:
      "compressors: keep an output only if output/input <= this (default 0.8); a dropped output's stale file is removed",
    requiresArg: true,
  },
  'all-types': {
    type: 'boolean',
    describe: 'compressors: compress every type (by default png, jpg, woff2, zip, mp4… are skipped)',
  },
  'delete-original': {
    type: 'boolean',
    describe: 'remove each input once all its outputs are safely written',
  },
  ignore: {
    alias: 'i',
    type: 'string',
    array: true,
    describe: 'glob to exclude (repeatable); --out is always excluded',
    requiresArg: true,
    nargs: 1,
  },
  dot: { type: 'boolean', describe: 'match names that start with a dot' },
  'follow-symlinks': { type: 'boolean', describe: 'follow symbolic links to files and directories' },
  'error-on-unmatched-pattern': {
    type: 'boolean',
    describe:
      'a pattern that matches no file is an error, exit 2 (default; --no-error-on-unmatched-pattern: it is not)',
  },
  concurrency: {
    alias: 'j',
    ...numeric,
    describe: 'files in flight (default: chosen from the machine and the transforms)',
    requiresArg: true,
  },
  sequential: { type: 'boolean', describe: 'one file at a time: the same pipeline as -j 1' },
  'dry-run': { type: 'boolean', describe: 'show what would be written, write nothing' },
  'skip-existing': { type: 'boolean', describe: "don't rewrite outputs that exist" },
  'if-newer': { type: 'boolean', describe: "don't rewrite outputs newer than their input" },
  'fail-fast': { type: 'boolean', describe: 'start nothing new after the first failure' },
  'max-errors': { ...numeric, describe: 'start nothing new after N failures', requiresArg: true },
  fsync: { type: 'boolean', describe: 'flush each output and its directory to disk (durable, slower)' },
  read: {
    type: 'string',
    describe:
      'how files are read, for measuring IO modes: auto, batch (many per request), single, stream, direct (O_DIRECT)',
    defaultDescription: 'auto',
    requiresArg: true,
  },
  discard: {
    type: 'boolean',
    describe: 'read and transform every file, write nothing (measures reads)',
  },
  incremental: {
    type: 'string',
    describe:
      'process only inputs and outputs changed since the last run; the manifest goes to the path given, else to node_modules/.cache/globpipe',
  },
  'delete-stale': {
    type: 'boolean',
    describe:
      'with --incremental (or --watch): remove outputs whose input is gone (only files globpipe wrote)',
  },
  shard: {
    type: 'string',
    describe:
      'process shard i of n of the matches (1-based, e.g. 2/4), or auto: from Kubernetes, Slurm, GitLab, CircleCI or Buildkite variables',
    requiresArg: true,
  },
  'shard-strategy': {
    type: 'string',
    describe:
      'how files are split: hash (by path, stable as files come and go), balanced (even counts), size (even bytes)',
    defaultDescription: 'hash',
    requiresArg: true,
  },
  'shard-count': {
    ...numeric,
    describe: 'the number of shards for --shard auto where the engine does not say (Kubernetes)',
    requiresArg: true,
  },
  watch: {
    type: 'boolean',
    describe: 'after the first run, process changed, added and deleted files as they change (Ctrl-C stops)',
  },
  manifest: {
    type: 'string',
    describe:
      'write what this run globbed, processed and wrote (with sha256 of each output) as JSON to this file, for globpipe verify-shards',
    requiresArg: true,
  },
  report: {
    type: 'string',
    describe: 'write the summary as JSON to this file when done, with the process CPU time and peak RSS',
    requiresArg: true,
  },
  config: {
    type: 'string',
    describe:
      'options from this file (default: globpipe.config.{ts,mts,js,mjs,cjs,json} or a "globpipe" key in package.json, from the current directory upward); flags override it',
    requiresArg: true,
  },
  pipeline: {
    type: 'string',
    array: true,
    describe: "run this pipeline of the config's (repeatable, in order; default: all)",
    requiresArg: true,
    nargs: 1,
  },
  progress: {
    type: 'boolean',
    describe: 'progress bar on stderr (default: when stderr is a terminal)',
  },
  quiet: { alias: 'q', type: 'boolean', describe: 'print only errors' },
  json: { type: 'boolean', describe: 'NDJSON on stdout: one object per file, then a summary' },
  verbose: {
    type: 'boolean',
    describe: 'list every skip, dropped output and kept file at the end (default: only on a terminal)',
  },
} satisfies Record<string, Options>;
