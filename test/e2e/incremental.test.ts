import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { FileResult, Summary } from '../../src/types.js';
import { bin, keepAll, runCli, tempDir, writeTree } from '../helpers.js';

interface Outcome {
  code: number | null;
  stderr: string;
  files: FileResult[];
  summary: Summary;
}

/** Runs the CLI with --json: every file's result and the summary. */
async function globpipe(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const { code, stdout, stderr } = await runCli([...args, '--json'], { env: { CACHE_DIR: '', ...env } });
  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string } & Summary & FileResult);
  const summary = lines.find((line) => line.type === 'summary') as Summary;
  const files = lines.filter((line) => line.type === 'file') as FileResult[];
  return { code, stderr, files, summary };
}

const written = (outcome: Outcome) =>
  outcome.files
    .filter((file) => file.status === 'written')
    .map((file) => file.input)
    .sort();

/** A tree of six small text files and a place for its manifest and outputs. */
function setup(extra: Record<string, string> = {}) {
  const src = writeTree({
    'a.txt': 'alpha\n',
    'b.txt': 'bravo\n',
    'sub/c.txt': 'charlie\n',
    'sub/d.txt': 'delta\n',
    'sub/deep/e.txt': 'echo\n',
    'f.txt': 'foxtrot\n',
    ...extra,
  });
  const work = tempDir();
  const out = join(work, 'out');
  const manifest = join(work, 'manifest.json');
  const args = ['-C', src, '-t', 'gzip', ...keepAll, '-o', out, '--incremental', manifest];
  return { src, out, manifest, args, work };
}

/** Every output's mtime, to tell which were rewritten. */
function mtimes(dir: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile())
      times.set(join(entry.parentPath, entry.name), statSync(join(entry.parentPath, entry.name)).mtimeMs);
  return times;
}

const gz = (path: string) => gunzipSync(readFileSync(path)).toString();

