import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'pglite', include: ['src/**/*.test.ts'], exclude: ['src/**/*.pg.test.ts'] } },
      { extends: true, test: { name: 'postgres', include: ['src/**/*.pg.test.ts'], globalSetup: ['src/test-support/global-postgres.ts'] } },
    ],
  },
});
