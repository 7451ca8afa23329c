import type { Logger, RunEvent, RunObserver } from '@baton/core';
import type { RunRegistry } from './types.js';

/** Options of {@link createRegistryObserver}. */
export interface RegistryObserverOptions {
  /** Where write failures are reported; they never break a run. @default silent */
  logger?: Logger;
}

/** A {@link RunObserver} that writes a registry, with a way to wait for its writes. */
export interface RegistryObserver extends RunObserver {
  /** Resolves when every event received so far is written (or failed and was logged). */
  flush(): Promise<void>;
  /** Writes that failed since creation. */
  readonly failures: number;
}

/**
 * Turns an engine's {@link RunEvent}s into registry rows at every transition. Engines may deliver
 * events without awaiting them; this observer writes them one at a time in arrival order, so a
 * step's finish can never be written before its start.
 *
 * @example
 * ```ts
 * const registry = await createPgliteRegistry();
 * const observer = createRegistryObserver(registry);
 * const engine = createLocalEngine({ pipelines: [pipeline], observer });
 * await engine.result((await engine.start(pipeline, input)).runId);
 * await observer.flush();
 * ```
 */
export function createRegistryObserver(registry: RunRegistry, options: RegistryObserverOptions = {}): RegistryObserver {
  let tail: Promise<void> = Promise.resolve();
  let failures = 0;
  const observer = (event: RunEvent): Promise<void> => {
    const write = tail.then(() =>
      registry.apply(event).catch((e: unknown) => {
        failures++;
        options.logger?.error('run registry write failed', { event: event.type, runId: event.runId, error: (e as Error).message });
      }),
    );
    tail = write;
    return write;
  };
  return Object.assign(observer, {
    flush: () => tail,
    get failures() {
      return failures;
    },
  });
}
