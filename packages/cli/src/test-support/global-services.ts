import type { TestProject } from 'vitest/node';
import { startPostgres, startRedis, startTemporal, type Service } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    temporalAddress: string;
    databaseUrl: string;
  }
}

/**
 * Starts redis-server, a Temporal dev server and PostgreSQL for the service tests (REDIS_URL,
 * TEMPORAL_ADDRESS and DATABASE_URL name existing ones instead). Fails loudly when either cannot start.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: Service[] = [];
  try {
    const redis = process.env.REDIS_URL ?? started[started.push(await startRedis()) - 1]!.address;
    const temporal = process.env.TEMPORAL_ADDRESS ?? started[started.push(await startTemporal()) - 1]!.address;
    const database = process.env.DATABASE_URL ?? started[started.push(await startPostgres()) - 1]!.address;
    project.provide('databaseUrl', database);
    project.provide('redisUrl', redis);
    project.provide('temporalAddress', temporal);
  } catch (e) {
    await Promise.all(started.map((s) => s.stop()));
    throw e;
  }
  return async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
}
