#!/usr/bin/env node
// Checks `globpipe bench`'s honesty: reruns each cell of an --export-json by hand, with
// hyperfine (its recorded `prepare` as hyperfine's --prepare, its `command` as the command),
// and prints bench's median beside hyperfine's.
//
//   node bench/rerun.mjs report.json [--runs 10] [--only id,id]
//
// Needs hyperfine (Debian: apt-get install hyperfine). Exit 1 when a cell's medians differ by
// more than 10%.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const file = args.find((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = Number(flag('--runs') ?? 10);
const only = flag('--only')?.split(',');
if (file === undefined) {
  process.stderr.write('usage: node bench/rerun.mjs report.json [--runs 10] [--only id,id]\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'rerun-'));
let worst = 0;
try {
  for (const result of report.results) {
    const { id, prepare } = result.globpipe;
    if (only !== undefined && !only.includes(id)) continue;
    const out = join(scratch, `${id}.json`);
    // Through a shell, as a user would paste them (hyperfine subtracts the shell's own start).
    execFileSync(
      'hyperfine',
      ['--runs', String(runs), '--warmup', '1', '--prepare', prepare, '--export-json', out, result.command],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const median = JSON.parse(readFileSync(out, 'utf8')).results[0].median;
    const change = median / result.median - 1;
    worst = Math.max(worst, Math.abs(change));
    process.stdout.write(
      `${id.padEnd(28)} bench ${result.median.toFixed(3)} s  hyperfine ${median.toFixed(3)} s  ${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%\n`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`largest difference: ${(worst * 100).toFixed(1)}%\n`);
process.exitCode = worst > 0.1 ? 1 : 0;
