import { defineConfig } from 'vitest/config';

// The rehearsal project alone (until vitest.config.ts carries it): `npx vitest run -c vitest.rehearsal.config.ts`
export default defineConfig({
  test: {
    name: 'rehearsal',
    include: ['src/**/*rehearsal*.test.ts'],
    globalSetup: ['src/rehearse/test-support/global-rehearsal.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
