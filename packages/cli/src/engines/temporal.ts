import { commonOptions, type EngineContext, type EngineFactory, type WorkerFactory } from './context.js';
import { assertReachable, hostPort } from './reach.js';

/** The Temporal engine: one workflow per run, an in-process worker unless `--no-worker`. */
export const temporalEngineFactory: EngineFactory = async (ctx) => {
  const { address, namespace, taskQueue } = await temporalOf(ctx);
  await installRuntimeLog(ctx);
  // loaded on demand: the Temporal SDK (native bridge, webpack) is heavy for other engines
  const { bundleBatonWorkflow, createTemporalEngine } = await import('@baton/adapter-temporal');
  const worker = ctx.connection?.worker !== false;
  return createTemporalEngine({
    address,
    namespace,
    taskQueue,
    pipelines: ctx.pipelines,
    blobs: ctx.blobs,
    model: ctx.model,
    ...(ctx.prices ? { prices: ctx.prices } : {}),
    worker,
    ...(worker ? { workflowBundle: await bundleBatonWorkflow() } : {}),
    ...commonOptions(ctx),
  });
};

/** `baton worker --engine temporal`: polls the task queue until closed. */
export const temporalWorkerFactory: WorkerFactory = async (ctx) => {
  const { address, namespace, taskQueue } = await temporalOf(ctx);
  await installRuntimeLog(ctx);
  const { bundleBatonWorkflow, createTemporalWorker } = await import('@baton/adapter-temporal');
  const worker = await createTemporalWorker({
    address,
    namespace,
    taskQueue,
    pipelines: ctx.pipelines,
    blobs: ctx.blobs,
    model: ctx.model,
    ...(ctx.prices ? { prices: ctx.prices } : {}),
    workflowBundle: await bundleBatonWorkflow(),
    ...commonOptions(ctx),
  });
  return {
    description: `temporal worker on ${address} (namespace "${namespace}", task queue "${taskQueue}")`,
    running: worker.running,
    close: () => worker.shutdown(),
  };
};

/**
 * Sends the Temporal runtime's own log (worker state changes at INFO, problems at WARN+) to the
 * CLI's JSON log instead of stderr, where it would break the progress display.
 */
async function installRuntimeLog(ctx: EngineContext): Promise<void> {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  const logger = ctx.logger;
  try {
    Runtime.install({
      logger: new DefaultLogger('INFO', (entry) => {
        const meta = { ...entry.meta, source: 'temporal-sdk' };
        if (!logger) return;
        if (entry.level === 'ERROR') logger.error(entry.message, meta);
        else if (entry.level === 'WARN') logger.warn(entry.message, meta);
        else logger.debug(entry.message, meta);
      }),
    });
  } catch {
    // already installed in this process (the dashboard builds engines twice)
  }
}

async function temporalOf(ctx: EngineContext): Promise<{ address: string; namespace: string; taskQueue: string }> {
  const address = ctx.connection?.temporalAddress ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const { host, port } = hostPort(address, 7233);
  await assertReachable(
    'the Temporal server',
    host,
    port,
    'Start one (temporal server start-dev --headless; the CLI installs with: go install github.com/temporalio/cli/cmd/temporal@v1.5.1) or pass --temporal-address host:port or TEMPORAL_ADDRESS.',
  );
  return { address, namespace: ctx.connection?.temporalNamespace ?? 'default', taskQueue: ctx.connection?.taskQueue ?? 'baton' };
}
