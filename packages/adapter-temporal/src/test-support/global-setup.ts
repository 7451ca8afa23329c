import type { TestProject } from 'vitest/node';
import { startDevServer } from './dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

/**
 * Starts one Temporal dev server for the whole test run (with the dynamic config that makes
 * activity hops fast), or uses TEMPORAL_ADDRESS. Fails loudly when the CLI is missing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.TEMPORAL_ADDRESS;
  const server = existing ? undefined : await startDevServer();
  const address = existing ?? server!.address;
  process.env.TEMPORAL_ADDRESS = address;
  project.provide('temporalAddress', address);
  return async () => {
    await server?.stop();
  };
}
