/**
 * What `globpipe bench` measures and reports: the cells of its mode matrix, each run's raw
 * figures, and the statistics over them. bench.ts runs the cells; stats.ts computes;
 * export.ts writes JSON, Markdown, CSV and SVG; machine.ts, cache.ts and fio.ts describe
 * and prepare the machine. The JSON export is this report, with `results` shaped as
 * hyperfine's (schema: docs/bench-schema.json).
 */

/** Cache state before each run: `warm` as left by the warmup, `cold` evicted first (cache.ts). */
import type { Latency, ReadStrategy } from '../types.js';

export type { ReadStrategy };

export type CacheState = 'warm' | 'cold';

/**
 * What each file goes through: `read` read only (nothing written); `copy` read and written
 * (the kernel's copy for large files); `transform` the `-t` transforms as in a normal run;
 * `fsync` copy with durable writes.
 */
export type Work = 'read' | 'copy' | 'transform' | 'fsync';

/**
 * `globpipe`: a globpipe run. `overhead`: globpipe with no file IO (a dry run: start,
 * glob and plan). `sync-loop`: a plain synchronous read+write loop over the same files
 * (readFileSync, writeFileSync), the floor one-at-a-time IO sets.
 */
export type CellKind = 'globpipe' | 'overhead' | 'sync-loop';

export interface Cell {
  /** Stable and unique within a report: `j64-cold-auto-copy-tp16`, `overhead`, `sync-loop-warm`. */
  readonly id: string;
  /** For tables: `-j 64, cold, copy`. */
  readonly label: string;
  readonly kind: CellKind;
  /** Files in flight (1 = --sequential). */
  readonly concurrency: number;
  readonly cache: CacheState;
  readonly read: ReadStrategy;
  readonly work: Work;
  /** UV_THREADPOOL_SIZE, or undefined for globpipe's own choice. */
  readonly threadpool: number | undefined;
  /** The exact shell command one run executes: paste it into a shell (or hyperfine) to rerun it. */
  readonly command: string;
  /** The shell command run before each run, not timed: outputs removed, caches evicted. */
  readonly prepare: string;
}

/** Per-file latency percentiles, in milliseconds: the summary's own (Summary.latencyMs). */
export type Percentiles = Latency;

/** One run of one cell: a fresh process. */
export interface RunSample {
  /** The process's wall time, start included, as `time` shows it. */
  readonly wallSeconds: number;
  /** The run's own elapsed time (its report's), process start excluded; what fio's figures compare with. */
  readonly pipelineSeconds?: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly peakRssBytes: number;
  readonly exitCode: number;
  /** Files and bytes the run reports it read. */
  readonly files: number;
  readonly bytes: number;
  /** From the run's own report; undefined for cells that time no files (overhead). */
  readonly latency: Percentiles | undefined;
  /** Bytes of the dataset in the page cache just before the run (fincore), when checked. */
  readonly residentBytes: number | undefined;
  /** Which of the cell's runs this is, in the order all runs happened (interleaving). */
  readonly order: number;
}

export interface Stats {
  readonly median: number;
  readonly mean: number;
  readonly stddev: number;
  readonly min: number;
  readonly max: number;
  /** 95% confidence interval of the median (seconds), from order statistics. */
  readonly ci95: readonly [number, number];
}

export interface CellResult {
  readonly cell: Cell;
  readonly runs: readonly RunSample[];
  /** Wall seconds over the runs. */
  readonly wall: Stats;
  /** From the median wall time: files per second, MiB per second, and IOPS (files read + written per second). */
  readonly filesPerSecond: number;
  readonly mibPerSecond: number;
  readonly iops: number;
  /** Per-file latency: the median over runs of each percentile (max: the largest). */
  readonly latency: Percentiles | undefined;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** The largest over runs. */
  readonly peakRssBytes: number;
  /** Every run read exactly the dataset's files and bytes, and exited 0. */
  readonly verified: boolean;
  /** Indices into `runs` of outliers: as hyperfine, |wall - median| / MAD over 14.826 (1.4826 × 10: ten robust standard deviations). */
  readonly outliers: readonly number[];
  /** Why a figure should not be trusted, one sentence each. */
  readonly warnings: readonly string[];
  /** Against `--baseline`: its median and the relative change (0.1 = 10% slower). */
  readonly baseline?: { readonly median: number; readonly change: number };
}

export interface SizeBucket {
  /** Bytes, inclusive lower bound. */
  readonly from: number;
  /** Bytes, exclusive upper bound (Infinity for the last). */
  readonly to: number;
  readonly files: number;
  readonly bytes: number;
}

export interface Dataset {
  /** Absolute directory. */
  readonly root: string;
  readonly patterns: readonly string[];
  readonly files: number;
  readonly bytes: number;
  readonly histogram: readonly SizeBucket[];
}

export interface MachineInfo {
  readonly hostname: string;
  readonly os: string;
  readonly kernel: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly globpipe: string;
  /** The libuv pool size runs get unless a cell sets one (UV_THREADPOOL_SIZE). */
  readonly threadpool: number;
  /** Running under a hypervisor: cold is the guest's page cache only (guest-cold). */
  readonly virtualized: boolean;
  /** The dataset's file system: type (ext4, tmpfs…), device, mount point. */
  readonly filesystem: { readonly type: string; readonly device: string; readonly mount: string };
}

/** How cold cells are made cold, and whether that was seen to work. */
export interface ColdMethod {
  /** `drop-caches` (root), `fadvise` (posix_fadvise DONTNEED per file), or `none`. */
  readonly name: 'drop-caches' | 'fadvise' | 'none';
  /** The shell command that evicts (part of each cold cell's `prepare`). */
  readonly command: string;
  /** Why `none`, or a caveat (guest-cold in a VM, tmpfs cannot be evicted). */
  readonly note?: string;
}

export interface FioFigures {
  /** fio's exact command lines. */
  readonly commands: readonly string[];
  /** 4 KiB random reads, by iodepth: IOPS. */
  readonly randomRead: readonly { readonly iodepth: number; readonly iops: number }[];
  /** Large-file sequential read (psync), MiB/s, and the file it read. */
  readonly sequentialRead?: { readonly file: string; readonly mibPerSecond: number };
  /** Comparisons, one sentence each: globpipe's figure as a fraction of fio's. */
  readonly comparisons: readonly string[];
}

export interface BenchReport {
  /** The report's schema version. */
  readonly schema: 1;
  /** ISO 8601. */
  readonly date: string;
  readonly machine: MachineInfo;
  readonly dataset: Dataset;
  readonly cold: ColdMethod;
  readonly runs: number;
  readonly warmup: number;
  readonly cells: readonly CellResult[];
  /** The one-sentence answer. */
  readonly answer: string;
  readonly fio?: FioFigures;
  /** Notes on cells asked for but not run (direct reads on tmpfs, cold on tmpfs…). */
  readonly notes: readonly string[];
}
