import type { Logger, RunEvent, RunObserver } from '@baton/core';
import type { RunRegistry } from './types.js';

/** Options of {@link createRegistryObserver}. */
export interface RegistryObserverOptions {
  /** Where write failures are reported; they never break a run. @default silent */
  logger?: Logger;
  /** Most events written in one transaction. @default 500 */
  maxBatch?: number;
}

/** A {@link RunObserver} that writes a registry, with a way to wait for its writes. */
export interface RegistryObserver extends RunObserver {
  /** Resolves when every event received so far is written (or failed and was logged). */
  flush(): Promise<void>;
  /** Events whose write failed since creation. */
  readonly failures: number;
}

/**
 * Turns an engine's {@link RunEvent}s into registry rows at every transition. Engines may deliver
 * events without awaiting them; this observer writes them in arrival order, so a step's finish is
 * never written before its start. Events that arrive while a write is in progress are written
 * together in one transaction (a 200-item map does not cost 800 commits); if that batch fails,
 * its events are retried one by one so one bad event cannot lose the others.
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
  const maxBatch = options.maxBatch ?? 500;
  const queue: RunEvent[] = [];
  let draining: Promise<void> | undefined;
  let failures = 0;

  const report = (event: RunEvent, e: unknown): void => {
    failures++;
    options.logger?.error('run registry write failed', { event: event.type, runId: event.runId, error: (e as Error).message });
  };
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        await registry.applyAll(batch);
      } catch {
        for (const event of batch) await registry.apply(event).catch((e: unknown) => report(event, e));
      }
    }
    draining = undefined;
  };
  const observer = (event: RunEvent): Promise<void> => {
    queue.push(event);
    draining ??= drain();
    return draining;
  };
  // defineProperties, not Object.assign: assign would copy the getter's value once
  return Object.defineProperties(observer, {
    flush: { value: () => draining ?? Promise.resolve() },
    failures: { get: () => failures },
  }) as RegistryObserver;
}
