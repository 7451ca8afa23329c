import { startTestPostgres } from '@baton/registry/testkit/postgres';
import type { TestProject } from 'vitest/node';
import { startMoto } from '@baton/stages/testkit/moto';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    motoEndpoint: string;
  }
}

/**
 * vitest globalSetup of the `services` project: one throwaway PostgreSQL (`@baton/registry/testkit/postgres`,
 * or DATABASE_URL) and one moto server (or MOTO_ENDPOINT) for the whole run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [postgres, moto] = await Promise.all([startTestPostgres(), startMoto()]);
  project.provide('postgresUrl', postgres.url);
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await Promise.all([postgres.stop(), moto.stop()]);
  };
}
