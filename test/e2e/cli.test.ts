import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixtures, keepAll, readTree, runCli, site, siteFiles, tempDir } from '../helpers.js';

const ESC = '\x1b';

describe('copy (default transform)', () => {
  it('mirrors the tree byte for byte, names with spaces and non-ASCII included', async () => {
    const out = tempDir();
    const result = await runCli(['-C', site, '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const expected = siteFiles();
    expect(expected.size).toBeGreaterThan(10);
    expect(readTree(out)).toEqual(expected);
    expect(result.stderr).toMatch(
      new RegExp(`^globpipe: ${expected.size} matched, ${expected.size} written, 0 skipped, 0 failed`),
    );
    expect(result.stderr).not.toContain(ESC);
  });

  it('matches dotfiles only with --dot', async () => {
    const out = tempDir();
    expect((await runCli(['-C', site, '-o', out, '--dot'])).code).toBe(0);
    expect(readTree(out).get('.well-known/security.txt')?.toString()).toContain('Contact');
  });

  it('honours patterns, !patterns and --ignore', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      site,
      '**/*.{html,css}',
      '!about.html',
      '-i',
      'css/print.css',
      '-o',
      out,
    ]);
    expect(result.code).toBe(0);
    expect([...readTree(out).keys()]).toEqual(['css/site.css', 'index.html']);
  });

  it('does not glob its own output directory when it lies inside --cwd', async () => {
    const work = tempDir();
    cpSync(site, work, { recursive: true });
    const first = await runCli(['-C', work, '-o', join(work, 'out')]);
    expect(first.code).toBe(0);
    const second = await runCli(['-C', work, '-o', join(work, 'out')]);
    expect(second.code).toBe(0);
    expect(existsSync(join(work, 'out', 'out'))).toBe(false);
    expect(readTree(join(work, 'out'))).toEqual(siteFiles());
  });
});

