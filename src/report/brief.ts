import type { SkipReason, Summary } from '../types.js';
import {
  countOf,
  escapeName,
  formatBytes,
  formatCount,
  formatHead,
  formatNotices,
  formatProblems,
} from './format.js';

/**
 * The end of a run off a terminal (a build log, a pipe): routine outcomes (skips, dropped
 * outputs, kept originals, stale outputs removed) are counts with short reasons in the summary
 * line, so a build that precompresses prints one line each time, not a screenful:
 * `globpipe: 16 matched, 2 written, 14 skipped (12 smaller than 1 KiB, 1 not worth compressing,
 * 1 compressing saves too little), 0 failed, 1 output dropped | 21.2 KiB -> 2.6 KiB | … | -j 32`
 * What asks for action stays a line of its own above it: a notice (an incremental manifest not
 * trusted), each failure. `--verbose` and a terminal get the detailed lines (formatSummary);
 * `--json` has every skip with its full reason.
 */
export function formatBriefSummary(summary: Summary, shown = 0): string {
  const counts = [
    ...(summary.dropped.length > 0
      ? [countOf(total(summary.dropped), 'output dropped', 'outputs dropped')]
      : []),
    ...withReasons(summary.originalsKept, 'original kept', 'originals kept'),
    ...incrementalCounts(summary),
  ];
  const head = formatHead(summary, { skipped: reasonCounts(summary.skips), counts });
  return [...formatNotices(summary), ...formatProblems(summary, shown), head].join('\n');
}

/** Labels shown for a count, at most; the rest are summed as `3 other`. */
const LABELS = 3;
/** A label longer than this (a transform's own reason, say) is cut, with `…`. */
const LABEL_CHARS = 40;

/**
 * A reason's short label: its text up to the first ` (`, `;` or `:`, where each reason
 * globpipe gives ends its gist and starts the detail (the option, the type, the fix):
 * `not worth compressing (image/png); a pattern ending in .png selects it …` -> `not worth
 * compressing`, `compressing saves too little: output/input above --min-ratio 0.8` ->
 * `compressing saves too little`, and a byte count reads as a size: `smaller than 1024 bytes
 * (--min-size)` -> `smaller than 1 KiB`. Derived from the text rather than carried beside it,
 * because a user's transform skips files with reasons of its own (SkipFile), which get the
 * same treatment, and because `--json`'s skip groups keep the shape they have.
 */
export function shortReason(reason: string): string {
  const gist = reason.split(/ \(|[;:]/, 1)[0]?.trim() || reason;
  const sized = gist.replace(/\b(\d+) bytes\b/g, (_, bytes: string) =>
    formatBytes(Number(bytes)).replace(/\.0 /, ' '),
  );
  const label = sized.length > LABEL_CHARS ? `${sized.slice(0, LABEL_CHARS - 1).trimEnd()}…` : sized;
  return escapeName(label);
}

/**
 * `12 smaller than 1 KiB, 1 not worth compressing`: counts by label, the largest first; a
 * lone label goes without its count, which the count before the brackets already gives.
 */
export function reasonCounts(groups: readonly SkipReason[]): string {
  const byLabel = new Map<string, number>();
  for (const group of groups) {
    const label = shortReason(group.reason);
    byLabel.set(label, (byLabel.get(label) ?? 0) + group.count);
  }
  // A stable sort: labels counted alike stay in the order the run met them.
  const sorted = [...byLabel].sort((a, b) => b[1] - a[1]);
  if (sorted.length === 1) return sorted[0]?.[0] ?? '';
  const shown = sorted.length > LABELS ? sorted.slice(0, LABELS - 1) : sorted;
  const rest = sorted.slice(shown.length).reduce((sum, [, count]) => sum + count, 0);
  return [
    ...shown.map(([label, count]) => `${formatCount(count)} ${label}`),
    ...(rest > 0 ? [`${formatCount(rest)} other`] : []),
  ].join(', ');
}

/** `1 original kept (an output was dropped)`, or nothing when there is none. */
function withReasons(groups: readonly SkipReason[], one: string, many: string): string[] {
  if (groups.length === 0) return [];
  return [`${countOf(total(groups), one, many)} (${reasonCounts(groups)})`];
}

/** An incremental run with `--delete-stale`: `2 stale outputs removed, 1 stale output kept (…)`. */
function incrementalCounts(summary: Summary): string[] {
  const { incremental } = summary;
  if (incremental === undefined) return [];
  const kept = new Map<string, string[]>();
  for (const { path, reason } of incremental.kept) kept.set(reason, [...(kept.get(reason) ?? []), path]);
  const keptGroups = [...kept].map(([reason, paths]) => ({ reason, count: paths.length, paths }));
  return [
    ...(incremental.removed.length > 0
      ? [countOf(incremental.removed.length, 'stale output removed', 'stale outputs removed')]
      : []),
    ...withReasons(keptGroups, 'stale output kept', 'stale outputs kept'),
  ];
}

function total(groups: readonly SkipReason[]): number {
  return groups.reduce((sum, group) => sum + group.count, 0);
}
