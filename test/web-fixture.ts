import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { FileResult, Summary } from '../src/types.js';
import { site, writeTree } from './helpers.js';

/** Fixtures of the compressing tests (test/e2e/precompress.test.ts, delete-original.test.ts). */
export const hasZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

/** A small web root: text worth compressing, types that are not, one too small, one that does not compress. */
export function webRoot(): string {
  return writeTree({
    'index.html': `<!doctype html>\n${'<p class="x">Hello, world</p>\n'.repeat(80)}`,
    'css/site.css': 'body { color: red; margin: 0 auto; }\n'.repeat(100),
    'js/app.js': readFileSync(join(site, 'js/data.js')),
    'img/logo.svg': `<svg xmlns="http://www.w3.org/2000/svg">${'<rect width="1" height="1"/>'.repeat(80)}</svg>`,
    'img/photo.png': randomBytes(4096),
    'fonts/a.woff2': randomBytes(4096),
    'js/tiny.js': 'let a = 1;\n',
    'data/random.bin': randomBytes(4096),
  });
}

export function parse(stdout: string): { files: Map<string, FileResult>; summary: Summary } {
  const lines = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as FileResult & { type: string });
  const files = new Map<string, FileResult>();
  for (const line of lines) if (line.type === 'file') files.set(line.input, line);
  return { files, summary: lines.at(-1) as unknown as Summary };
}
