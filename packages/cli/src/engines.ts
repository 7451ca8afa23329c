import { createLocalEngine } from '@baton/core';
import { join } from 'node:path';
import { bullmqEngineFactory, bullmqWorkerFactory } from './engines/bullmq.js';
import { commonOptions, type EngineFactory, type WorkerFactory } from './engines/context.js';
import { stepfunctionsEngineFactory, stepfunctionsLocalEngineFactory } from './engines/stepfunctions.js';
import { temporalEngineFactory, temporalWorkerFactory } from './engines/temporal.js';
import { CliError } from './errors.js';
import { configuredNotifier } from './notifier.js';

export { CliError } from './errors.js';
export type { CliWorker, EngineConnection, EngineContext, EngineFactory, WorkerFactory } from './engines/context.js';

/**
 * Engines the CLI can drive, by name. `local` needs no services (journal under `<stateDir>/journal`);
 * `bullmq` needs Redis, `temporal` a Temporal server; `stepfunctions-local` runs the compiled ASL
 * in process; `stepfunctions` drives a deployed app on AWS Step Functions.
 *
 * @example
 * ```ts
 * const engine = await ENGINE_FACTORIES['stepfunctions-local']!({ pipelines, stateDir: '.baton', blobs, model });
 * ```
 */
export const ENGINE_FACTORIES: Record<string, EngineFactory> = {
  local: async (ctx) =>
    createLocalEngine({
      pipelines: ctx.pipelines,
      dir: join(ctx.stateDir, 'journal'),
      blobs: ctx.blobs,
      model: ctx.model,
      ...(ctx.prices ? { prices: ctx.prices } : {}),
      ...commonOptions(ctx),
      ...(ctx.emulate === 'stepfunctions' ? { emulate: 'stepfunctions' as const } : {}),
    }),
  bullmq: bullmqEngineFactory,
  temporal: temporalEngineFactory,
  'stepfunctions-local': stepfunctionsLocalEngineFactory,
  stepfunctions: stepfunctionsEngineFactory,
};

/** Engines whose work can run in separate `baton worker` processes. */
export const WORKER_FACTORIES: Record<string, WorkerFactory> = {
  bullmq: bullmqWorkerFactory,
  temporal: temporalWorkerFactory,
};

/**
 * The factory for an engine name, or an error that lists the known ones. With `--review-notices`
 * the engine's notices (of gates opened in this process, and on BullMQ those relayed from its
 * workers) go to the configured targets too, besides the command's own notifier.
 */
export function engineFactory(name: string): EngineFactory {
  const f = ENGINE_FACTORIES[name];
  if (!f) throw new CliError(`unknown engine "${name}". Known engines: ${Object.keys(ENGINE_FACTORIES).join(', ')}`);
  return async (ctx) => {
    const spec = ctx.connection?.reviewNotifier;
    if (!spec) return f(ctx);
    const { notifier: configured } = await configuredNotifier(spec, ctx.stateDir, (line) => void process.stdout.write(line + '\n'));
    const own = ctx.notifier;
    // delivered first: the command's own notifier may end the process (a run left waiting exits)
    return f({
      ...ctx,
      notifier: async (n) => {
        await configured(n);
        await own?.(n);
      },
    });
  };
}

/** The worker factory for an engine name, or an error that says which engines have workers. */
export function workerFactory(name: string): WorkerFactory {
  const f = WORKER_FACTORIES[name];
  if (!f) throw new CliError(`engine "${name}" has no separate workers. Run workers of: ${Object.keys(WORKER_FACTORIES).join(', ')}`);
  return f;
}