describe('--incremental', () => {
  it('a rerun with nothing changed processes nothing; with one file changed, writes exactly its output', async () => {
    const { src, out, args } = setup();
    const first = await globpipe(args);
    expect(first.code).toBe(0);
    expect(first.summary.written).toBe(6);
    const before = mtimes(out);
    const again = await globpipe(args);
    expect(again.code).toBe(0);
    expect(again.summary.written).toBe(0);
    expect(again.summary.skipped).toBe(6);
    expect(again.files.every((file) => file.reason === 'unchanged since the last run')).toBe(true);
    expect(again.files.find((file) => file.input === 'sub/c.txt')?.outputs).toEqual(['sub/c.txt.gz']);
    expect(again.summary.incremental?.unchanged).toBe(6);
    expect(mtimes(out)).toEqual(before);

    writeFileSync(join(src, 'sub/c.txt'), 'charlie, changed\n');
    const changed = await globpipe(args);
    expect(written(changed)).toEqual(['sub/c.txt']);
    expect(gz(join(out, 'sub/c.txt.gz'))).toBe('charlie, changed\n');
    const after = mtimes(out);
    for (const [path, time] of before)
      if (!path.endsWith('c.txt.gz')) expect(after.get(path), path).toBe(time);
    // The same size, other content: read and compared, not trusted from the size.
    writeFileSync(join(src, 'a.txt'), 'ALPHA\n');
    expect(written(await globpipe(args))).toEqual(['a.txt']);
    expect(gz(join(out, 'a.txt.gz'))).toBe('ALPHA\n');
  });

  it('a new input is processed; a touched one with the same content is not rewritten', async () => {
    const { src, out, args } = setup();
    await globpipe(args);
    const time = statSync(join(out, 'b.txt.gz')).mtimeMs;
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(src, 'b.txt'), later, later);
    writeFileSync(join(src, 'new.txt'), 'new\n');
    const rerun = await globpipe(args);
    expect(written(rerun)).toEqual(['new.txt']);
    expect(statSync(join(out, 'b.txt.gz')).mtimeMs).toBe(time);
    // The touch is recorded: the next run still skips it.
    expect(written(await globpipe(args))).toEqual([]);
  });

  it('an output deleted or edited by hand is written again', async () => {
    const { out, args } = setup();
    await globpipe(args);
    rmSync(join(out, 'a.txt.gz'));
    writeFileSync(join(out, 'sub/d.txt.gz'), 'not gzip');
    const rerun = await globpipe(args);
    expect(written(rerun)).toEqual(['a.txt', 'sub/d.txt']);
    expect(gz(join(out, 'a.txt.gz'))).toBe('alpha\n');
    expect(gz(join(out, 'sub/d.txt.gz'))).toBe('delta\n');
    // Edited to the same size: the mtime tells.
    const size = statSync(join(out, 'f.txt.gz')).size;
    writeFileSync(join(out, 'f.txt.gz'), Buffer.alloc(size, 0x20));
    expect(written(await globpipe(args))).toEqual(['f.txt']);
    expect(gz(join(out, 'f.txt.gz'))).toBe('foxtrot\n');
  });

  it('a changed --level, or a changed transform module, rewrites everything', async () => {
    const { args } = setup();
    await globpipe(args);
    const level = await globpipe([...args, '--level', '1']);
    expect(level.summary.written).toBe(6);
    expect(level.summary.incremental?.notices).toEqual([
      'the pipeline changed since the last run: every file is processed',
    ]);
    expect((await globpipe([...args, '--level', '1'])).summary.written).toBe(0);

    const { out, work, src } = setup();
    const module = join(work, 'upper.mjs');
    writeFileSync(
      module,
      "export default { name: 'upper', buffer: (content) => content.toString().toUpperCase() };\n",
    );
    const moduleArgs = ['-C', src, '-t', module, '-o', out, '--incremental', join(work, 'm2.json')];
    expect((await globpipe(moduleArgs)).summary.written).toBe(6);
    expect((await globpipe(moduleArgs)).summary.written).toBe(0);
    writeFileSync(
      module,
      "export default { name: 'upper', buffer: (content) => content.toString().toUpperCase() + '!' };\n",
    );
    expect((await globpipe(moduleArgs)).summary.written).toBe(6);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('ALPHA\n!');
  });

  it('a corrupt or foreign manifest is not trusted: a full run, with a notice', async () => {
    const { args, manifest, src, out } = setup();
    await globpipe(args);
    writeFileSync(manifest, '{"globpipe":"incremental", trunc');
    const corrupt = await globpipe(args);
    expect(corrupt.code).toBe(0);
    expect(corrupt.summary.written).toBe(6);
    expect(corrupt.summary.incremental?.notices[0]).toMatch(
      /is not valid JSON: not trusted, every file is processed/,
    );
    // The run replaced it with a good one.
    expect((await globpipe(args)).summary.written).toBe(0);
    const good = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    writeFileSync(manifest, JSON.stringify({ ...good, version: 99 }));
    expect((await globpipe(args)).summary.incremental?.notices[0]).toMatch(/has version 99, not 1/);
    writeFileSync(manifest, JSON.stringify({ ...good, cwd: '/elsewhere' }));
    expect((await globpipe(args)).summary.written).toBe(6);
    // The text summary says it too (stderr), not only --json.
    writeFileSync(manifest, 'garbage');
    const text = await runCli(['-C', src, '-t', 'gzip', ...keepAll, '-o', out, '--incremental', manifest]);
    expect(text.stderr).toMatch(/notice: incremental manifest .* is not valid JSON/);
  });
});

