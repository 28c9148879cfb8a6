import type { FileResult, Summary } from '../types.js';

const cEscapes: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r' };

function octal(byte: number): string {
  return `\\${byte.toString(8).padStart(3, '0')}`;
}

/**
 * A file name (or a message that holds one) made safe for one line of a terminal, as
 * `ls -b` shows it: `a<LF>b` -> `a\nb`, `<ESC>[31m` -> `\033[31m`, `a\b` -> `a\\b`.
 * C0 controls and DEL are escaped, C1 controls (U+0080–U+009F) as their UTF-8 bytes
 * (U+0085 -> `\302\205`), and a lone surrogate U+DC80–U+DCFF, which stands for the raw
 * byte 0x80–0xFF of a name that is not UTF-8, as that byte (U+DCFF -> `\377`): so a
 * raw byte and a C1 character never look alike. `--json` output is not escaped this way.
 */
export function escapeName(name: string): string {
  let escaped = '';
  let from = 0;
  for (let i = 0; i < name.length; i += 1) {
    const unit = name.charCodeAt(i);
    let replacement: string | undefined;
    if (unit < 0x20 || unit === 0x7f) replacement = cEscapes[unit] ?? octal(unit);
    else if (unit === 0x5c) replacement = '\\\\';
    else if (unit >= 0x80 && unit <= 0x9f) replacement = octal(0xc2) + octal(unit);
    else if (unit >= 0xdc80 && unit <= 0xdcff) {
      // A low surrogate after a high one is half of a real character, not a raw byte.
      const before = i > 0 ? name.charCodeAt(i - 1) : 0;
      if (before < 0xd800 || before > 0xdbff) replacement = octal(unit - 0xdc00);
    }
    if (replacement === undefined) continue;
    escaped += name.slice(from, i) + replacement;
    from = i + 1;
  }
  return from === 0 ? name : escaped + name.slice(from);
}

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
      ? `  skipped: ${escapeName(skip.paths[0] ?? '')}: ${escapeName(skip.reason)}`
      : `  skipped ${skip.count} files: ${escapeName(skip.reason)} (e.g. ${skip.paths.map(escapeName).join(', ')})`,
  );
}

/** `  failed: docs/bad.gz: gunzip: incorrect header check`, one line per failure whatever the names hold. */
export function formatFailures(summary: Summary): string[] {
  return summary.failures.map(
    (failure) => `  failed: ${escapeName(failure.path)}: ${escapeName(failure.message)}`,
  );
}

/** A dry run's line for one file: `docs/a.md -> /site/docs/a.html, /site/docs/a.html.gz`. */
export function formatPlanned(result: FileResult): string {
  return `${escapeName(result.input)} -> ${result.outputs.map(escapeName).join(', ')}`;
}
