import type { TestProject } from 'vitest/node';
import { startRedis, startTemporal, type Service } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    temporalAddress: string;
  }
}

/**
 * Starts redis-server and a Temporal dev server for the service tests (REDIS_URL and
 * TEMPORAL_ADDRESS name existing ones instead). Fails loudly when either cannot start.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: Service[] = [];
  try {
    const redis = process.env.REDIS_URL ?? (started[started.push(await startRedis()) - 1]!.address);
    const temporal = process.env.TEMPORAL_ADDRESS ?? (started[started.push(await startTemporal()) - 1]!.address);
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
