import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  StageError,
  silentLogger,
  type AnyPipeline,
  type AnyStage,
  type BlobStore,
  type Logger,
  type ModelClient,
  type PriceTable,
  type ReviewNotifier,
  type RunEvent,
  type RunObserver,
} from '@baton/core';
import {
  DEFAULT_STAGE_TIMEOUT_MS,
  apiError,
  createPipelineSet,
  createReviewToken,
  invokeStage,
  resolveRefs,
  safeObserver,
  storeValue,
  serializeError,
  type PipelineSet,
  type ModelLimiter,
} from '@baton/core/engine';
import type { BatonActivities, RunStageResult } from './workflow/contract.js';

/** Failure type of a stage activity interrupted by its worker's shutdown; the workflow re-runs the attempt. */
export const WORKER_STOPPED = 'BatonWorkerStopped';

/** What the Baton activities need: the stage code and the ports it uses. */
export interface BatonActivitiesOptions {
  /**
   * Pipelines whose stages this worker runs, several versions of a name allowed (a map or set is
   * read at each call, so it may grow). An attempt runs the stage of the run's pipeline version.
   */
  pipelines: AnyPipeline[] | ReadonlyMap<string, AnyPipeline> | PipelineSet;
  blobs: BlobStore;
  model?: ModelClient;
  /** Model budgets every `ctx.model` call waits for (inside the activity, heartbeating). */
  limiter?: ModelLimiter;
  /** Token prices for each attempt's `metrics.cost`. */
  prices?: PriceTable;
  /**
   * Time an attempt may spend beyond its stage timeout outside budget waits (resolving claim-check
   * inputs, storing outputs) before it stops heartbeating, so that the heartbeat timeout ends an
   * attempt stuck there and the workflow runs it again. @default 60000
   */
  stuckGraceMs?: number;
  /** @default silent */
  logger?: Logger;
  /** Delivers review tokens when a gate opens. */
  notifier?: ReviewNotifier;
  /** Receives attempt and review events. */
  observer?: RunObserver;
  /** @default 32768 */
  claimCheckThreshold?: number;
}

/**
 * Creates the activities of the Baton workflow. The stage activity calls core's `invokeStage`
 * and returns a stage failure as a value: Temporal retries nothing (one attempt per activity),
 * the interpreter in the workflow decides. It heartbeats while the stage runs, so a worker killed
 * mid-stage is noticed after the heartbeat timeout.
 *
 * @example
 * ```ts
 * const activities = createBatonActivities({ pipelines: [pipeline], blobs: createMemoryBlobStore() });
 * ```
 */
