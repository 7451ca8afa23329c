import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ['src/**/*.moto.test.ts', 'src/**/*rehearsal*.test.ts'] } },
      { extends: true, test: { name: 'moto', include: ['src/**/*.moto.test.ts'], globalSetup: ['src/test-support/global-moto.ts'] } },
      // a synthesized CDK app rehearsed whole: PostgreSQL started here (or DATABASE_URL), moto started per rehearsal, cfn-lint checked
      {
        extends: true,
        test: {
          name: 'rehearsal',
          include: ['src/**/*rehearsal*.test.ts'],
          globalSetup: ['src/rehearse/test-support/global-rehearsal.ts'],
          // one file at a time: each rehearsal runs a dozen function sandboxes on a 2-core machine
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
