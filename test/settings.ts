import type { Site } from '../src/options/probe.js';
import type { Settings } from '../src/options/settings.js';
import { builtin } from '../src/transforms/builtins.js';
import type { ResolvedTransform } from '../src/transforms/resolved.js';

/** Settings for the planning layers' unit tests, and the site they run on, in one object (both shapes). */
export function testSettings(
  overrides: Partial<Settings & Site> & { stages?: ResolvedTransform[][] } = {},
): Settings & Site {
  const stages = overrides.stages ?? [[builtin('copy', {})]];
  let chains: ResolvedTransform[][] = [[]];
  for (const stage of stages) chains = chains.flatMap((chain) => stage.map((t) => [...chain, t]));
  return {
    cwd: '/src',
    patterns: ['**/*'],
    out: '/out',
    inPlace: false,
    chains,
    ext: undefined,
    ignore: [],
    dot: false,
    followSymlinks: false,
    errorOnUnmatchedPattern: true,
    concurrency: 4,
    executor: undefined,
    port: undefined,
    dryRun: false,
    read: 'auto',
    discard: false,
    maxErrors: Number.POSITIVE_INFINITY,
    fsync: false,
    skipExisting: false,
    ifNewer: false,
    signal: undefined,
    onEvent: () => {},
    probe: undefined,
    resume: false,
    incremental: undefined,
    deleteStale: false,
    manifest: undefined,
    minSize: 0,
    minRatio: undefined,
    allTypes: false,
    deleteOriginal: false,
    only: undefined,
    shard: undefined,
    naming: 'key',
    caseInsensitive: false,
    ...overrides,
    realCwd: overrides.realCwd ?? overrides.cwd ?? '/src',
    realOut: overrides.realOut ?? overrides.out ?? '/out',
    stages,
  };
}
