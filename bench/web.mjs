#!/usr/bin/env node
// node bench/web.mjs [--dir <web build>] [--files 8000] [--rounds 3] [--out bench/RESULTS-web.md]
//
// Precompresses one web build (gzip + brotli) with globpipe and with the current versions of
// the peers a build step would otherwise use, round robin, and checks globpipe's outputs: each
// .gz and .br decompresses to its input, images and fonts are untouched, no output is larger
// than its input. Without --dir it writes `globpipe gen --preset web` (8,000 files, ~105 MiB).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const rounds = Number(option('rounds', 3));
const files = Number(option('files', 8000));
const report = option('out', join(root, 'bench', 'RESULTS-web.md'));
const scratch = existsSync('/dev/shm') ? '/dev/shm/globpipe-web' : '/tmp/globpipe-web';
const data = option('dir', join(scratch, 'data'));
const out = join(scratch, 'out');
const bin = join(root, 'bin', 'globpipe.js');
const log = (line) => process.stderr.write(`${line}\n`);
const quote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

// The newest release of each peer that runs on this Node: precompress 13 imports zlib's zstd,
// which Node has from 22.15 on; gzipper 8 declares Node 24 but runs on 20.
const nodeMajor = Number(process.versions.node.split('.')[0]);
const peerVersions = { gzipper: '8.3.0', precompress: nodeMajor >= 22 ? '13.0.2' : '12.0.7' };
const peers = join(root, 'bench', '.peers');

function installPeers() {
  const wanted = Object.entries(peerVersions).filter(([name, version]) => {
    const manifest = join(peers, 'node_modules', name, 'package.json');
    return !existsSync(manifest) || JSON.parse(readFileSync(manifest, 'utf8')).version !== version;
  });
  if (wanted.length === 0) return;
  mkdirSync(peers, { recursive: true });
  if (!existsSync(join(peers, 'package.json')))
    writeFileSync(join(peers, 'package.json'), '{"private":true}\n');
  const specs = wanted.map(([name, version]) => `${name}@${version}`);
  log(`installing ${specs.join(', ')} into bench/.peers`);
  const done = spawnSync(
    'npm',
    ['install', '--prefix', peers, '--no-audit', '--no-fund', '--loglevel=error', ...specs],
    {
      stdio: 'inherit',
    },
  );
  if (done.status !== 0) throw new Error('npm install of the peers failed');
}

