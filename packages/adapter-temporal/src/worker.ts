import { NativeConnection, Worker, type InjectedSinks, type WorkflowBundle } from '@temporalio/worker';
import { createMemoryBlobStore, silentLogger, type AnyPipeline } from '@baton/core';
import { safeObserver, type EngineBaseOptions, type PipelineSet, type StageRunnerOptions } from '@baton/core/engine';
import { createBatonActivities } from './activities.js';
import { bundleBatonWorkflow } from './bundle.js';
import { routeTemporalLogs } from './logging.js';
import type { BatonSinks } from './workflow/contract.js';
import { defaultAddress, DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from './defaults.js';
import { TAKEOVER_DEFAULTS } from './worker-options.js';

/**
 * Options of {@link createTemporalWorker}: core's engine fields (`EngineBaseOptions`, with
 * `pipelines` also a map read at each call, so it may grow) and stage fields
 * (`StageRunnerOptions`), plus where Temporal is.
 * - `blobs` must be shared by every worker of the task queue (default memory: one worker only).
 * - `limiter`: `createPostgresModelLimiter` of `@baton/registry` shares budgets across every worker
 *   of the task queue. The wait happens inside the stage activity, which heartbeats meanwhile; it
 *   is neither an attempt nor counted against the stage's timeout, and the workflow's
 *   start-to-close timeout leaves room for it (`ActivityTuning.maxBudgetWaitMs`).
 * - `logger` receives Baton's lines and the Temporal SDK's (Runtime, worker, Rust core: see
 *   {@link routeTemporalLogs}), so a silent logger silences the SDK too.
 * - `notifier` is called from the review activity; `observer` receives attempts from activities,
 *   steps and reviews from the workflow (not on replay).
 */
export interface TemporalWorkerOptions extends Omit<EngineBaseOptions, 'pipelines'>, StageRunnerOptions {
  /** Pipelines whose stages this worker runs (a map is read at each call, so it may grow). */
  pipelines: AnyPipeline[] | ReadonlyMap<string, AnyPipeline> | PipelineSet;
  /** A connection to reuse; closed by the caller. Without it the worker opens (and closes) its own. */
  connection?: NativeConnection;
  /** @default `TEMPORAL_ADDRESS` or `localhost:7233` */
  address?: string;
  /** @default 'default' */
  namespace?: string;
  /** @default 'baton' */
  taskQueue?: string;
  /**
   * How long an attempt may run past its stage timeout, budget waits aside, before it stops
   * heartbeating and the workflow runs it again (its start-to-close leaves room for budget waits,
   * so it no longer bounds a stuck attempt). @default 60000
   */
  stuckGraceMs?: number;
  /** A bundle from {@link bundleBatonWorkflow}; bundled on first use otherwise. */
  workflowBundle?: WorkflowBundle;
  /** Stage activities run at once by this worker. @default 100 */
  maxConcurrentActivities?: number;
  /** How long the server keeps a run's tasks for this worker before giving them to another. @default '1s' ({@link TAKEOVER_DEFAULTS}) */
  stickyQueueScheduleToStartTimeout?: string;
  /** Time given to running activities on shutdown. @default '3s' ({@link TAKEOVER_DEFAULTS}) */
  shutdownGraceTime?: string;
}

/** A running Baton worker. */
export interface TemporalWorker {
  readonly taskQueue: string;
  /** The underlying Temporal worker. */
  readonly worker: Worker;
  /** Polls until {@link TemporalWorker.shutdown}; rejects if the worker fails. */
  readonly running: Promise<void>;
  /** Stops polling, lets running activities finish (grace time), closes its own connection. */
  shutdown(): Promise<void>;
  /** `await using worker = await createTemporalWorker(…)` shuts it down at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates and starts a worker for the Baton workflow and its stage activities: what
 * `baton worker --engine temporal` runs.
 *
 * @example
 * ```ts
 * const worker = await createTemporalWorker({ pipelines: [pipeline], taskQueue: 'reports', blobs });
 * process.on('SIGTERM', () => void worker.shutdown());
 * await worker.running;
 * ```
 */
export async function createTemporalWorker(options: TemporalWorkerOptions): Promise<TemporalWorker> {
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const logger = options.logger ?? silentLogger;
  // before the first connection: the connection installs the process's Temporal Runtime
  const releaseLogs = routeTemporalLogs(logger, taskQueue);
  const ownConnection = options.connection
    ? undefined
    : await NativeConnection.connect({ address: options.address ?? defaultAddress() }).catch((e: unknown) => {
        releaseLogs();
        throw e;
      });
  const connection = options.connection ?? ownConnection!;
  const observe = options.observer ? safeObserver([options.observer], logger) : undefined;
  const activities = createBatonActivities({
    pipelines: options.pipelines,
    blobs: options.blobs ?? createMemoryBlobStore(),
    logger,
    ...(options.model ? { model: options.model } : {}),
    ...(options.limiter ? { limiter: options.limiter } : {}),
    ...(options.prices ? { prices: options.prices } : {}),
    ...(options.stuckGraceMs === undefined ? {} : { stuckGraceMs: options.stuckGraceMs }),
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
  });
  const sinks: InjectedSinks<BatonSinks> = {
    baton: {
      event: {
        fn: (_info, event) => {
          void observe?.(event);
        },
        callDuringReplay: false,
      },
    },
  };
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: options.namespace ?? DEFAULT_NAMESPACE,
      taskQueue,
      workflowBundle: options.workflowBundle ?? (await bundleBatonWorkflow()),
      activities,
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 100,
      stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeout ?? TAKEOVER_DEFAULTS.stickyQueueScheduleToStartTimeout,
      shutdownGraceTime: options.shutdownGraceTime ?? TAKEOVER_DEFAULTS.shutdownGraceTime,
      sinks,
    });
  } catch (e) {
    await ownConnection?.close();
    releaseLogs();
    throw e;
  }
  const running = worker.run().finally(async () => {
    // NativeConnection.close() throws if a worker was created and never ran, so close after run
    await ownConnection?.close();
    releaseLogs();
  });
  running.catch((e: unknown) => logger.error('temporal worker stopped', { error: (e as Error).message }));
  return {
    taskQueue,
    worker,
    running,
    /** `await using` shuts the worker down (same as {@link TemporalWorker.shutdown}). */
    [Symbol.asyncDispose](this: TemporalWorker) {
      return this.shutdown();
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}
