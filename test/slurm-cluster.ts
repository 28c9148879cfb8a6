import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A Slurm cluster of one node for a test: munged, slurmctld and slurmd started by hand (there
 * is no systemd here) from a slurm.conf written into `dir`, and stopped again. Needs root and
 * Debian's `slurmd slurmctld slurm-client munge` (.ci/run installs them).
 */
export interface Cluster {
  /** The environment sbatch and squeue need (SLURM_CONF). */
  readonly env: NodeJS.ProcessEnv;
  stop(): void;
}

/** Why a Slurm test cannot run here, or undefined when it can. */
export function slurmMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: slurmctld and slurmd are started by hand as root';
  for (const tool of ['munged', 'slurmctld', 'slurmd', 'sbatch', 'sinfo']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (Debian: apt-get install slurmd slurmctld slurm-client munge)`;
  }
  if (!existsSync('/etc/munge/munge.key')) return 'no /etc/munge/munge.key (the munge package makes it)';
  return undefined;
}

function pidOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Gone already.
  }
}

export async function startCluster(dir: string): Promise<Cluster> {
  const node = hostname();
  for (const sub of ['spool', 'state', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  // Ports of its own, so that a cluster left by another run does not answer for this one.
  const port = 20000 + (process.pid % 20000);
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=globpipe',
      `SlurmctldHost=${node}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'ReturnToService=2',
      'MpiDefault=none',
      'JobCompType=jobcomp/none',
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      `NodeName=${node} CPUs=1 RealMemory=500 State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  // One munged serves every cluster on the machine: started only when none runs.
  let munged: number | undefined;
  if (spawnSync('pgrep', ['-x', 'munged']).status !== 0) {
    mkdirSync('/run/munge', { recursive: true });
    execFileSync('munged', ['--force', `--pid-file=${join(dir, 'munged.pid')}`], { stdio: 'ignore' });
    munged = pidOf(join(dir, 'munged.pid'));
  }
  execFileSync('slurmctld', ['-f', conf], { env, stdio: 'ignore' });
  execFileSync('slurmd', ['-f', conf], { env, stdio: 'ignore' });
  // The daemons are found by their config's path, which no other cluster shares: their pid
  // files live in `dir`, which a test's cleanup may remove before the cluster stops.
  const stop = () => {
    spawnSync('pkill', ['-f', conf]);
    kill(munged);
  };
  // Ready when the node is idle (slurmd registered with the controller).
  for (let i = 0; i < 100; i++) {
    const state = spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8' }).stdout?.trim();
    if (state === 'idle') return { env, stop };
    await sleep(200);
  }
  stop();
  const log = (name: string) => {
    try {
      return readFileSync(join(dir, 'log', name), 'utf8')
        .split('\n')
        .slice(-5)
        .join('\n');
    } catch {
      return '(no log)';
    }
  };
  throw new Error(`the Slurm node never became idle\n${log('slurmctld.log')}\n${log('slurmd.log')}`);
}