function run(command) {
  const started = process.hrtime.bigint();
  const done = spawnSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (done.status !== 0)
    throw new Error(`${command}\nexit ${done.status}: ${done.stderr.toString().slice(-2000)}`);
  return seconds;
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** globpipe's outputs, checked against the tree they came from. */
function verify(inputs) {
  const problems = [];
  let outputs = 0;
  let untouched = 0;
  for (const input of inputs) {
    const rel = relative(data, input);
    const content = readFileSync(input);
    const kind = extname(rel).slice(1);
    for (const [ext, decompress] of [
      ['.gz', gunzipSync],
      ['.br', brotliDecompressSync],
    ]) {
      const path = join(out, rel + ext);
      if (!existsSync(path)) continue;
      outputs += 1;
      const compressed = readFileSync(path);
      if (kind === 'png' || kind === 'woff2') problems.push(`${rel}${ext}: an image or font was compressed`);
      if (compressed.length >= content.length)
        problems.push(`${rel}${ext}: ${compressed.length} B >= input ${content.length} B`);
      if (!decompress(compressed).equals(content))
        problems.push(`${rel}${ext}: does not decompress to its input`);
    }
    if (kind === 'png' || kind === 'woff2') untouched += 1;
  }
  return { outputs, untouched, problems };
}

installPeers();
if (!existsSync(data)) {
  log(`writing the web build: globpipe gen --preset web --files ${files}`);
  run(`node ${quote(bin)} gen ${quote(data)} --preset web --files ${files}`);
}
const inputs = [...walk(data)];
const bytes = inputs.reduce((sum, path) => sum + statSync(path).size, 0);
const digest = () => {
  const hash = createHash('sha256');
  for (const path of inputs) hash.update(readFileSync(path));
  return hash.digest('hex');
};
const before = digest();
const modules = join(peers, 'node_modules', '.bin');
const tools = [
  {
    name: 'globpipe -t precompress',
    command: `node ${quote(bin)} -C ${quote(data)} '**/*' -t precompress -o ${quote(out)} -q`,
  },
  {
    name: `gzipper ${peerVersions.gzipper} (gzip 9, brotli 11)`,
    command: `${quote(join(modules, 'gzipper'))} compress --gzip --brotli --gzip-level 9 --brotli-quality 11 --no-color ${quote(data)} ${quote(out)} > /dev/null`,
  },
  {
    name: `gzipper ${peerVersions.gzipper}, same work (-e png,woff2 --remove-larger)`,
    command: `${quote(join(modules, 'gzipper'))} compress --gzip --brotli --gzip-level 9 --brotli-quality 11 -e png,woff2 --remove-larger --no-color ${quote(data)} ${quote(out)} > /dev/null`,
  },
  {
    name: `precompress ${peerVersions.precompress} (defaults: gzip 9, brotli 11)`,
    command: `${quote(join(modules, 'precompress'))} -s -o ${quote(out)} -b ${quote(data)} ${quote(data)}`,
  },
];
const times = tools.map(() => []);
for (let round = 0; round < rounds; round++) {
  // Each round starts with a different tool, so none always runs on a machine the others warmed.
  for (let k = 0; k < tools.length; k++) {
    const i = (round + k) % tools.length;
    rmSync(out, { recursive: true, force: true });
    const seconds = run(tools[i].command);
    times[i].push(seconds);
    log(`round ${round + 1}/${rounds}: ${tools[i].name}: ${seconds.toFixed(2)} s`);
    if (i === 0 && round === rounds - 1) tools[0].checked = verify(inputs);
  }
}
if (tools[0].checked === undefined) {
  rmSync(out, { recursive: true, force: true });
  run(tools[0].command);
  tools[0].checked = verify(inputs);
}
const inputsUnchanged = digest() === before;
const ours = median(times[0]);
const lines = [
  '# Precompressing a web build',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${Math.round(totalmem() / 2 ** 30)} GiB · Linux ${release()} · Node ${process.version} · scratch ${scratch}`,
  '',
  `Tree: ${data === join(scratch, 'data') ? `\`globpipe gen --preset web --files ${files}\`` : `\`${data}\``}: ${inputs.length.toLocaleString('en')} files, ${(bytes / 2 ** 20).toFixed(1)} MiB. Median of ${rounds} rounds, tools in turn.`,
  '',
  '| tool | median | min–max | vs globpipe |',
  '|---|---|---|---|',
  ...tools.map((tool, i) => {
    const m = median(times[i]);
    return `| ${tool.name} | ${m.toFixed(2)} s | ${Math.min(...times[i]).toFixed(2)}–${Math.max(...times[i]).toFixed(2)} s | ${(m / ours).toFixed(2)}× |`;
  }),
  '',
  '```',
  ...tools.map((tool) => tool.command),
  '```',
  '',
  `globpipe's outputs: ${tools[0].checked.outputs.toLocaleString('en')} files, each decompressed and compared with its input; ${tools[0].checked.untouched} PNG and WOFF2 files left alone; inputs ${inputsUnchanged ? 'unchanged' : 'CHANGED'}; ${tools[0].checked.problems.length === 0 ? 'no output larger than its input' : `${tools[0].checked.problems.length} problems:`}`,
  ...tools[0].checked.problems.slice(0, 20).map((problem) => `- ${problem}`),
  '',
];
writeFileSync(report, lines.join('\n'));
process.stdout.write(lines.join('\n'));
process.exitCode = tools[0].checked.problems.length === 0 && inputsUnchanged ? 0 : 1;
