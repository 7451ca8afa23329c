import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // the browser test launches Chromium: keep the 2-core machine usable
    maxWorkers: 1,
  },
});