describe('compression built-ins', () => {
  it('gzip appends .gz and every output decompresses to its input', async () => {
    const out = tempDir();
    const result = await runCli(['-C', site, '-t', 'gzip', '-o', out, ...keepAll]);
    expect(result.code).toBe(0);
    const written = readTree(out);
    const inputs = siteFiles();
    expect([...written.keys()]).toEqual([...inputs.keys()].map((p) => `${p}.gz`).sort());
    for (const [path, content] of inputs)
      expect(gunzipSync(written.get(`${path}.gz`) as Buffer)).toEqual(content);
  });

  it('brotli appends .br and every output decompresses to its input', async () => {
    const out = tempDir();
    expect((await runCli(['-C', site, '-t', 'brotli', '--level', '5', '-o', out, ...keepAll])).code).toBe(0);
    const written = readTree(out);
    for (const [path, content] of siteFiles()) {
      expect(brotliDecompressSync(written.get(`${path}.br`) as Buffer)).toEqual(content);
    }
  });

  it('gzip then gunzip, and brotli then brotli-decompress, round-trip the tree', async () => {
    for (const [compress, decompress] of [
      ['gzip', 'gunzip'],
      ['brotli', 'brotli-decompress'],
    ] as const) {
      const packed = tempDir();
      const unpacked = tempDir();
      expect((await runCli(['-C', site, '-t', compress, '-o', packed, ...keepAll])).code).toBe(0);
      expect((await runCli(['-C', packed, '-t', decompress, '-o', unpacked])).code).toBe(0);
      expect(readTree(unpacked)).toEqual(siteFiles());
    }
  });

  it('--level changes gzip output; the default is level 6', async () => {
    const fast = tempDir();
    const def = tempDir();
    await runCli(['-C', site, 'js/data.js', '-t', 'gzip', '--level', '1', '-o', fast]);
    await runCli(['-C', site, 'js/data.js', '-t', 'gzip', '-o', def]);
    const input = readFileSync(join(site, 'js/data.js'));
    expect(readFileSync(join(def, 'js/data.js.gz')).length).toBe(gzipSync(input, { level: 6 }).length);
    expect(readFileSync(join(fast, 'js/data.js.gz')).length).toBeGreaterThan(
      readFileSync(join(def, 'js/data.js.gz')).length,
    );
  });

  it('streams a file past the threshold and still round-trips', async () => {
    const input = tempDir();
    const big = Buffer.alloc(12 * 1024 * 1024);
    // Pseudo-random bytes: the .gz stays past the threshold too, so gunzip streams as well.
    let x = 2463534242;
    for (let i = 0; i < big.length; i += 1) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      big[i] = x & 0xff;
    }
    writeFileSync(join(input, 'big.bin'), big);
    const packed = tempDir();
    const copied = tempDir();
    expect((await runCli(['-C', input, '-t', 'gzip', '-o', packed, ...keepAll])).code).toBe(0);
    // toEqual on 12 MB compares byte by byte in JS and takes minutes: compare natively.
    expect(gunzipSync(readFileSync(join(packed, 'big.bin.gz'))).equals(big)).toBe(true);
    expect((await runCli(['-C', packed, '-t', 'gunzip', '-o', copied])).code).toBe(0);
    expect(readFileSync(join(copied, 'big.bin')).equals(big)).toBe(true);
  });

  it('a file that is not gzip fails alone, named with its cause; the others complete; exit 1', async () => {
    const out = tempDir();
    const result = await runCli(['-C', join(fixtures, 'archives'), '**/*.gz', '-t', 'gunzip', '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/3 matched, 2 written, 0 skipped, 1 failed/);
    expect(result.stderr).toMatch(/failed: corrupt\.txt\.gz: gunzip: incorrect header check/);
    expect(readTree(out)).toEqual(
      new Map([
        ['nested/numbers.txt', Buffer.from(`${Array.from({ length: 5000 }, (_, i) => i + 1).join('\n')}\n`)],
        ['one.txt', Buffer.from('first archive member\n')],
      ]),
    );
    expect(readdirSync(out).some((name) => name.includes('globpipe-tmp'))).toBe(false);
  });
});

describe('concurrency', () => {
  it('--sequential and -j 16 give identical trees', async () => {
    const sequential = tempDir();
    const parallel = tempDir();
    const a = await runCli(['-C', site, '-t', 'gzip', '-o', sequential, '--sequential']);
    const b = await runCli(['-C', site, '-t', 'gzip', '-o', parallel, '-j', '16']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stderr).toMatch(/\| -j 1$/m);
    expect(b.stderr).toMatch(/\| -j 16$/m);
    expect(readTree(parallel)).toEqual(readTree(sequential));
  });

  it('--sequential with another -j is a usage error', async () => {
    const out = tempDir();
    const result = await runCli(['-C', site, '-o', out, '--sequential', '-j', '4']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/sequential.*concurrency/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('--ext and --dry-run', () => {
  it('--ext replaces the extension of each output', async () => {
    const out = tempDir();
    expect((await runCli(['-C', site, 'docs/**/*.md', '--ext', '.txt', '-o', out])).code).toBe(0);
    expect([...readTree(out).keys()]).toEqual([
      'docs/README.txt',
      'docs/guides/getting-started.txt',
      'docs/guides/with space.txt',
    ]);
  });

  it('--dry-run lists what would be written and writes nothing', async () => {
    const parent = tempDir();
    const out = join(parent, 'out');
    const result = await runCli(['-C', site, '**/*.css', '-t', 'gzip', '-o', out, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual([
      `css/print.css -> ${out}/css/print.css.gz`,
      `css/site.css -> ${out}/css/site.css.gz`,
    ]);
    expect(result.stderr).toMatch(/dry run: 2 matched, 2 outputs planned/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--json', () => {
  it('writes one object per file, then a summary whose counts match the files on disk', async () => {
    const out = tempDir();
    // The archives are compressed already: a gzip run takes them when a pattern names their extensions.
    const result = await runCli([
      '-C',
      join(fixtures, 'archives'),
      '**/*.{gz,br}',
      '-t',
      'gzip',
      '-o',
      out,
      '--json',
      ...keepAll,
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const files = lines.filter((line) => line.type === 'file');
    const summary = lines.at(-1) as Record<string, number | string>;
    expect(lines.slice(0, -1).every((line) => line.type === 'file')).toBe(true);
    expect(summary.type).toBe('summary');
    const onDisk = readTree(out);
    expect(summary.written).toBe(onDisk.size);
    expect(summary.matched).toBe(files.length);
    expect(summary.bytesOut).toBe([...onDisk.values()].reduce((n, b) => n + b.length, 0));
    for (const file of files) {
      expect(file).toMatchObject({ status: 'written', outputs: [`${file.input}.gz`] });
      expect(typeof file.ms).toBe('number');
      expect(file.bytesOut).toBe(onDisk.get(`${file.input}.gz`)?.length);
    }
  });

  it('reports a failure with its error and keeps stdout pure JSON', async () => {
    const out = tempDir();
    const result = await runCli([
      '-C',
      join(fixtures, 'archives'),
      '*.gz',
      '-t',
      'gunzip',
      '-o',
      out,
      '--json',
    ]);
    expect(result.code).toBe(1);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = lines.find((line) => line.status === 'failed');
    expect(failed).toMatchObject({ input: 'corrupt.txt.gz', error: { code: 'ETRANSFORM' } });
    expect(lines.at(-1)).toMatchObject({ type: 'summary', failed: 1, written: 1 });
  });
});

describe('usage errors: exit 2, a message that names the culprit, nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['--frobnicate'], /Unknown option --frobnicate\n/],
    ['unknown transform', ['-t', 'gzp'], /Unknown transform `gzp`: did you mean `gzip`\?/],
    ['missing --out', ['--no-out'], /missing -o\/--out/],
    ['bad concurrency', ['-j', 'many'], /-j\/--concurrency expects an integer >= 1, got 'many'/],
    [
      'level out of range for gzip',
      ['-t', 'gzip', '--level', '10'],
      /--level 10 is out of range: gzip levels are 1–9\n/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const parent = tempDir();
    const out = join(parent, 'out');
    const withOut = args.includes('--no-out') ? ['-C', site] : ['-C', site, '-o', out, ...args];
    const result = await runCli(withOut);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('a --cwd that does not exist', async () => {
    const parent = tempDir();
    const result = await runCli(['-C', join(parent, 'nope'), '-o', join(parent, 'out')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(parent, 'nope')}\` does not exist`);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('a pattern reaching above --cwd', async () => {
    const parent = tempDir();
    mkdirSync(join(parent, 'src'));
    const result = await runCli(['-C', join(parent, 'src'), '../**', '-o', join(parent, 'out')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Pattern `..\/\*\*` reaches outside cwd/);
    expect(readdirSync(parent)).toEqual(['src']);
  });
});

describe('--help and --version', () => {
  it('lists every option with a description, and examples', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const option of [
      '--cwd',
      '--out',
      '--in-place',
      '--resume',
      '--transform',
      '--ext',
      '--exec',
      '--from',
      '--to',
      '--eol',
      '--from-encoding',
      '--to-encoding',
      '--bom',
      '--level',
      '--ignore',
      '--dot',
      '--follow-symlinks',
      '--concurrency',
      '--sequential',
      '--dry-run',
      '--skip-existing',
      '--if-newer',
      '--fail-fast',
      '--max-errors',
      '--fsync',
      '--progress',
      '--quiet',
      '--json',
      '--help',
      '--version',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`${option}\\s+\\S`));
    }
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('Exit codes:');
  });

  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });
});

describe('quiet and progress off a terminal', () => {
  it('-q prints nothing on success and only failures otherwise', async () => {
    const ok = await runCli(['-C', site, '-o', tempDir(), '-q']);
    expect(ok).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const bad = await runCli([
      '-C',
      join(fixtures, 'archives'),
      '*.gz',
      '-t',
      'gunzip',
      '-o',
      tempDir(),
      '-q',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('  failed: corrupt.txt.gz: gunzip: incorrect header check\n');
  });

  it('piped stderr has no escape codes, even with many files', async () => {
    const result = await runCli(['-C', site, '-t', 'gzip', '-o', tempDir(), ...keepAll]);
    expect(result.stderr).not.toContain(ESC);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
