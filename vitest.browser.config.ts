import { defineConfig } from 'vitest/config';

/**
 * The browser specs (Chromium and Firefox), after the rest and one file at a time: the
 * microphone tests capture in real time, and a capture that loses the CPU to another
 * suite's recogniser drops audio (counted, and the test fails).
 */
export default defineConfig({
  test: {
    // vitest.config.ts leaves these out of the main run.
    include: ['spec/browser/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    poolOptions: { forks: { maxForks: 1, minForks: 1, execArgv: ['--expose-gc'] } },
    reporters: ['default', './spec/support/summary-reporter.ts'],
  },
});
