import { createLocalEngine, type AnyPipeline, type BlobStore, type Engine, type Logger, type ModelClient, type ReviewNotifier, type RunObserver } from '@baton/core';
import { join } from 'node:path';

/** What the CLI hands an engine factory. */
export interface EngineContext {
  pipelines: AnyPipeline[];
  /** Directory for CLI state (`.baton` by default): journals, blobs, run sidecars. */
  stateDir: string;
  blobs: BlobStore;
  model: ModelClient;
  observer?: RunObserver;
  notifier?: ReviewNotifier;
  logger?: Logger;
  /** Make the engine enforce another engine's limits (local: `stepfunctions`). */
  emulate?: string;
}

/** Builds an engine for the CLI. Other engines plug in by adding an entry to {@link ENGINE_FACTORIES}. */
export type EngineFactory = (ctx: EngineContext) => Promise<Engine>;

/**
 * Engines the CLI can drive, by name. `local` needs no services (journal under `<stateDir>/journal`).
 * BullMQ, Temporal and Step Functions (local) register here once their adapters export a factory.
 */
export const ENGINE_FACTORIES: Record<string, EngineFactory> = {
  local: async (ctx) =>
    createLocalEngine({
      pipelines: ctx.pipelines,
      dir: join(ctx.stateDir, 'journal'),
      blobs: ctx.blobs,
      model: ctx.model,
      ...(ctx.observer ? { observer: ctx.observer } : {}),
      ...(ctx.notifier ? { notifier: ctx.notifier } : {}),
      ...(ctx.logger ? { logger: ctx.logger } : {}),
      ...(ctx.emulate === 'stepfunctions' ? { emulate: 'stepfunctions' as const } : {}),
    }),
};

/** The factory for an engine name, or an error that lists the known ones. */
export function engineFactory(name: string): EngineFactory {
  const f = ENGINE_FACTORIES[name];
  if (!f) throw new CliError(`unknown engine "${name}". Known engines: ${Object.keys(ENGINE_FACTORIES).join(', ')}`);
  return f;
}

/** An error the CLI prints without a stack trace, telling the user what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
