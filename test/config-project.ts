import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { readTree, writeTree } from './helpers.js';

/** Inputs every project of the config tests holds under site/; configs and modules go beside them. */
export const SITE = {
  'site/a.css': 'body { color: red }\n',
  'site/sub/b.html': '<p>hello</p>\n',
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
