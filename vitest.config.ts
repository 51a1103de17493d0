import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every test file: an unexpected crash of a simulated task fails the test that caused it.
    // And between tests the worker's event loop turns (test/support/yield-worker.ts).
    setupFiles: ['test/support/crash-guard.ts', 'test/support/yield-worker.ts'],
  },
});
