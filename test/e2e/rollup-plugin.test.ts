import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTree, root, writeTree } from '../helpers.js';

/**
 * examples/vite-plugin-globpipe.mjs in a real Rollup build: the rollup CLI bundles a small
 * project whose config uses the plugin, and the build's output gains a .gz and a .br beside
 * each file, each decompressing to it.
 */

const rollupBin = join(
  createRequire(import.meta.url).resolve('rollup/package.json'),
  '..',
  'dist',
  'bin',
  'rollup',
);
const plugin = pathToFileURL(join(root, 'examples', 'vite-plugin-globpipe.mjs')).href;

/** A project of two modules and a stylesheet asset, with `config` as its rollup.config.mjs. */
function project(config: string): string {
  const words = Array.from({ length: 400 }, (_, i) => `'word ${i % 37}'`).join(', ');
  return writeTree({
    'src/main.js': `import { words } from './lib.js';\nconsole.log(words.join(' '));\n`,
    'src/lib.js': `export const words = [${words}];\n`,
    'rollup.config.mjs': `import globpipe from ${JSON.stringify(plugin)};\n${config}\n`,
  });
}

function build(cwd: string) {
  const result = spawnSync(process.execPath, [rollupBin, '-c'], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Every file beside which the build must have put both compressed twins. */
function expectPrecompressed(dir: string, files: string[], untouched: string[] = []) {
  const tree = readTree(dir);
  expect([...tree.keys()].sort()).toEqual(
    [...files.flatMap((f) => [f, `${f}.br`, `${f}.gz`]), ...untouched].sort(),
  );
  for (const file of files) {
    const original = tree.get(file) as Buffer;
    expect(gunzipSync(tree.get(`${file}.gz`) as Buffer).equals(original), `${file}.gz`).toBe(true);
    expect(brotliDecompressSync(tree.get(`${file}.br`) as Buffer).equals(original), `${file}.br`).toBe(true);
  }
}

describe('examples/vite-plugin-globpipe.mjs in a Rollup build', () => {
  it('writes a .gz and a .br beside every file of the bundle worth it, and says so in one line', () => {
    const cwd = project(`export default {
  input: ['src/main.js', 'src/lib.js'],
  output: { dir: 'dist', format: 'es', chunkFileNames: 'chunks/[name].js' },
  plugins: [
    { name: 'asset', buildStart() { this.emitFile({ type: 'asset', fileName: 'style.css', source: 'body { color: red; }\\n'.repeat(50) }); } },
    { name: 'png', buildStart() { this.emitFile({ type: 'asset', fileName: 'logo.png', source: new Uint8Array([137, 80, 78, 71]) }); } },
    globpipe(),
  ],
};`);
    const first = build(cwd);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(
      /\[plugin globpipe\] 2 files precompressed in \S+dist \(1 skipped\), \d+ -> \d+ bytes/,
    );
    const dist = join(cwd, 'dist');
    // The image is left as it is (compressed already), and so is main.js: under 1 KiB, the
    // compressors' floor, it would save a server less than a network packet.
    expect(readFileSync(join(dist, 'main.js')).length).toBeLessThan(1024);
    expectPrecompressed(dist, ['lib.js', 'style.css'], ['logo.png', 'main.js']);
    // A rebuild into the same directory compresses the new bundle, never the .gz of the last one.
    writeFileSync(join(cwd, 'src/lib.js'), `export const words = ['changed', ${'"again", '.repeat(300)}];\n`);
    const second = build(cwd);
    expect(second.code, second.output).toBe(0);
    expect(readFileSync(join(dist, 'lib.js'), 'utf8')).toContain('changed');
    expectPrecompressed(dist, ['lib.js', 'style.css'], ['logo.png', 'main.js']);
  });

  it('compresses next to `output.file` as well', () => {
    const cwd = project(`export default {
  input: 'src/main.js',
  output: { file: 'out/bundle.js', format: 'iife' },
  plugins: [globpipe()],
};`);
    const result = build(cwd);
    expect(result.code, result.output).toBe(0);
    expectPrecompressed(join(cwd, 'out'), ['bundle.js']);
  });

  it('fails the build, naming each file, when a file fails', () => {
    const cwd = project(`export default {
  input: 'src/main.js',
  output: { dir: 'dist', format: 'es' },
  plugins: [globpipe({ transforms: [{ name: 'picky', buffer(content, file) { if (file.path === 'main.js') throw new Error('cannot stand it'); return content; } }], ext: '.out' })],
};`);
    const result = build(cwd);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(
      /\[plugin globpipe\] 1 file failed in \S+dist:\n\s+main\.js: .*cannot stand it/,
    );
  });
});
