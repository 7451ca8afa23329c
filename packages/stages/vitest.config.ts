import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ['src/**/*.moto.test.ts'] } },
      { extends: true, test: { name: 'moto', include: ['src/**/*.moto.test.ts'], globalSetup: ['src/test-support/global-moto.ts'] } },
    ],
  },
});
