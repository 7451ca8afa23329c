import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ['src/**/*.services.test.ts', 'src/**/*.e2e.test.ts'] } },
      // a throwaway PostgreSQL and moto (S3, Secrets Manager, SNS, SQS) started by the globalSetup, or POSTGRES_URL-like overrides
      {
        extends: true,
        test: {
          name: 'services',
          include: ['src/**/*.services.test.ts', 'src/**/*.e2e.test.ts'],
          globalSetup: ['src/test-support/global-services.ts'],
          // files share the servers and a 2-core machine
          fileParallelism: false,
        },
      },
    ],
  },
});