describe('--delete-stale', () => {
  it('removes the outputs of deleted inputs and nothing else; an output edited since is kept and reported', async () => {
    const { src, out, args } = setup({ 'g/h.txt': 'hotel\n' });
    await globpipe(args);
    writeFileSync(join(out, 'mine.txt'), 'not written by globpipe');
    writeFileSync(join(out, 'g/notes.txt'), 'not written by globpipe');
    rmSync(join(src, 'a.txt'));
    rmSync(join(src, 'sub/deep'), { recursive: true });
    rmSync(join(src, 'g'), { recursive: true });
    rmSync(join(src, 'f.txt'));
    writeFileSync(join(out, 'f.txt.gz'), 'edited by someone');
    // Without --delete-stale, nothing goes.
    expect((await globpipe(args)).summary.incremental?.removed).toEqual([]);
    expect(existsSync(join(out, 'a.txt.gz'))).toBe(true);
    const run = await globpipe([...args, '--delete-stale']);
    expect(run.code).toBe(0);
    expect(run.summary.incremental?.removed).toEqual(['a.txt.gz', 'g/h.txt.gz', 'sub/deep/e.txt.gz']);
    expect(run.summary.incremental?.kept).toEqual([
      { path: 'f.txt.gz', reason: 'changed since globpipe wrote it: kept' },
    ]);
    // A directory its removals emptied goes (sub/deep); one that holds anything else stays (g).
    expect(readdirSync(out, { recursive: true }).sort()).toEqual(
      ['b.txt.gz', 'f.txt.gz', 'g', 'g/notes.txt', 'mine.txt', 'sub', 'sub/c.txt.gz', 'sub/d.txt.gz'].sort(),
    );
    // Once removed, they are out of the manifest: the next run has nothing to remove.
    expect((await globpipe([...args, '--delete-stale'])).summary.incremental?.removed).toEqual([]);
  });

  it('a forged manifest deletes nothing outside --out, not even through a symlink inside it', async () => {
    const { src, out, args, manifest, work } = setup();
    await globpipe(args);
    const outside = join(work, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'keep me');
    writeFileSync(join(outside, 'x.gz'), 'keep me too');
    symlinkSync(outside, join(out, 'link'));
    const victim = statSync(join(outside, 'victim'));
    const x = statSync(join(outside, 'x.gz'));
    const good = JSON.parse(readFileSync(manifest, 'utf8')) as { files: Record<string, string> };
    const spec = (path: string) => `${path.length + 1} =${path}`;
    for (const forged of ['../outside/victim', join(outside, 'victim'), 'sub/../../outside/victim']) {
      const files = {
        ...good.files,
        'gone.txt': `1 1 hash ${victim.size} ${victim.mtimeMs} ${spec(forged)}`,
      };
      writeFileSync(manifest, JSON.stringify({ ...good, files }));
      const run = await globpipe([...args, '--delete-stale']);
      expect(run.code).toBe(0);
      expect(run.summary.incremental?.removed).toEqual([]);
      expect(run.summary.incremental?.notices.join('\n')).toMatch(/malformed entry for "gone.txt"/);
      expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep me');
    }
    // Well-formed, size and mtime right, but reached through a symlink under --out: never followed.
    const files = { ...good.files, 'gone.txt': `1 1 hash ${x.size} ${x.mtimeMs} ${spec('link/x.gz')}` };
    writeFileSync(manifest, JSON.stringify({ ...good, files }));
    const run = await globpipe([...args, '--delete-stale']);
    expect(run.summary.incremental?.removed).toEqual([]);
    expect(run.summary.incremental?.kept[0]?.path).toBe('link/x.gz');
    expect(readFileSync(join(outside, 'x.gz'), 'utf8')).toBe('keep me too');
    expect(existsSync(join(src, 'a.txt'))).toBe(true);
  });

  it('without --incremental, or with no place for the manifest, is a usage error (exit 2)', async () => {
    const { src, out } = setup();
    const alone = await runCli(['-C', src, '-o', out, '--delete-stale'], { env: { CACHE_DIR: '' } });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--delete-stale .* it needs --incremental/);
    const nowhere = await runCli(['-C', src, '-o', out, '--incremental'], {
      cwd: src,
      env: { CACHE_DIR: '' },
    });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(
      /no node_modules in .* give a path \(--incremental .globpipe-manifest.json\)/,
    );
    expect(existsSync(out)).toBe(false);
    const glob = await runCli(['-C', src, '-o', out, '--incremental', '**/*.txt'], {
      env: { CACHE_DIR: '' },
    });
    expect(glob.code).toBe(2);
    expect(glob.stderr).toMatch(/put patterns before --incremental/);
  });
});

