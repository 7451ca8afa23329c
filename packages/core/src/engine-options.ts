import type { AnyPipeline } from './builder.js';
import type { ReviewNotifier } from './engine.js';
import type { RunObserver } from './observer.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Logger } from './ports/logger.js';
import type { ModelClient } from './ports/model.js';
import type { PriceTable } from './quota/cost.js';
import type { ModelLimiter } from './quota/limiter.js';

/**
 * What every engine and every worker process takes, whatever runs its stages: the options of
 * `createLocalEngine`, the BullMQ and Temporal engines and workers, and the Step Functions
 * engines extend it. The one place these fields are declared; an engine's own options document
 * only what it adds, or where in it a field acts (an engine with an in-process worker hands the
 * stage fields to that worker).
 *
 * @example
 * ```ts
 * interface MyEngineOptions extends EngineBaseOptions, StageRunnerOptions {
 *   endpoint: string;
 * }
 * ```
 */
export interface EngineBaseOptions {
  /**
   * Pipelines this engine can start by name (and its workers run), several versions of a name
   * allowed: a new run takes the newest (or `start`'s `version`), a run goes on only with the
   * version it started on.
   */
  pipelines: AnyPipeline[];
  /** The claim check's blob store: where outputs over `claimCheckThreshold` go and `result()` reads them. */
  blobs?: BlobStore;
  /** @default silent */
  logger?: Logger;
  /** Receives run transitions (a run registry, a dashboard feed). */
  observer?: RunObserver;
}

/** What an engine or worker that runs stages in its own process takes besides {@link EngineBaseOptions}. */
export interface StageRunnerOptions {
  /** The model port of the stages' `ctx.model`. */
  model?: ModelClient;
  /** Model budgets shared by the stages run here (`createMemoryModelLimiter`, or a shared one in Redis, Postgres, DynamoDB). */
  limiter?: ModelLimiter;
  /** Token prices for the cost of each attempt (`status().usage`). */
  prices?: PriceTable;
  /** Delivers review tokens when a gate opens. */
  notifier?: ReviewNotifier;
  /** Outputs larger than this many bytes of JSON are stored in `blobs` and passed by reference. @default 32768 */
  claimCheckThreshold?: number;
}
