import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/built.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every test spawns real processes and writes real trees: keep two cores busy, not oversubscribed.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
  },
});
