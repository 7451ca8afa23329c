import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // PGlite creates its database in WebAssembly (about 6 s of CPU) and the machine is shared
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // the built CLI with the local and stepfunctions-local engines: no services
      {
        extends: true,
        test: { name: 'cli', include: ['src/**/*.test.ts'], exclude: ['src/**/*.service.test.ts'], globalSetup: ['src/test-support/global-built.ts'] },
      },
      // bullmq and temporal: redis-server and a Temporal dev server started here (or REDIS_URL / TEMPORAL_ADDRESS)
      {
        extends: true,
        test: {
          name: 'services',
          include: ['src/**/*.service.test.ts'],
          globalSetup: ['src/test-support/global-built.ts', 'src/test-support/global-services.ts'],
          // files share the servers and a 2-core machine
          fileParallelism: false,
        },
      },
    ],
  },
});