describe('the default manifest', () => {
  it('lives in node_modules/.cache/globpipe, one per run: another pattern, another manifest', async () => {
    const project = writeTree({ 'node_modules/.keep': '', 'dist/a.js': 'a', 'dist/b.css': 'b' });
    const dist = join(project, 'dist');
    const cache = join(project, 'node_modules/.cache/globpipe');
    const js = ['-C', dist, '**/*.js', '-t', 'gzip', ...keepAll, '-o', dist, '--incremental'];
    const css = ['-C', dist, '**/*.css', '-t', 'gzip', ...keepAll, '-o', dist, '--incremental'];
    expect((await globpipe(js)).summary.written).toBe(1);
    expect((await globpipe(css)).summary.written).toBe(1);
    expect(readdirSync(cache)).toHaveLength(2);
    expect((await globpipe(js)).summary.skipped).toBe(1);
    expect((await globpipe(css)).summary.skipped).toBe(1);
    // The outputs beside their inputs are compressed files: skipped as such, never as inputs.
    expect(readdirSync(dist).sort()).toEqual(['a.js', 'a.js.gz', 'b.css', 'b.css.gz']);
  });
});

describe('names that are not UTF-8', () => {
  it('are kept by their bytes: skipped when unchanged, rewritten when changed, removed when gone', async () => {
    const src = tempDir();
    const work = tempDir();
    const out = join(work, 'out');
    const name = (bytes: string) => Buffer.concat([Buffer.from(`${src}/`), Buffer.from(bytes, 'latin1')]);
    writeFileSync(name('a\xff.txt'), 'ff\n');
    writeFileSync(name('a\xfe.txt'), 'fe\n');
    writeFileSync(name('caf\xe9 x.txt'), 'cafe\n');
    const args = ['-C', src, '-t', 'gzip', ...keepAll, '-o', out, '--incremental', join(work, 'm.json')];
    expect((await globpipe(args)).summary.written).toBe(3);
    const again = await globpipe(args);
    expect(again.summary.skipped).toBe(3);
    expect(again.files.map((file) => file.inputBase64).filter(Boolean)).toHaveLength(3);
    writeFileSync(name('a\xfe.txt'), 'FE, changed\n');
    const changed = await globpipe(args);
    expect(changed.files.filter((file) => file.status === 'written').map((f) => f.inputBase64)).toEqual([
      Buffer.from('a\xfe.txt', 'latin1').toString('base64'),
    ]);
    rmSync(name('a\xff.txt'));
    const stale = await globpipe([...args, '--delete-stale']);
    expect(stale.summary.incremental?.removed).toHaveLength(1);
    const left = readdirSync(Buffer.from(out), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    expect(left.sort()).toEqual(['a\xfe.txt.gz', 'caf\xe9 x.txt.gz']);
    expect(gunzipSync(readFileSync(Buffer.from(`${out}/a\xfe.txt.gz`, 'latin1'))).toString()).toBe(
      'FE, changed\n',
    );
  });
});

describe('kill -9', () => {
  it('mid-run leaves a manifest the next run trusts, and the next run finishes the work correctly', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i += 1) files[`f${String(i).padStart(2, '0')}.txt`] = `file ${i}\n`;
    const src = writeTree(files);
    const work = tempDir();
    const out = join(work, 'out');
    const manifest = join(work, 'm.json');
    const module = join(work, 'slow.mjs');
    writeFileSync(
      module,
      "export default { name: 'slow', async buffer(content) { await new Promise((r) => setTimeout(r, 60)); return String(content).toUpperCase(); } };\n",
    );
    const args = ['-C', src, '-t', module, '-o', out, '--incremental', manifest, '-j', '2'];
    expect((await globpipe(args)).summary.written).toBe(40);
    for (const path of Object.keys(files)) writeFileSync(join(src, path), `changed ${path}\n`);
    const child = spawn(process.execPath, [bin, ...args, '-q'], { stdio: 'ignore' });
    // Kill once some outputs of the second run are in place, long before it ends.
    for (let tries = 0; tries < 200; tries += 1) {
      await sleep(25);
      const done = readdirSync(out).filter((name) =>
        readFileSync(join(out, name), 'utf8').startsWith('CHANGED'),
      );
      if (done.length >= 3) break;
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    expect(() => JSON.parse(readFileSync(manifest, 'utf8'))).not.toThrow();
    const next = await globpipe(args);
    expect(next.code).toBe(0);
    expect(next.summary.incremental?.notices).toEqual([]);
    expect(next.summary.written).toBeGreaterThan(0);
    for (const path of Object.keys(files))
      expect(readFileSync(join(out, path), 'utf8')).toBe(`CHANGED ${path.toUpperCase()}\n`);
    expect((await globpipe(args)).summary.written).toBe(0);
  });
});
