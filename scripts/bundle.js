// Bundles the CLI (and, below, the IO worker) into one file each: the startup of a CLI run over thousands of small files
// matters, and one module parses much faster than the ~100 files yargs and friends span.
// The library (dist/index.js) stays as tsc wrote it, and starts the same worker file.
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * string-width (yargs and cliui measure help text with it) builds an
 * Intl.Segmenter and Unicode-property regexes when it loads: ~25 ms of every
 * run's start, for help output a run rarely prints. Its body is moved into a
 * function that runs on the first call; the code itself is unchanged.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(bundler) {
    bundler.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const lines = source.split('\n');
      const imports = lines.filter((line) => line.startsWith('import '));
      const body = lines.filter((line) => !line.startsWith('import '));
      const exported = body.findIndex((line) => line.startsWith('export default function stringWidth('));
      if (exported < 0 || body.some((line, i) => i !== exported && line.startsWith('export'))) {
        throw new Error(
          `${path}: not the string-width this build knows how to defer; update scripts/bundle.js`,
        );
      }
      body[exported] = body[exported].replace('export default function', 'function');
      return {
        loader: 'js',
        contents: [
          ...imports,
          'let deferred;',
          'export default function stringWidth(...args) {',
          '  deferred ??= (() => {',
          ...body,
          '    return stringWidth;',
          '  })();',
          '  return deferred(...args);',
          '}',
        ].join('\n'),
      };
    });
  },
};

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Loaded only when needed: jiti for TypeScript transform modules (it loads files of its own),
  // vega for bench's SVG chart (megabytes no other run should parse), mime-types and
  // compressible for a compressing run's type checks (mime-db's JSON: a copy never parses it).
  external: ['jiti', 'vega', 'vega-lite', 'mime-types', 'compressible'],
  // CommonJS dependencies call require(); an ES module bundle has to provide one.
  banner: {
    js: "import { createRequire as __globpipeRequire } from 'node:module'; const require = __globpipeRequire(import.meta.url);",
  },
  plugins: [lazyStringWidth],
  minify: true,
  logLevel: 'warning',
});

// The IO worker (dist/io/worker/pool.js starts it): one CommonJS file boots faster than the
// ES modules it is made of, and every run with files boots one or more.
await build({
  entryPoints: ['dist/io/worker/entry.js'],
  outfile: 'dist/io/worker.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
});
