// Precompresses a build's output: every asset worth compressing gets a .gz and a .br beside it,
// for servers that send them as they are (nginx gzip_static/brotli_static, Caddy precompressed,
// Express static with a precompressed middleware).
//
// Rollup (rollup.config.mjs):  plugins: [globpipe()]
// Vite (vite.config.js):       plugins: [globpipe()]    (build only: `apply: 'build'`)
//
// Runs once the bundle is on disk (`closeBundle`), over each directory Rollup wrote to;
// a file that fails to compress fails the build.
import { dirname, resolve } from 'node:path';
import { run } from 'globpipe';

/** Text formats a server compresses on the fly too; images, fonts and archives are compressed already. */
const COMPRESSIBLE = '**/*.{js,mjs,cjs,css,html,htm,svg,json,map,txt,xml,wasm,webmanifest}';

/**
 * @param {Omit<import('globpipe').RunOptions, 'cwd' | 'out' | 'inPlace'>} [options]
 *   any run() option but where files come from and go (the bundle's directory); by default
 *   the compressible files, through gzip and brotli at once.
 */
export default function globpipe(options = {}) {
  /** Directories this build wrote to: one per output (a Rollup config may have several). */
  const dirs = new Set();
  return {
    name: 'globpipe',
    apply: 'build',
    writeBundle(outputOptions) {
      const dir = outputOptions.dir ?? (outputOptions.file && dirname(outputOptions.file));
      if (dir) dirs.add(resolve(dir));
    },
    async closeBundle() {
      const done = [...dirs];
      dirs.clear();
      for (const dir of done) {
        const summary = await run({
          patterns: [COMPRESSIBLE],
          transforms: [['gzip', 'brotli']],
          // A build with nothing to compress (an output of images only) is not an error.
          errorOnUnmatchedPattern: false,
          ...options,
          cwd: dir,
          out: dir,
        });
        const line = `${files(summary.written)} precompressed in ${dir} (${summary.skipped} skipped), ${summary.bytesIn} -> ${summary.bytesOut} bytes`;
        if (summary.failed > 0) {
          const failures = summary.failures.map((failure) => `  ${failure.path}: ${failure.message}`);
          this.error(`${files(summary.failed)} failed in ${dir}:\n${failures.join('\n')}`);
        }
        // Rollup and Vite print it as `[plugin globpipe] 3 files precompressed in …`.
        if (typeof this.info === 'function') this.info(line);
        else console.log(`globpipe: ${line}`);
      }
    },
  };
}

const files = (count) => (count === 1 ? '1 file' : `${count} files`);
