import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest's global setup: the CLI and the IO workers run from dist/, which `npm test` builds
 * first. A bare `npx vitest` on a fresh clone gets one clear message, not a hundred failures.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const missing = ['dist/cli/bundle.js', 'dist/io/worker.cjs', 'dist/index.js'].filter(
    (file) => !existsSync(join(root, file)),
  );
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first (\`npm test\` does both)`);
  }
}
