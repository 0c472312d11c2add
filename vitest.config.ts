import { defineConfig } from 'vitest/config';

/** The browser specs run apart, one at a time (vitest.browser.config.ts): live capture must not share the CPU. */
const BROWSER_SPECS = 'spec/browser/**/*.spec.ts';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    exclude: ['**/node_modules/**', BROWSER_SPECS],
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
