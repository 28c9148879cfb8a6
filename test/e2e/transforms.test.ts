import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bin, makeTree, readTree, root, runCli, site, siteFiles, tempDir, writeTree } from '../helpers.js';

const examples = join(root, 'examples');

function module(name: string, source: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, source);
  return path;
}

const tree = writeTree;

function pgrep(pattern: string): string[] {
  const found = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean);
}

describe('--exec', () => {
  it("'tr a-z A-Z' over the fixtures equals running tr on each file by hand", async () => {
    const out = tempDir();
    const result = await runCli(['-C', site, '--exec', 'tr a-z A-Z', '-o', out]);
    expect(result.code).toBe(0);
    const expected = new Map(
      [...siteFiles()].map(([path, content]) => [
        path,
        execFileSync('tr', ['a-z', 'A-Z'], { input: content }),
      ]),
    );
    expect(readTree(out)).toEqual(expected);
  });

  it('a command failing on one file fails only that file, with its stderr in the message', async () => {
    const cwd = tree({ 'a.txt': 'alpha\n', 'b.txt': 'beta\n', 'c.txt': 'gamma\n' });
    const out = tempDir();
    const result = await runCli([
      '-C',
      cwd,
      '--exec',
      'grep -q beta && { echo "refusing {rel}: beta found" >&2; exit 4; }; cat',
      '-o',
      out,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'failed: b.txt: exec: `grep -q beta && { echo "refusing {rel}: beta found" >&2; exit 4; }; cat` exited with code 4: refusing \'b.txt\': beta found',
    );
    expect([...readTree(out).keys()]).toEqual(['a.txt', 'c.txt']);
  });

  it('placeholders {in}, {rel} and {out} are shell-quoted paths, names with spaces and quotes included', async () => {
    const cwd = tree({ "it's here.txt": 'one\n', 'sub/plain.txt': 'two\n' });
    const viaIn = tempDir();
    expect((await runCli(['-C', cwd, '--exec', 'cat {in}; echo {rel}', '-o', viaIn])).code).toBe(0);
    expect(readTree(viaIn).get("it's here.txt")?.toString()).toBe("one\nit's here.txt\n");
    const viaOut = tempDir();
    expect((await runCli(['-C', cwd, '--exec', 'sed s/o/0/g {in} > {out}', '-o', viaOut])).code).toBe(0);
    expect(readTree(viaOut)).toEqual(
      new Map([
        ["it's here.txt", Buffer.from('0ne\n')],
        ['sub/plain.txt', Buffer.from('tw0\n')],
      ]),
    );
  });

  it('a command that stops reading stdin early does not crash the run, small or streamed', async () => {
    const cwd = tree({ 'small.txt': 'x'.repeat(100_000), 'large.bin': Buffer.alloc(10 * 1024 * 1024, 0x41) });
    const out = tempDir();
    const result = await runCli(['-C', cwd, '--exec', 'head -c 5', '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readTree(out)).toEqual(
      new Map([
        ['large.bin', Buffer.from('AAAAA')],
        ['small.txt', Buffer.from('xxxxx')],
      ]),
    );
  });

  it('prints no warning at -j 64, small files and streamed ones', async () => {
    // Each file in flight once added its own abort listener: past 10, Node printed
    // `MaxListenersExceededWarning: … 11 abort listeners added to [AbortSignal]`.
    const small = makeTree(100);
    const result = await runCli(['-C', small, '--exec', 'cat', '-j', '64', '-q', '-o', tempDir()]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // Twelve sparse files at the stream threshold (8 MiB): the streamed path, cheap to make.
    const large = tempDir();
    for (let i = 0; i < 12; i += 1) {
      writeFileSync(join(large, `f${i}.bin`), '');
      truncateSync(join(large, `f${i}.bin`), 8 * 1024 * 1024);
    }
    const out = tempDir();
    const streamed = await runCli(['-C', large, '--exec', 'wc -c', '-j', '64', '-q', '-o', out]);
    expect(streamed).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readTree(out).get('f11.bin')?.toString().trim()).toBe(String(8 * 1024 * 1024));
  });

  it("a streamed file's temp is opened where it is closed: no IO worker warns about its descriptor", () => {
    // Opened by an IO worker and closed by the main thread, a temp's descriptor stayed on the
    // worker's books: its next open of that number printed `File descriptor N opened in
    // unmanaged mode twice` (and the worker would close it on exit). Each round frees the
    // temp's number just before the worker opens a file, so it gets that number.
    const dir = tempDir();
    writeFileSync(join(dir, 'in.txt'), 'x');
    const script = join(dir, 'reuse.mjs');
    writeFileSync(
      script,
      `import { nodePort } from ${JSON.stringify(join(root, 'dist', 'io', 'fs.js'))};
const dir = ${JSON.stringify(dir)};
const port = nodePort();
for (let i = 0; i < 5; i += 1) {
  const stream = await port.openWriteStream(dir + '/.t' + i + '.globpipe-tmp', { mode: 0o644, flush: false, root: dir });
  await new Promise((done) => stream.end('data', done));
  await new Promise((done) => stream.on('close', done));
  await port.read([dir + '/in.txt'], { limit: 1 << 20, cap: 1 << 20 });
}
process.exit(0);
`,
    );
    const ran = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(ran.status).toBe(0);
    expect(ran.stderr).toBe('');
  });

  it('never has more than --concurrency children at once', async () => {
    const cwd = tree(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const marker = `0.3${Math.floor(Math.random() * 1e6)}`;
    const child = spawn(
      process.execPath,
      [bin, '-C', cwd, '--exec', `sleep ${marker}; cat`, '-j', '3', '-o', tempDir()],
      { stdio: 'ignore' },
    );
    const closed = new Promise((resolve) => child.on('close', resolve));
    let most = 0;
    let running = true;
    void closed.then(() => {
      running = false;
    });
    while (running) {
      most = Math.max(most, pgrep(`^sleep ${marker}`).length);
      await sleep(20);
    }
    expect(most).toBe(3);
  });

  it('Ctrl-C during --exec exits 130 and leaves no child process', async () => {
    const cwd = tree(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const out = tempDir();
    for (const presses of [1, 2]) {
      const marker = `3${Math.floor(Math.random() * 1e6)}`;
      // With two presses the children ignore SIGTERM, so the run is still stopping (it waits a
      // second before SIGKILL) when the second press comes: never a press during the exit itself.
      const command = presses === 2 ? `trap '' TERM; sleep ${marker}; cat` : `sleep ${marker}; cat`;
      const child = spawn(process.execPath, [bin, '-C', cwd, '--exec', command, '-j', '4', '-o', out], {
        stdio: 'ignore',
      });
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      for (let i = 0; i < 100 && pgrep(`^sleep ${marker}`).length < 4; i += 1) await sleep(20);
      expect(pgrep(`^sleep ${marker}`)).toHaveLength(4);
      for (let i = 0; i < presses; i += 1) {
        child.kill('SIGINT');
        await sleep(50);
      }
      expect(await closed).toBe(130);
      for (let i = 0; i < 50 && pgrep(marker).length > 0; i += 1) await sleep(20);
      expect(pgrep(marker)).toEqual([]);
      expect(readTree(out).size).toBe(0);
    }
  });
});

describe('transform modules', () => {
  const input = { 'a.txt': 'hello\n', 'deep/b.txt': 'world\n' };
  const upper = { 'a.txt': 'HELLO\n', 'deep/b.txt': 'WORLD\n' };
  const asTree = (files: Record<string, string>) =>
    new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]));

  it.each([
    [
      'ESM (.mjs, default export)',
      'upper.mjs',
      "export default { name: 'upper', buffer: (c) => c.toString().toUpperCase() };\n",
    ],
    [
      'CommonJS (.cjs, module.exports)',
      'upper.cjs',
      "module.exports = { name: 'upper', buffer: (c) => Buffer.from(c.toString().toUpperCase()) };\n",
    ],
    [
      'a stream module',
      'upper-stream.mjs',
      "import { Transform } from 'node:stream';\nexport default { name: 'upper', stream: () => new Transform({ transform(c, _e, cb) { cb(null, c.toString().toUpperCase()); } }) };\n",
    ],
    [
      'TypeScript (.ts, types and all)',
      'upper.ts',
      "interface T { name: string; buffer(c: Buffer): string }\nconst t: T = { name: 'upper', buffer: (c: Buffer): string => c.toString().toUpperCase() };\nexport default t;\n",
    ],
    [
      'TypeScript ESM (.mts)',
      'upper.mts',
      "export default { name: 'upper', buffer: (c: Buffer) => c.toString().toUpperCase() as string };\n",
    ],
  ])('%s', async (_kind, name, source) => {
    const cwd = tree(input);
    const out = tempDir();
    const result = await runCli(['-C', cwd, '-t', module(name, source), '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readTree(out)).toEqual(asTree(upper));
  });

  it('is loaded once per run, not per file', async () => {
    const log = join(tempDir(), 'loads.log');
    const counted = module(
      'counted.mjs',
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, 'loaded\\n');\nexport default { name: 'id', buffer: (c) => c };\n`,
    );
    expect((await runCli(['-C', site, '-t', counted, '-o', tempDir()])).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('loaded\n');
  });

  it.each([
    [
      'a syntax error',
      'broken.mjs',
      'export default { name: "x", buffer(c) { return c; }\n',
      /Transform module `.*broken\.mjs` failed to load: SyntaxError: /,
    ],
    [
      'a TypeScript syntax error',
      'broken.ts',
      'export default { name: "x", buffer(c: Buffer { return c } };\n',
      /Transform module `.*broken\.ts` failed to load: /,
    ],
    [
      'no export',
      'empty.mjs',
      'export const nothing = 1;\n',
      /Transform module `empty\.mjs` must define exactly one of `buffer` or `stream`|needs a `name` string/,
    ],
    [
      'both buffer and stream',
      'both.mjs',
      "export default { name: 'b', buffer: (c) => c, stream: () => null };\n",
      /must define exactly one of `buffer` or `stream`, got both/,
    ],
    ['a missing file', null, '', /Transform module `\.\/nope\.mjs` not found/],
  ])('a module with %s: exit 2, nothing written', async (_kind, name, source, message) => {
    const spec = name === null ? './nope.mjs' : module(name, source);
    const parent = tempDir();
    const out = join(parent, 'out');
    const result = await runCli(['-C', site, '-t', spec, '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('examples/', () => {
  it('md-to-html.mjs converts Markdown with marked and renames to .html', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      site,
      'docs/**/*.md',
      '-t',
      join(examples, 'md-to-html.mjs'),
      '-o',
      out,
    ]);
    expect(result.code).toBe(0);
    const written = readTree(out);
    expect([...written.keys()]).toEqual([
      'docs/README.html',
      'docs/guides/getting-started.html',
      'docs/guides/with space.html',
    ]);
    const page = written.get('docs/README.html')?.toString() ?? '';
    expect(page).toContain('<title>Fixture docs</title>');
    expect(page).toContain('<h1>Fixture docs</h1>');
    expect(page).toContain('<a href="https://example.org">link</a>');
    expect(page).toContain('<li>three</li>');
  });

  it('banner.ts, a TypeScript transform, prefixes each file', async () => {
    const out = tempDir();
    expect((await runCli(['-C', site, 'css/*.css', '-t', join(examples, 'banner.ts'), '-o', out])).code).toBe(
      0,
    );
    const css = readFileSync(join(site, 'css/site.css'));
    expect(readTree(out).get('css/site.css')?.toString()).toBe(
      `/*! css/site.css | ${css.length} bytes | (c) 2026 */\n${css}`,
    );
  });

  it('line-numbers.mjs numbers lines as a stream, also across chunk borders of a large file', async () => {
    const lines = Array.from({ length: 700_000 }, (_, i) => `line ${i} ü`);
    const cwd = tree({ 'big.txt': `${lines.join('\n')}\n`, 'small.txt': 'a\nb' });
    const out = tempDir();
    expect((await runCli(['-C', cwd, '-t', join(examples, 'line-numbers.mjs'), '-o', out])).code).toBe(0);
    const written = readTree(out);
    expect(written.get('small.txt')?.toString()).toBe('     1  a\n     2  b');
    const expected = `${lines.map((line, i) => `${String(i + 1).padStart(6)}  ${line}`).join('\n')}\n`;
    expect(written.get('big.txt')?.equals(Buffer.from(expected))).toBe(true);
  });

  it('wait.mjs: two files waiting 2 s and 1 s overlap (counted by the files in flight, not by a clock)', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      join(root, 'fixtures/latency'),
      '-t',
      join(examples, 'wait.mjs'),
      '-o',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // Both files were in flight together: the 1 s file finished first although it sorts first or second.
    expect(lines.slice(0, 2).map((line) => line.input)).toEqual(['fast.txt', 'slow.txt']);
    expect(readTree(out)).toEqual(readTree(join(root, 'fixtures/latency')));
  });
});

describe('chains and fan-out equal their steps run one at a time', () => {
  it('a chain of module then gzip, small files and a streamed one', async () => {
    // a.txt past the 1 KiB a compressor skips below (--min-size), so that both runs compress it.
    const cwd = tree({ 'a.txt': 'some text\n'.repeat(200), 'big.log': 'log line\n'.repeat(1_200_000) });
    const numbers = join(examples, 'line-numbers.mjs');
    const chained = tempDir();
    expect((await runCli(['-C', cwd, '-t', numbers, '-t', 'gzip', '-o', chained])).code).toBe(0);
    const step1 = tempDir();
    const step2 = tempDir();
    expect((await runCli(['-C', cwd, '-t', numbers, '-o', step1])).code).toBe(0);
    expect((await runCli(['-C', step1, '-t', 'gzip', '-o', step2])).code).toBe(0);
    const [a, b] = [readTree(chained), readTree(step2)];
    expect([...a.keys()]).toEqual(['a.txt.gz', 'big.log.gz']);
    for (const [path, content] of b) expect(a.get(path)?.equals(content), path).toBe(true);
  });

  it('fan-out: -t gzip,brotli equals -t gzip and -t brotli, one read each way', async () => {
    const cwd = tree({
      'x.js': 'const x = 1;\n'.repeat(100),
      'big.bin': Buffer.alloc(9 * 1024 * 1024, 'abc'),
    });
    const both = tempDir();
    expect((await runCli(['-C', cwd, '-t', 'gzip,brotli', '--level', '5', '-o', both])).code).toBe(0);
    const written = readTree(both);
    expect([...written.keys()]).toEqual(['big.bin.br', 'big.bin.gz', 'x.js.br', 'x.js.gz']);
    for (const name of ['x.js', 'big.bin']) {
      const input = readFileSync(join(cwd, name));
      const gz = tempDir();
      const br = tempDir();
      await runCli(['-C', cwd, name, '-t', 'gzip', '--level', '5', '-o', gz]);
      await runCli(['-C', cwd, name, '-t', 'brotli', '--level', '5', '-o', br]);
      expect(written.get(`${name}.gz`)?.equals(readFileSync(join(gz, `${name}.gz`)))).toBe(true);
      expect(written.get(`${name}.br`)?.equals(readFileSync(join(br, `${name}.br`)))).toBe(true);
      // And both equal zlib's own one-shot output (the large file was streamed, the small one read whole).
      expect(written.get(`${name}.gz`)?.equals(gzipSync(input, { level: 5 }))).toBe(true);
      const quality = {
        params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: input.length },
      };
      expect(written.get(`${name}.br`)?.equals(brotliCompressSync(input, quality))).toBe(true);
    }
  });
});