export function createBatonActivities(options: BatonActivitiesOptions): BatonActivities {
  const logger = options.logger ?? silentLogger;
  const pipelines: PipelineSet | ReadonlyMap<string, AnyPipeline> = Array.isArray(options.pipelines) ? createPipelineSet(options.pipelines) : options.pipelines;
  const all = (): AnyPipeline[] => ('all' in pipelines ? pipelines.all() : [...pipelines.values()]);
  const versionsOf = (name: string): number[] =>
    all()
      .filter((p) => p.name === name)
      .map((p) => p.ir.version);
  const observe = safeObserver([options.observer], logger);
  const notify = async (event: RunEvent): Promise<void> => {
    if (options.observer) await observe(event);
  };
  const findStage = (pipeline: string, name: string, version?: number): AnyStage | undefined => {
    const own = ('all' in pipelines ? pipelines.get(pipeline, version) : pipelines.get(pipeline))?.stages.get(name);
    if (own || version !== undefined) return own;
    for (const p of all()) {
      const s = p.stages.get(name);
      if (s) return s;
    }
    return undefined;
  };

  return {
    async batonRunStage(req): Promise<RunStageResult> {
      const startedAt = new Date().toISOString();
      const stage = findStage(req.pipeline, req.stage, req.pipelineVersion);
      // pinned: the stage code must be the version the run started on (or was redriven with), never a newer one
      if (stage && req.stageVersion !== undefined && stage.version !== req.stageVersion) {
        const why = `stage "${req.stage}" is at version ${stage.version} on this worker, the run's is ${req.stageVersion}`;
        const error = serializeError(apiError.pipelineVersionNotLoaded(req.pipeline, req.pipelineVersion ?? 0, versionsOf(req.pipeline), req.runId, why));
        return { ok: false, error, startedAt, finishedAt: startedAt };
      }
      if (
        !stage &&
        req.pipelineVersion !== undefined &&
        'all' in pipelines &&
        pipelines.has(req.pipeline) &&
        !pipelines.get(req.pipeline, req.pipelineVersion)
      ) {
        const error = serializeError(apiError.pipelineVersionNotLoaded(req.pipeline, req.pipelineVersion, versionsOf(req.pipeline), req.runId));
        return { ok: false, error, startedAt, finishedAt: startedAt };
      }
      if (!stage) {
        const error = serializeError(
          new StageError('StageFailed', `this worker does not know stage "${req.stage}" of pipeline "${req.pipeline}"`, { retryable: false }),
        );
        return { ok: false, error, startedAt, finishedAt: startedAt };
      }
      const ctx = Context.current();
      // the start-to-close timeout leaves room for budget waits (maxBudgetWaitMs), so it no longer
      // bounds an attempt stuck outside the stage's own timeout (a blob read that never answers):
      // heartbeats stop once the time not spent waiting for budget passes timeout + grace
      const waits = budgetWaitClock();
      const limiter = options.limiter ? timedLimiter(options.limiter, waits) : undefined;
      const workingLimit = (req.timeoutMs ?? stage.timeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS) + (options.stuckGraceMs ?? STUCK_GRACE_MS);
      const beat = heartbeatEvery(ctx, () => waits.workingMs() <= workingLimit);
      try {
        const result = await invokeStage(stage, req.input, {
          blobs: options.blobs,
          runId: req.runId,
          stepPath: req.stepPath,
          attempt: req.attempt,
          logger,
          signal: ctx.cancellationSignal,
          logBindings: { executionId: ctx.info.workflowExecution?.runId, engine: 'temporal' },
          ...(options.model ? { model: options.model } : {}),
          ...(limiter ? { limiter } : {}),
          ...(options.prices ? { prices: options.prices } : {}),
          ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
          ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
          report: { observe: notify, startedAt, stopped: ctx.cancellationSignal },
        });
        const { finished, ...outcome } = result;
        if (!finished) {
          // the worker is shutting down (or the server gave up on this attempt): the attempt did not
          // complete, so the workflow runs it again instead of counting a stage failure
          throw ApplicationFailure.nonRetryable(`worker stopped during ${req.stepPath} attempt ${req.attempt}`, WORKER_STOPPED);
        }
        return outcome;
      } finally {
        clearInterval(beat);
      }
    },

    async batonOpenReview(req) {
      const { token, hash } = createReviewToken();
      const { runId, stepPath, gate, payload, createdAt, expiresAt } = req;
      const pending = {
        runId,
        stepPath,
        gate,
        payload,
        createdAt,
        expiresAt,
        ...(req.reviewer === undefined ? {} : { reviewer: req.reviewer }),
        ...(req.sections === undefined ? {} : { sections: req.sections }),
      };
      await notify({ type: 'review-opened', ...pending, tokenHash: hash, at: createdAt });
      await options.notifier?.({ ...pending, token });
      return { tokenHash: hash };
    },

    async batonResolveRefs(value) {
      return resolveRefs(value, options.blobs);
    },

    async batonStorePart({ key, text }) {
      await options.blobs.put(key, text);
    },

    async batonJoinParts({ prefix, keys }) {
      const parts = await Promise.all(keys.map(async (k) => Buffer.from(await options.blobs.get(k)).toString('utf8')));
      return storeValue(JSON.parse(parts.join('')) as unknown, options.blobs, prefix);
    },
  };
}

/**
 * Heartbeats at a third of the heartbeat timeout while `alive()` holds; a stage shorter than that
 * never heartbeats.
 */
function heartbeatEvery(ctx: Context, alive: () => boolean): NodeJS.Timeout | undefined {
  const timeout = ctx.info.heartbeatTimeoutMs;
  if (!timeout) return undefined;
  return setInterval(
    () => {
      if (alive()) ctx.heartbeat();
    },
    Math.max(100, Math.floor(timeout / 3)),
  );
}

/** Default of `stuckGraceMs`: the workflow's default start-to-close margin, which bounded such an attempt before budget waits. */
const STUCK_GRACE_MS = 60_000;

interface BudgetWaitClock {
  begin(): void;
  end(): void;
  /** Milliseconds since the attempt started, budget waits excepted. */
  workingMs(): number;
}

/** Counts an attempt's time spent waiting for model budget (calls made in parallel wait together). */
function budgetWaitClock(): BudgetWaitClock {
  const started = Date.now();
  let waiting = 0;
  let since = 0;
  let waited = 0;
  return {
    begin() {
      if (waiting++ === 0) since = Date.now();
    },
    end() {
      if (--waiting === 0) waited += Date.now() - since;
    },
    workingMs: () => Date.now() - started - waited - (waiting > 0 ? Date.now() - since : 0),
  };
}

/** The limiter seen by one attempt: the same one (other members read through), its waits timed. */
function timedLimiter(limiter: ModelLimiter, clock: BudgetWaitClock): ModelLimiter {
  return Object.assign(Object.create(limiter) as ModelLimiter, {
    async acquire(...args: Parameters<ModelLimiter['acquire']>) {
      clock.begin();
      try {
        return await limiter.acquire(...args);
      } finally {
        clock.end();
      }
    },
  });
}
