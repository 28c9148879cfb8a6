#!/usr/bin/env node
// npm run bench [-- --quick] [--runs N] [--only copy,identity,gzip,cold,warm,memory]
//
// Compares globpipe with the tools a user would otherwise pick, in one run,
// alternating them round by round, and writes bench/RESULTS.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigFile, smallFiles } from './datasets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const quick = flag('quick');
const runs = Number(option('runs', quick ? 3 : 5));
const only = option('only', 'copy,identity,gzip,cold,warm,memory,sweep').split(',');
const bin = join(root, 'bin', 'globpipe.js');
const modules = join(root, 'node_modules', '.bin');
const cores = cpus().length;

const fast = existsSync('/dev/shm') ? '/dev/shm/globpipe-bench' : join(tmpdir(), 'globpipe-bench');
const disk = join(tmpdir(), 'globpipe-bench-disk');
const scratch = join(fast, 'out');

const sizes = quick
  ? { smallCount: 2000, textCount: 20, bigSize: 64 * 1024 * 1024, manyCount: 20_000 }
  : { smallCount: 20_000, textCount: 200, bigSize: 2 * 1024 * 1024 * 1024, manyCount: 200_000 };

function log(line) {
  process.stderr.write(`${line}\n`);
}

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Peers from Debian where the machine lets us install them (root, apt); the npm ones are devDependencies. */
function ensureDebianTools() {
  const wanted = [
    ['pigz', 'pigz'],
    ['/usr/bin/time', 'time'],
  ].filter(([command]) => !have(command));
  if (wanted.length === 0 || process.getuid?.() !== 0 || !have('apt-get')) return;
  log(`installing ${wanted.map(([, pkg]) => pkg).join(', ')} with apt-get`);
  spawnSync(
    'sh',
    ['-c', `apt-get update -qq && apt-get install -y -qq ${wanted.map(([, pkg]) => pkg).join(' ')}`],
    {
      stdio: 'ignore',
    },
  );
}

const canDropCaches = (() => {
  try {
    execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function dropCaches() {
  execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
}

/** Runs a shell command; resolves with wall seconds, peak RSS in MiB (from GNU time: KiB / 1024, if there), and output. */
function measure(command, { env = {}, firstLine = false } = {}) {
  return new Promise((resolve, reject) => {
    const timed = existsSync('/usr/bin/time')
      ? `/usr/bin/time -f '__RSS__ %M' sh -c ${quote(command)}`
      : command;
    const started = process.hrtime.bigint();
    let firstLineAt;
    const child = spawn('sh', ['-c', timed], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', () => {
      if (firstLine && firstLineAt === undefined)
        firstLineAt = Number(process.hrtime.bigint() - started) / 1e9;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) {
        reject(new Error(`\`${command}\` exited ${code}: ${stderr.slice(-500)}`));
        return;
      }
      const rss = /__RSS__ (\d+)/.exec(stderr);
      resolve({ seconds, rssMib: rss ? Number(rss[1]) / 1024 : undefined, firstLine: firstLineAt });
    });
  });
}

function quote(value) {
  return `'${String(value).replaceAll("'", `'\\''`)}'`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs every contender `runs` times, alternating: round r runs them all, in an
 * order rotated by r, so drift on the machine hits each one alike.
 */
async function compare(title, contenders, { before, reference } = {}) {
  log(`\n## ${title}`);
  const times = new Map(contenders.map((c) => [c.name, []]));
  const rss = new Map(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < runs; round += 1) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const contender of order) {
      contender.reset?.();
      before?.();
      const result = await measure(contender.command);
      times.get(contender.name).push(result.seconds);
      if (result.rssMib !== undefined) rss.get(contender.name).push(result.rssMib);
      log(`  round ${round + 1}: ${contender.name.padEnd(28)} ${result.seconds.toFixed(3)} s`);
    }
  }
  const rows = contenders.map((c) => {
    const t = times.get(c.name);
    return {
      name: c.name,
      command: c.command,
      median: median(t),
      min: Math.min(...t),
      max: Math.max(...t),
      rss: rss.get(c.name).length > 0 ? median(rss.get(c.name)) : undefined,
    };
  });
  const ref = rows.find((r) => r.name === reference) ?? rows[0];
  for (const row of rows) row.ratio = row.median / ref.median;
  return { title, rows, reference: ref.name };
}

