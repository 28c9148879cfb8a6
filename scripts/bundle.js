// Bundles the CLI into one file: the startup of a CLI run over thousands of small files
// matters, and one module parses much faster than the ~100 files yargs and friends span.
// The library (dist/index.js) stays as tsc wrote it.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Loaded only for TypeScript transform modules, and it loads files of its own.
  external: ['jiti'],
  // CommonJS dependencies call require(); an ES module bundle has to provide one.
  banner: {
    js: "import { createRequire as __globpipeRequire } from 'node:module'; const require = __globpipeRequire(import.meta.url);",
  },
  minify: true,
  logLevel: 'warning',
});
