import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // the kill -9 tests spawn child Node processes; keep the 2-core machine from thrashing
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    typecheck: {
      enabled: true,
      include: ['src/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts', 'src/**/*.test-d.ts', 'src/**/*.fixture.ts'],
      reporter: ['text-summary', 'text', 'json-summary'],
      reportsDirectory: './coverage',
      thresholds: { lines: 90 },
    },
  },
});
