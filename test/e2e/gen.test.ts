import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, readTree, root, runCli, site, siteFiles, tempDir } from '../helpers.js';

const MANIFEST = '.globpipe-gen.json';

/** Every file under `dir`, by path, with its mtime in ms. */
function mtimes(dir: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      times.set(join(entry.parentPath, entry.name), statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return times;
}

const temps = (dir: string) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.globpipe-tmp'));

/** Runs gen with --progress and sends `signal` once the first progress line is out. */
function interrupt(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, '--progress'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!sent && /\d+% \|/.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('globpipe gen', () => {
  it('writes N files of the exact size, then says up to date and rewrites nothing', async () => {
    const dir = join(tempDir(), 'data');
    const args = ['gen', dir, '--files', '120', '--size', '3KiB', '--depth', '2', '--fanout', '4'];
    const first = await runCli(args);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(
      new RegExp(
        `^globpipe gen: 120 files, 360 KiB in ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(seed 1\\) in \\d+\\.\\d+ s\\n$`,
      ),
    );
    const tree = readTree(dir);
    expect(tree.size).toBe(121);
    for (const [path, bytes] of tree) {
      if (path === MANIFEST) continue;
      expect(path).toMatch(/^d0[0-3]\/d0[0-3]\/f\d{6}\.txt$/);
      expect(bytes.length).toBe(3 * 1024);
    }
    expect(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'))).toMatchObject({
      complete: true,
      parameters: { files: 120, size: '3072', depth: 2, fanout: 4, content: 'text', seed: 1 },
    });
    const before = mtimes(dir);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('globpipe gen: up to date: 120 files, 360 KiB');
    expect(mtimes(dir)).toEqual(before);
    expect(readdirSync(dir, { recursive: true }).some((name) => String(name).includes('globpipe-tmp'))).toBe(
      false,
    );
  });

  it('writes byte-identical trees for one seed, and another tree for another seed', async () => {
    const base = tempDir();
    const args = ['--files', '60', '--size', 'lognormal:median=4KiB,max=1MiB', '--content', 'mixed'];
    for (const [name, seed] of [
      ['a', '5'],
      ['b', '5'],
      ['c', '6'],
    ] as const) {
      const result = await runCli([
        'gen',
        join(base, name),
        ...args,
        '--seed',
        seed,
        '-j',
        name === 'b' ? '1' : '8',
      ]);
      expect(result.code).toBe(0);
    }
    const a = readTree(join(base, 'a'));
    expect(readTree(join(base, 'b'))).toEqual(a);
    expect(readTree(join(base, 'c'))).not.toEqual(a);
  });

  it('--json prints the summary as one line', async () => {
    const dir = tempDir();
    const result = await runCli(['gen', dir, '--files', '3', '--size', '10', '--json', '-q']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      type: 'summary',
      dir,
      files: 3,
      bytes: 30,
      written: 3,
      upToDate: false,
      parameters: { seed: 1, size: '10' },
    });
  });

  it('a bad option is exit 2, names it, and writes nothing', async () => {
    const base = tempDir();
    const cases: [string[], RegExp][] = [
      [['--size', '4XB'], /--size expects bytes such as 512, 4KiB, 1\.5MiB or 2GiB, got '4XB'/],
      [['--size', 'lognormal:median=8KiB'], /--size: lognormal needs median= and max=/],
      [['--files', '0'], /--files expects an integer >= 1, got '0'/],
      [['--content', 'prose'], /--content expects text, random, zeros, mixed, got 'prose'/],
      [['--preset', 'huge'], /--preset expects small, web, large, got 'huge'/],
      [['--fils', '3'], /Unknown option --fils: did you mean --files\?/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['gen', join(base, 'data'), ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain("Run 'globpipe gen --help' for usage.");
    }
    const missing = await runCli(['gen']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gen needs <dir>');
    expect(readdirSync(base)).toEqual([]);
  });

  it('refuses a directory holding other files, or a dataset of other parameters (exit 2)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const foreign = await runCli(['gen', dir, '--files', '2']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('is not empty and holds no dataset of globpipe gen');
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    const data = tempDir();
    expect((await runCli(['gen', data, '--files', '2', '--size', '1'])).code).toBe(0);
    const other = await runCli(['gen', data, '--files', '2', '--size', '1', '--seed', '2']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('holds a dataset of other parameters');
    expect(readTree(data).size).toBe(3);
  });

  it('the web preset mixes a web build, and the default command processes it', async () => {
    const base = tempDir();
    const web = join(base, 'web');
    const made = await runCli(['gen', web, '--preset', 'web', '--files', '200']);
    expect(made.code).toBe(0);
    const paths = [...readTree(web).keys()].filter((path) => path !== MANIFEST);
    expect(paths).toHaveLength(200);
    const extensions = new Set(paths.map((path) => path.split('.').pop()));
    expect(extensions).toEqual(new Set(['js', 'css', 'html', 'svg', 'png', 'woff2']));
    const out = join(base, 'out');
    const copy = await runCli(['-C', web, '**/*.js', '-o', out]);
    expect(copy.code).toBe(0);
    const js = [...readTree(web)].filter(([path]) => path.endsWith('.js'));
    expect(readTree(out)).toEqual(new Map(js));
  });

  it('leaves the default command as it was', async () => {
    const out = tempDir();
    const result = await runCli(['-C', site, '-o', out]);
    expect(result.code).toBe(0);
    expect(readTree(out)).toEqual(siteFiles());
    const help = await runCli(['--help']);
    expect(help.stdout).toContain('globpipe gen <dir> [options]');
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`after ${signal}, leaves no file half written, and a rerun finishes the dataset`, async () => {
      const dir = tempDir();
      const args = [
        'gen',
        dir,
        '--files',
        '8',
        '--size',
        '64MiB',
        '--content',
        'random',
        '-j',
        '2',
        '--depth',
        '0',
      ];
      const stopped = await interrupt(args, signal);
      if (signal === 'SIGINT') {
        expect(stopped.code).toBe(130);
        expect(stopped.stderr).toContain('globpipe gen: SIGINT: stopped; run it again to finish the dataset');
        expect(temps(dir)).toEqual([]);
      } else {
        // kill -9 leaves the temps of the files in flight: the rerun removes them.
        expect(temps(dir).length).toBeGreaterThan(0);
      }
      for (const name of readdirSync(dir).filter((name) => name.endsWith('.bin'))) {
        expect(statSync(join(dir, name)).size).toBe(64 * 1024 * 1024);
      }
      expect(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')).complete).toBe(false);
      const rerun = await runCli(args);
      expect(rerun.code).toBe(0);
      expect(rerun.stderr).toMatch(/^globpipe gen: 8 files, 512 MiB in /);
      expect(temps(dir)).toEqual([]);
      expect(readdirSync(dir).filter((name) => name.endsWith('.bin'))).toHaveLength(8);
      expect(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')).complete).toBe(true);
    });
  }
});
