import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, readTree, shellQuote, tempDir } from '../helpers.js';
import { type Cluster, slurmMissing, startCluster } from '../slurm-cluster.js';

/**
 * A real scheduler: a Slurm job array of 4 runs `globpipe --shard auto` over one tree; the
 * shards' manifests must cover the tree exactly once (verify-shards), and their outputs must
 * equal a single run's, byte for byte.
 */
const missing = slurmMissing();

describe.skipIf(missing !== undefined)(`a Slurm job array${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let work: string;
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    work = tempDir();
    cluster = await startCluster(join(work, 'slurm'));
  }, 60_000);

  afterAll(() => cluster?.stop());

  it('4 tasks of --shard auto cover the tree once, and write what one run writes', () => {
    const env = cluster?.env ?? process.env;
    const tree = join(work, 'tree');
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) files[`d${i % 5}/f${i}.txt`] = `file ${i}\n`.repeat(200 + i * 7);
    for (const [path, content] of Object.entries(files)) {
      execFileSync('mkdir', ['-p', join(tree, path, '..')]);
      writeFileSync(join(tree, path), content);
    }
    const out = join(work, 'sharded');
    const job = join(work, 'job.sh');
    writeFileSync(
      job,
      [
        '#!/bin/sh',
        `exec ${shellQuote(process.execPath)} ${shellQuote(bin)} -C ${shellQuote(tree)} '**/*' -t gzip -o ${shellQuote(out)} --shard auto --manifest ${shellQuote(work)}/m-$SLURM_ARRAY_TASK_ID.json`,
        '',
      ].join('\n'),
    );
    chmodSync(job, 0o755);
    const submitted = spawnSync(
      'sbatch',
      ['--wait', '--array=1-4', '-o', join(work, 'task-%a.log'), '-D', work, job],
      { env, encoding: 'utf8', timeout: 120_000 },
    );
    const logs = readdirSync(work)
      .filter((name) => name.startsWith('task-'))
      .map((name) => execFileSync('cat', [join(work, name)], { encoding: 'utf8' }))
      .join('\n');
    expect(submitted.status, `${submitted.stderr}\n${logs}`).toBe(0);
    // Each task said which shard it resolved from Slurm's variables.
    for (const i of [1, 2, 3, 4]) expect(logs).toContain(`shard ${i}/4`);

    const manifests = [1, 2, 3, 4].map((i) => join(work, `m-${i}.json`));
    const verify = spawnSync(process.execPath, [bin, 'verify-shards', ...manifests], { encoding: 'utf8' });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);

    const single = join(work, 'single');
    execFileSync(process.execPath, [bin, '-C', tree, '**/*', '-t', 'gzip', '-o', single, '-q']);
    expect(readTree(out)).toEqual(readTree(single));

    // One manifest left out: the gap is found and named.
    const gap = spawnSync(process.execPath, [bin, 'verify-shards', ...manifests.slice(1)], {
      encoding: 'utf8',
    });
    expect(gap.status).toBe(1);
  }, 180_000);
});
