import { startMoto } from '@baton/stages/testkit/moto';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

/** vitest globalSetup of the `moto` project: moto on a free loopback port, or MOTO_ENDPOINT (see `startMoto` of `@baton/stages/testkit/moto`). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  return () => moto.stop();
}
