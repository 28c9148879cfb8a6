import type { Summary } from '../types.js';

/** `1.5 MB`, `980 kB`, `12 B`: decimal units, as disk and network speeds are quoted. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** `1.23 s`, `2m05s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

/**
 * The one-line summary, then a line per failure:
 * `globpipe: 12 matched, 11 written, 0 skipped, 1 failed | 48.2 kB -> 9.1 kB | 0.05 s, 240 files/s, 0.96 MB/s | -j 4`
 * `  failed: docs/bad.gz: gunzip: incorrect header check`
 */
export function formatSummary(summary: Summary): string {
  const counts = `${summary.matched} matched, ${summary.dryRun ? `${summary.outputs} outputs planned` : `${summary.written} written`}, ${summary.skipped} skipped, ${summary.failed} failed`;
  const bytes = `${formatBytes(summary.bytesIn)} -> ${formatBytes(summary.bytesOut)}`;
  const speed = `${formatSeconds(summary.elapsedSeconds)}, ${summary.filesPerSecond} files/s, ${summary.mbPerSecond} MB/s`;
  const head = `globpipe: ${summary.interrupted ? 'interrupted: ' : ''}${counts} | ${bytes} | ${speed} | -j ${summary.concurrency}`;
  return [head, ...formatSkips(summary), ...formatFailures(summary)].join('\n');
}

/** `  skipped: img.png: binary content`, or for many: `  skipped 1200 files: output exists (e.g. a.txt, b.txt)`. */
export function formatSkips(summary: Summary): string[] {
  return summary.skips.map((skip) =>
    skip.count === 1
      ? `  skipped: ${skip.paths[0]}: ${skip.reason}`
      : `  skipped ${skip.count} files: ${skip.reason} (e.g. ${skip.paths.join(', ')})`,
  );
}

export function formatFailures(summary: Summary): string[] {
  return summary.failures.map((failure) => `  failed: ${failure.path}: ${failure.message}`);
}
