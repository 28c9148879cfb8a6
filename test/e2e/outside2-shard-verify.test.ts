import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTree } from '../helpers.js';

const files = {
  'a.txt': 'apple\n',
  'b.txt': 'banana\n',
  'c.txt': 'cherry\n',
  'd/e.txt': 'elder\n',
  'f.txt': 'fig\n',
};

/** Shards 1/2 and 2/2 of one tree, run one after the other, each with its manifest (m1.json, m2.json). */
async function twoShards(dryRun: readonly boolean[] = [false, false]) {
  const src = writeTree(files);
  const work = tempDir();
  const out = join(work, 'out');
  for (const index of [1, 2]) {
    const args = ['-C', src, '-o', out, '--shard', `${index}/2`, '--manifest', `m${index}.json`];
    const result = await runCli(dryRun[index - 1] === true ? [...args, '--dry-run'] : args, { cwd: work });
    expect(result.code, result.stderr).toBe(0);
  }
  return { src, work, out };
}

const verify = (work: string, ...args: string[]) => runCli(['verify-shards', ...args], { cwd: work });

/** The outputs shard 1 recorded, relative to out. */
function outputsOf(manifest: string): string[] {
  const { inputs } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    inputs: { outputs: { path: string }[] }[];
  };
  return inputs.flatMap((input) => input.outputs.map((output) => output.path));
}

describe('verify-shards, from outside', () => {
  it('refuses the same manifest given twice, however it is spelled, with exit 2 naming it', async () => {
    const { work } = await twoShards();
    for (const twice of [
      ['m1.json', 'm2.json', 'm1.json'],
      ['m1.json', 'm2.json', './m2.json'],
      ['m1.json', 'm2.json', join(work, 'm1.json')],
    ]) {
      const result = await verify(work, ...twice);
      expect(result.code, result.stdout).toBe(2);
      expect(result.stdout).toBe('');
      const [first, , again] = twice as [string, string, string];
      const named = again.endsWith('m1.json') ? first : 'm2.json';
      expect(result.stderr).toBe(
        `globpipe: verify-shards: manifest ${again} is ${named} given again: give each shard's manifest once\n`,
      );
    }
  });

  it('reports an output replaced by a symlink, even to the very same bytes', async () => {
    const { work, out } = await twoShards();
    const output = outputsOf(join(work, 'm1.json'))[0] as string;
    const elsewhere = join(tempDir(), 'copy');
    copyFileSync(join(out, output), elsewhere);
    rmSync(join(out, output));
    symlinkSync(elsewhere, join(out, output));
    const result = await verify(work, 'm1.json', 'm2.json');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      `  ${join(out, output)}: a symlink now, not the file written (m1.json)\n`,
    );
    const json = await verify(work, 'm1.json', 'm2.json', '--json');
    expect(JSON.parse(json.stdout).changed).toEqual([
      { path: join(out, output), manifest: 'm1.json', reason: 'a symlink now, not the file written' },
    ]);
  });

  it('reports an output replaced by a directory as such, not as gone', async () => {
    const { work, out } = await twoShards();
    const output = outputsOf(join(work, 'm2.json'))[0] as string;
    rmSync(join(out, output));
    mkdirSync(join(out, output));
    const result = await verify(work, 'm1.json', 'm2.json');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      `  ${join(out, output)}: a directory now, not the file written (m2.json)\n`,
    );
  });

  it('reports an output replaced by a FIFO, instead of waiting forever on it', async () => {
    const { work, out } = await twoShards();
    const output = outputsOf(join(work, 'm1.json'))[0] as string;
    rmSync(join(out, output));
    execFileSync('mkfifo', [join(out, output)]);
    const result = await verify(work, 'm1.json', 'm2.json');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      `  ${join(out, output)}: no regular file now, not the file written (m1.json)\n`,
    );
  });

  it.each(['0/2', '3/2', '1/0'])(
    'refuses a manifest edited to claim shard %s, with exit 2',
    async (shard) => {
      const { work } = await twoShards();
      const path = join(work, 'm1.json');
      writeFileSync(path, readFileSync(path, 'utf8').replace('"shard":"1/2"', `"shard":"${shard}"`));
      const result = await verify(work, 'm1.json', 'm2.json');
      expect(result.code, result.stdout).toBe(2);
      expect(result.stderr).toBe(
        `globpipe: verify-shards: manifest m1.json is not a globpipe run manifest: shard "${shard}" is no shard i/n with 1 <= i <= n\n`,
      );
    },
  );

  it.each(['../../../etc/passwd', '/etc/passwd', 'a/../../x'])(
    'refuses a manifest edited to claim an output %s outside --out, with exit 2, reading nothing there',
    async (claimed) => {
      const { work } = await twoShards();
      const path = join(work, 'm1.json');
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
        inputs: { outputs: { path: string }[] }[];
      };
      (manifest.inputs[0]?.outputs[0] as { path: string }).path = claimed;
      writeFileSync(path, JSON.stringify(manifest));
      const result = await verify(work, 'm1.json', 'm2.json');
      expect(result.code, result.stdout).toBe(2);
      expect(result.stderr).toBe(
        `globpipe: verify-shards: manifest m1.json is not a globpipe run manifest: output ${JSON.stringify(claimed)} is not a path beneath out\n`,
      );
    },
  );

  it('reports an output the manifest claims but no run wrote as gone', async () => {
    const { work, out } = await twoShards();
    const path = join(work, 'm2.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
      inputs: { outputs: { path: string; size: number; sha256: string }[] }[];
    };
    manifest.inputs[0]?.outputs.push({ path: 'ghost.txt', size: 1, sha256: '0'.repeat(64) });
    writeFileSync(path, JSON.stringify(manifest));
    const result = await verify(work, 'm1.json', 'm2.json', '--json');
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      changed: [{ path: join(out, 'ghost.txt'), manifest: 'm2.json', reason: 'gone' }],
    });
  });

  it('refuses a dry run shard among shards that wrote: its files were never processed', async () => {
    const { work } = await twoShards([true, false]);
    const result = await verify(work, 'm1.json', 'm2.json');
    expect(result.code, result.stdout).toBe(2);
    expect(result.stderr).toBe(
      'globpipe: verify-shards: m1.json is a dry run (nothing written) and m2.json is not: give the manifests of runs that wrote\n',
    );
  });

  it('still checks the plan of dry runs alone: they cover the tree once', async () => {
    const { work } = await twoShards([true, true]);
    const result = await verify(work, 'm1.json', 'm2.json');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/5 files: 0 written, 0 skipped, 0 failed .*\| complete\n$/);
  });
});