function table(result) {
  const lines = [
    `### ${result.title}`,
    '',
    `| tool | median | min–max | × ${result.reference.replaceAll('|', '\\|')} | peak RSS |`,
    '|---|---|---|---|---|',
  ];
  for (const row of result.rows) {
    lines.push(
      `| ${row.name.replaceAll('|', '\\|')} | ${row.median.toFixed(3)} s | ${row.min.toFixed(3)}–${row.max.toFixed(3)} s | ${row.ratio.toFixed(2)} | ${row.rss === undefined ? '–' : `${row.rss.toFixed(0)} MiB`} |`,
    );
  }
  lines.push(
    '',
    '<details><summary>commands</summary>',
    '',
    ...result.rows.map((r) => `- ${r.name}: \`${r.command}\``),
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}

const clean = (dir) => () => rmSync(dir, { recursive: true, force: true });
const globpipe = (rest) => `node ${quote(bin)} ${rest}`;

async function main() {
  ensureDebianTools();
  mkdirSync(fast, { recursive: true });
  log(
    `datasets in ${fast} (and ${disk} for the cold cache); ${runs} alternating runs each${quick ? ' (quick)' : ''}`,
  );
  const small = smallFiles(join(fast, 'small'), sizes.smallCount, 4096, 100);
  const text = smallFiles(join(fast, 'text'), sizes.textCount, 1024 * 1024, 10);
  const identity = join(root, 'bench', 'identity.mjs');
  const out = join(scratch, 'o');
  const results = [];
  const notes = [];

  if (only.includes('copy')) {
    results.push(
      await compare(
        `Copy ${sizes.smallCount.toLocaleString('en')} files of 4 KiB, tmpfs, warm cache`,
        [
          {
            name: 'globpipe',
            command: globpipe(`-C ${quote(small)} -o ${quote(out)} -q`),
            reset: clean(out),
          },
          { name: 'cp -r', command: `cp -r ${quote(small)} ${quote(out)}`, reset: clean(out) },
          {
            name: 'cpy-cli',
            command: `${quote(join(modules, 'cpy'))} '**/*' ${quote(out)} --cwd=${quote(small)}`,
            reset: clean(out),
          },
          {
            name: 'gulp (src → dest)',
            command: `BENCH_SRC=${quote(small)} BENCH_OUT=${quote(out)} ${quote(join(modules, 'gulp'))} --silent --gulpfile ${quote(join(root, 'bench', 'gulpfile.cjs'))} --cwd ${quote(root)}`,
            reset: clean(out),
          },
        ],
        { reference: 'cp -r' },
      ),
    );
  }

  // The read-every-byte job the identity, cold, warm and sweep sections time, over `dir`, with `extra` options.
  const throughIdentity = (name, dir, extra = '') => ({
    name,
    command: globpipe(`-C ${quote(dir)} -t ${quote(identity)} -o ${quote(out)} -q${extra}`),
    reset: clean(out),
  });
  const defaultAndSequential = (dir) => [
    throughIdentity('globpipe (default)', dir),
    throughIdentity('globpipe --sequential', dir, ' --sequential'),
  ];

  if (only.includes('identity')) {
    results.push(
      await compare(
        `Read and write every byte: a buffer transform returning its input, ${sizes.smallCount.toLocaleString('en')} × 4 KiB, tmpfs, warm`,
        [
          throughIdentity('globpipe -t identity.mjs', small),
          { name: 'cp -r', command: `cp -r ${quote(small)} ${quote(out)}`, reset: clean(out) },
        ],
        { reference: 'cp -r' },
      ),
    );
  }

  if (only.includes('gzip')) {
    const removeGz = () => spawnSync('sh', ['-c', `find ${quote(text)} -name '*.gz' -delete`]);
    const contenders = [
      {
        name: 'globpipe -t gzip',
        command: globpipe(`-C ${quote(text)} '**/*.txt' -t gzip --level 6 -o ${quote(out)} -q`),
        reset: clean(out),
      },
      {
        name: `find | xargs -P${cores} gzip -6 -k`,
        command: `find ${quote(text)} -name '*.txt' -print0 | xargs -0 -P${cores} -n 8 gzip -6 -k`,
        reset: removeGz,
      },
      {
        name: 'gzipper (level 6)',
        command: `${quote(join(modules, 'gzipper'))} compress --gzip --gzip-level 6 --no-color ${quote(text)} ${quote(out)} > /dev/null`,
        reset: clean(out),
      },
      {
        name: 'precompress (gz only)',
        command: `${quote(join(modules, 'precompress'))} -s -t gz -o ${quote(out)} -b ${quote(text)} ${quote(text)}`,
        reset: clean(out),
      },
    ];
    if (have('pigz')) {
      contenders.push({
        name: `pigz -6 -k -p ${cores} (reference)`,
        command: `find ${quote(text)} -name '*.txt' -print0 | xargs -0 pigz -6 -k -p ${cores}`,
        reset: removeGz,
      });
    }
    results.push(
      await compare(`gzip -6 of ${sizes.textCount} files of 1 MiB text, tmpfs`, contenders, {
        reference: `find | xargs -P${cores} gzip -6 -k`,
      }),
    );
    removeGz();
  }

  if (only.includes('cold')) {
    if (!canDropCaches) {
      notes.push('Cold cache: skipped, `/proc/sys/vm/drop_caches` is not writable here (needs root).');
    } else {
      const onDisk = smallFiles(join(disk, 'small'), sizes.smallCount, 4096, 100);
      results.push(
        await compare(
          `Cold cache: ${sizes.smallCount.toLocaleString('en')} × 4 KiB from ext4 (${disk}) through identity.mjs to tmpfs, caches dropped before each run`,
          defaultAndSequential(onDisk),
          { before: dropCaches, reference: 'globpipe --sequential' },
        ),
      );
    }
  }

  if (only.includes('warm')) {
    results.push(
      await compare(
        `Warm cache: ${sizes.smallCount.toLocaleString('en')} × 4 KiB on tmpfs through identity.mjs`,
        defaultAndSequential(small),
        { reference: 'globpipe --sequential' },
      ),
    );
  }

  if (only.includes('sweep')) {
    // Why the default concurrency is what it is: the same job at several -j, warm and cold.
    const onDisk = canDropCaches ? smallFiles(join(disk, 'small'), sizes.smallCount, 4096, 100) : undefined;
    const levels = quick ? [1, 16, 256] : [1, 4, 16, 64, 128, 256, 512];
    results.push(
      await compare(
        `Concurrency sweep, warm: ${sizes.smallCount.toLocaleString('en')} × 4 KiB on tmpfs through identity.mjs`,
        levels.map((j) => throughIdentity(`-j ${j}`, small, ` -j ${j}`)),
        { reference: '-j 1' },
      ),
    );
    if (onDisk !== undefined) {
      results.push(
        await compare(
          `Concurrency sweep, cold: ${sizes.smallCount.toLocaleString('en')} × 4 KiB from ext4 through identity.mjs, caches dropped before each run`,
          levels.map((j) => throughIdentity(`-j ${j}`, onDisk, ` -j ${j}`)),
          { before: dropCaches, reference: '-j 1' },
        ),
      );
    }
  }

  const memory = [];
  if (only.includes('memory')) {
    log('\n## Memory');
    const big = bigFile(join(fast, 'big'), sizes.bigSize);
    const many = smallFiles(join(fast, 'many'), sizes.manyCount, 512, 1000);
    const bigRuns = [];
    const manyRuns = [];
    for (let round = 0; round < Math.min(runs, 3); round += 1) {
      clean(out)();
      // One gzip of the big file is enough for its peak RSS (and takes minutes on a slow core).
      if (round === 0) bigRuns.push(await measure(globpipe(`-C ${quote(big)} -t gzip -o ${quote(out)} -q`)));
      log(
        `  round ${round + 1}: gzip of one ${(sizes.bigSize / 2 ** 30).toFixed(2)} GiB file: ${bigRuns.at(-1).seconds.toFixed(2)} s, ${bigRuns.at(-1).rssMib?.toFixed(0)} MiB`,
      );
      clean(out)();
      manyRuns.push(
        await measure(globpipe(`-C ${quote(many)} -o ${quote(out)} --json`), { firstLine: true }),
      );
      log(
        `  round ${round + 1}: copy of ${sizes.manyCount.toLocaleString('en')} files: ${manyRuns.at(-1).seconds.toFixed(2)} s, ${manyRuns.at(-1).rssMib?.toFixed(0)} MiB, first output at ${manyRuns.at(-1).firstLine?.toFixed(2)} s`,
      );
    }
    clean(out)();
    memory.push(
      `| gzip of one ${(sizes.bigSize / 2 ** 30).toFixed(2)} GiB file | ${median(bigRuns.map((r) => r.seconds)).toFixed(2)} s | ${median(bigRuns.map((r) => r.rssMib ?? Number.NaN)).toFixed(0)} MiB | – |`,
      `| copy of ${sizes.manyCount.toLocaleString('en')} files of 512 B | ${median(manyRuns.map((r) => r.seconds)).toFixed(2)} s | ${median(manyRuns.map((r) => r.rssMib ?? Number.NaN)).toFixed(0)} MiB | ${median(manyRuns.map((r) => r.firstLine ?? Number.NaN)).toFixed(2)} s |`,
    );
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const report = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Machine: ${cpu}, ${cores} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM (${(freemem() / 2 ** 30).toFixed(0)} GiB free), Linux ${release()}, Node ${process.version}.`,
    `Datasets on ${fast}${fast.startsWith('/dev/shm') ? ' (tmpfs)' : ''}; cold-cache dataset on ${disk}. Each figure is the median of ${runs} runs, the contenders alternating round by round; wall time of the whole command, process start included.`,
    '',
    ...results.map(table),
    ...(memory.length > 0
      ? [
          '### Memory (peak RSS from GNU time)',
          '',
          '| run | time | peak RSS | first output after |',
          '|---|---|---|---|',
          ...memory,
          '',
        ]
      : []),
    ...notes.map((n) => `${n}\n`),
  ].join('\n');
  if (!quick && only.length === 7) writeFileSync(join(root, 'bench', 'RESULTS.md'), report);
  else writeFileSync(join(root, 'bench', quick ? 'RESULTS-quick.md' : 'RESULTS-partial.md'), report);
  process.stdout.write(`${report}\n`);
  rmSync(scratch, { recursive: true, force: true });
}

main().catch((error) => {
  log(`bench failed: ${error.message}`);
  process.exitCode = 1;
});
