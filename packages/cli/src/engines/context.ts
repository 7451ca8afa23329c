import type { AnyPipeline, BlobStore, Engine, Logger, ModelClient, PriceTable, ReviewNotifier, RunObserver } from '@baton/core';

/** Where the service-backed engines find their servers, from flags or the environment. */
export interface EngineConnection {
  /** BullMQ: `redis://host:port` (`--redis-url`, `REDIS_URL`). @default 'redis://127.0.0.1:6379' */
  redisUrl?: string;
  /** BullMQ: namespace of every Redis key (`--bullmq-prefix`). @default 'baton' */
  bullmqPrefix?: string;
  /** BullMQ: job lock of this process's worker (`--bullmq-lock-ms`). @default 6000 (`DEFAULT_LOCK_DURATION_MS`) */
  bullmqLockMs?: number;
  /** BullMQ: interval of the check for jobs of stopped workers (`--bullmq-stalled-ms`). @default 3000 */
  bullmqStalledMs?: number;
  /** Temporal: `host:port` of the frontend (`--temporal-address`, `TEMPORAL_ADDRESS`). @default 'localhost:7233' */
  temporalAddress?: string;
  /** Temporal namespace (`--temporal-namespace`). @default 'default' */
  temporalNamespace?: string;
  /** Temporal task queue (`--task-queue`). @default 'baton' */
  taskQueue?: string;
  /** Run a worker inside this process (`--no-worker` when `baton worker` processes do the work). @default true */
  worker?: boolean;
  /** Where review notices go (`--review-notices`): `stdout`, `file:<path>`, `webhook:<url>`, `dashboard`, comma-separated. */
  reviewNotifier?: string;
  /** Step Functions: the deployed state machine (`--state-machine-arn`). */
  stateMachineArn?: string;
  /** Step Functions: the outputs file of `cdk deploy --outputs-file` (`--cdk-outputs`), absolute. */
  cdkOutputs?: string;
  /** Step Functions: the deployment's claim-check bucket (`--blob-bucket`; else the app's BlobBucketName output). */
  blobBucket?: string;
}

/** What the CLI hands an engine factory. */
export interface EngineContext {
  pipelines: AnyPipeline[];
  /** Directory for CLI state (`.baton` by default): journals, blobs, run sidecars. */
  stateDir: string;
  blobs: BlobStore;
  model: ModelClient;
  /** Token prices by model id (`--prices`): engines that run stages price each attempt. */
  prices?: PriceTable;
  observer?: RunObserver;
  notifier?: ReviewNotifier;
  logger?: Logger;
  /** Make the engine enforce another engine's limits (local: `stepfunctions`). */
  emulate?: string;
  /** Servers of the service-backed engines. */
  connection?: EngineConnection;
  /** The Postgres run registry (`--database-url`, DATABASE_URL), if any: Step Functions reads pending reviews there. */
  databaseUrl?: string;
  /** BullMQ: steps taken back from a worker that stopped, about to run again on another. */
  onRecovering?: (steps: { runId: string; stepPaths: string[] }) => void;
}

/** Builds an engine for the CLI. Other engines plug in by adding an entry to `ENGINE_FACTORIES`. */
export type EngineFactory = (ctx: EngineContext) => Promise<Engine>;

/** A worker process's handle: `baton worker` waits on `running` and calls `close` on SIGINT/SIGTERM. */
export interface CliWorker {
  /** What the worker serves, for the startup line. */
  readonly description: string;
  /** Settles when the worker stops by itself (rejects when it fails). */
  readonly running: Promise<void>;
  /** Stops taking work, lets running work finish, closes connections. */
  close(): Promise<void>;
}

/** Builds a worker for `baton worker --engine <name>`. */
export type WorkerFactory = (ctx: EngineContext) => Promise<CliWorker>;

/** The context's entries that every engine takes when set. */
export function commonOptions(ctx: EngineContext): { observer?: RunObserver; notifier?: ReviewNotifier; logger?: Logger } {
  return {
    ...(ctx.observer ? { observer: ctx.observer } : {}),
    ...(ctx.notifier ? { notifier: ctx.notifier } : {}),
    ...(ctx.logger ? { logger: ctx.logger } : {}),
  };
}
