import { GlobpipeError } from '../errors.js';
import { countOf, escapeName, formatBytes, formatCount } from '../report/format.js';
import { type VerifyReport, verifyShards } from '../report/verify-shards.js';
import { fileSystemTree, loadManifests } from '../report/verify-tree.js';
import type { VerifyCliOptions } from './verify-args.js';

/** Lines per kind of problem in the text output; `--json` lists every one. */
const SHOWN = 50;

function listed<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, SHOWN).map((item) => `  ${line(item)}`);
  if (items.length > SHOWN)
    lines.push(`  … and ${formatCount(items.length - SHOWN)} more (--json lists all)`);
  return lines;
}

/** The report as text: each problem named, then one summary line (the last line). */
export function formatVerifyReport(report: VerifyReport): string[] {
  const lines: string[] = [];
  const name = escapeName;
  if (report.missing.length > 0) {
    lines.push(`${countOf(report.missing.length, 'file', 'files')} in the glob but in no manifest:`);
    lines.push(...listed(report.missing, name));
  }
  if (report.unexpected.length > 0) {
    lines.push(
      `${countOf(report.unexpected.length, 'file', 'files')} in a manifest but no longer in the glob:`,
    );
    lines.push(...listed(report.unexpected, ({ path, manifest }) => `${name(path)} (${name(manifest)})`));
  }
  if (report.overlaps.length > 0) {
    lines.push(`${countOf(report.overlaps.length, 'file', 'files')} processed more than once:`);
    lines.push(
      ...listed(
        report.overlaps,
        ({ path, manifests }) => `${name(path)} (${manifests.map(name).join(', ')})`,
      ),
    );
  }
  if (report.changed.length > 0) {
    lines.push(`${countOf(report.changed.length, 'output', 'outputs')} not as written:`);
    lines.push(
      ...listed(
        report.changed,
        ({ path, manifest, reason }) => `${name(path)}: ${reason} (${name(manifest)})`,
      ),
    );
  }
  if (report.missingShards.length > 0) lines.push(`missing shards: ${report.missingShards.join(', ')}`);
  if (report.failures.length > 0) {
    lines.push(`${countOf(report.failures.length, 'file', 'files')} failed in their run:`);
    lines.push(
      ...listed(
        report.failures,
        ({ path, manifest, message }) => `${name(path)}: ${name(message)} (${name(manifest)})`,
      ),
    );
  }
  const shards = report.shards.every((shard) => shard === null)
    ? ''
    : ` (shards ${report.shards.join(', ')})`;
  const problems = [
    report.missing.length > 0 ? `${formatCount(report.missing.length)} missing` : '',
    report.unexpected.length > 0 ? `${formatCount(report.unexpected.length)} unexpected` : '',
    report.overlaps.length > 0 ? `${formatCount(report.overlaps.length)} processed twice` : '',
    report.changed.length > 0 ? `${countOf(report.changed.length, 'output', 'outputs')} changed` : '',
    report.missingShards.length > 0
      ? `${countOf(report.missingShards.length, 'shard', 'shards')} missing`
      : '',
    // A file that failed in its run is not done: the set is not complete until a rerun does it.
    report.failures.length > 0 ? `${formatCount(report.failures.length)} not done (failed)` : '',
  ].filter((part) => part !== '');
  lines.push(
    `verify-shards: ${countOf(report.manifests.length, 'manifest', 'manifests')}${shards}, ${countOf(report.files, 'file', 'files')}: ${formatCount(report.written)} written, ${formatCount(report.skipped)} skipped, ${formatCount(report.failed)} failed | ${formatBytes(report.bytesIn)} -> ${formatBytes(report.bytesOut)} | ${problems.length === 0 ? 'complete' : problems.join(', ')}`,
  );
  return lines;
}

/** `globpipe verify-shards`: 0 complete and consistent, 1 a gap, overlap, failed file or changed output, 2 usage. */
export async function verifyCommand(
  options: VerifyCliOptions,
  print: (line: string) => void,
  warn: (line: string) => void,
): Promise<number> {
  let report: VerifyReport;
  try {
    const loaded = await loadManifests(options.manifests);
    report = await verifyShards(loaded, fileSystemTree);
  } catch (error) {
    if (error instanceof GlobpipeError && error.isUsageError) {
      warn(`globpipe: verify-shards: ${escapeName(error.message)}`);
      return 2;
    }
    throw error;
  }
  if (options.json) print(JSON.stringify(report));
  else for (const line of formatVerifyReport(report)) print(line);
  return report.ok ? 0 : 1;
}
