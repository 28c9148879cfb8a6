import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { readTree, writeTree } from './helpers.js';

/** A stylesheet of 40 rules (about 2.5 KiB). */
const css = Array.from(
  { length: 40 },
  (_, i) =>
    `.card-${i} { margin: ${i % 8}px auto; padding: 0 ${i}px; color: #${(i * 40_999).toString(16).padStart(6, '0').slice(-6)}; }\n`,
).join('');

/** A page of 30 list items (about 2 KiB). */
const html = `<!doctype html>\n<ul>\n${Array.from({ length: 30 }, (_, i) => `  <li><a href="/posts/${i}.html">Post number ${i}</a></li>\n`).join('')}</ul>\n`;

/**
 * Inputs every project of the config tests holds under site/; configs and modules go beside
 * them. Each is a few KiB of text, as a site's files are: the compressors' web defaults
 * (1 KiB floor, 0.8 ratio) keep their outputs, as they would a real site's.
 */
export const SITE = {
  'site/a.css': css,
  'site/sub/b.html': html,
};

/** A temp project: the site, and `files` beside it (a config, package.json, modules). */
export function project(files: Record<string, string> = {}): string {
  return writeTree({ ...SITE, ...files });
}

/** The outputs of a copy of the site: the inputs' bytes at their mirrored paths. */
export function copied(): Map<string, Buffer> {
  return new Map([
    ['a.css', Buffer.from(SITE['site/a.css'])],
    ['sub/b.html', Buffer.from(SITE['site/sub/b.html'])],
  ]);
}

/** Every output of `dir`, gzip and brotli outputs decompressed, so each can be compared with its input. */
export function decoded(dir: string): Map<string, string> {
  return new Map(
    [...readTree(dir)].map(([path, bytes]) => [
      path,
      (path.endsWith('.gz')
        ? gunzipSync(bytes)
        : path.endsWith('.br')
          ? brotliDecompressSync(bytes)
          : bytes
      ).toString(),
    ]),
  );
}

/** The summary lines of a run's stderr. */
export function summaryLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => / matched, /.test(line));
}
