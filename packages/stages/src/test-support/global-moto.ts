import type { TestProject } from 'vitest/node';
import { startMoto } from '../testkit/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
  }
}

/** vitest globalSetup of the `moto` project: moto on a free loopback port, or MOTO_ENDPOINT / S3_ENDPOINT (see `startMoto`). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide('s3Endpoint', moto.endpoint);
  return () => moto.stop();
}
