import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    // Real servers, real recogniser processes: give them time, and keep the
    // two cores for the work rather than for many workers.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // --expose-gc: heap checks measure after a full collection.
    poolOptions: { forks: { maxForks: 2, minForks: 1, execArgv: ['--expose-gc'] } },
    reporters: ['default', './spec/support/summary-reporter.ts'],
  },
});
