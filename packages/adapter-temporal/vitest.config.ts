import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // one Temporal dev server for every file, started here (or TEMPORAL_ADDRESS)
    globalSetup: ['./src/test-support/global-setup.ts'],
    // files share the server and the 2-core machine: one at a time keeps timings honest
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
