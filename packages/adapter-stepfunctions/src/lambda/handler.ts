import {
  ALL_ERRORS,
  StageError,
  silentLogger,
  type AnyStage,
  type BlobStore,
  type Clock,
  type Logger,
  type ModelClient,
  type PriceTable,
  type RetryPolicy,
  type RunObserver,
  type SerializedError,
} from '@baton/core';
import {
  DEFAULT_CLAIM_CHECK_THRESHOLD,
  DEFAULT_STAGE_TIMEOUT_MS,
  decideRetry,
  invokeStage,
  safeObserver,
  serializeError,
  validatePrices,
  type ModelLimiter,
} from '@baton/core/engine';
import { NON_RETRYABLE_CODES } from '../compile/retry.js';
import { lambdaBudget } from './budget-deadline.js';
import { toLambdaError } from './errors.js';
import { replayOf, runIdOf, stageInputOf, stageResultOf, type StageEvent } from './event.js';
import { memoKey, readMemo, writeMemo } from './memo.js';

export { runIdOf, type StageEvent } from './event.js';

/** Options of {@link createStageHandler}. */
export interface StageHandlerOptions {
  /** The stage(s) this function runs; one Lambda per stage in production. */
  stages: AnyStage | AnyStage[];
  /** Blob store for claim checks (S3 in production). */
  blobs: BlobStore;
  model?: ModelClient;
  /**
   * Model budgets shared by every function (`createDynamoModelLimiter` of `@baton/aws-runtime`): each
   * `ctx.model` call waits for a permit first, within the invocation's time (see `lambdaBudget`: a
   * wait that would leave the stage less than its timeout fails with `ModelBudgetUnavailable`).
   */
  limiter?: ModelLimiter;
  /** Token prices, for each attempt's `metrics.cost` (and so the run's cost in the registry). */
  prices?: PriceTable;
  /** @default silentLogger */
  logger?: Logger;
  clock?: Clock;
  /** Claim-check threshold in bytes; a task's event may lower it (`StageEvent.claimCheckThreshold`, map items). @default 32768 */
  claimCheckThreshold?: number;
  /** Overrides the attempt number (the local engine counts attempts itself). */
  attemptOf?: (event: StageEvent) => number;
  /**
   * Receives the attempt and step events of every invocation (a run registry on Postgres), awaited
   * before the handler returns so a frozen Lambda loses none. A failure ends its step (`step-finished`
   * failed) the moment it is final: when no retrier of the task takes its code, or the one that does
   * has no retry left at this attempt (see {@link isFinalFailure}); otherwise the step stays open for
   * the machine's retry.
   */
  observer?: RunObserver;
  /**
   * Keep a step memo in `blobs` (under `baton/memo/<runId>/`): every step that succeeds records its
   * output (one small object, after the claim check), and in a replay execution (`<runId>.r<n>`,
   * Baton's own redrive where Step Functions refuses RedriveExecution) a step whose stage name,
   * version and input match a record returns it without running the stage, so only what failed
   * runs again. Costs one PUT per successful step, and one read per step of a replay.
   * @default false (deployed stage functions, `createStageLambda`, turn it on)
   */
  memo?: boolean;
}

/** A Lambda handler: the event in, the stage output (or the state with it written in) out, or a throw named after the error code. */
export type StageHandler = (event: StageEvent, context?: { getRemainingTimeInMillis?: () => number }) => Promise<unknown>;

/**
 * Creates the Lambda handler of one or more stages. It runs the stage through core's
 * `invokeStage` (schemas, claim check, timeout, error taxonomy) on the input the event carries
 * (see {@link StageEvent}: selected by the machine, or selected here from the Task's state, which
 * is then returned with the output written at the result path) and, on failure, throws an error
 * whose `name` is the StageError code, so the state machine's Retry and Catch match it. Every log
 * line carries the execution ARN, the step path and the attempt.
 *
 * @example
 * ```ts
 * export const handler = createStageHandler({ stages: generate, blobs: createS3BlobStore({ bucket }) });
 * ```
 */
export function createStageHandler(options: StageHandlerOptions): StageHandler {
  validatePrices(options.prices, options.model?.modelId);
  const stages = new Map((Array.isArray(options.stages) ? options.stages : [options.stages]).map((s) => [s.name, s]));
  const logger = options.logger ?? silentLogger;
  const observe = safeObserver([options.observer], logger);
  return async (event, context) => {
    const stage = stages.get(event.stage);
    const attempt = options.attemptOf ? options.attemptOf(event) : (event.retryCount ?? 0) + 1;
    const bindings = { executionArn: event.executionId, step: event.stepPath, attempt };
    if (!stage) {
      const error = serializeError(
        new StageError('StageFailed', `this function does not run stage "${event.stage}" (it runs: ${[...stages.keys()].join(', ')})`, { retryable: false }),
      );
      logger.error('unknown stage', { ...bindings, stage: event.stage });
      throw toLambdaError(error);
    }
    let input: unknown;
    try {
      input = stageInputOf(event);
    } catch (e) {
      // a selection that does not match the state: States.Runtime, as Step Functions reports a bad Parameters path
      const error = serializeError(e);
      logger.error('input selection failed', { ...bindings, error: error.message });
      throw toLambdaError(error);
    }
    // end the stage with States.Timeout before Lambda kills the sandbox (whose error the machine could not parse)
    const remaining = context?.getRemainingTimeInMillis?.();
    const wanted = event.timeoutMs ?? stage.timeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS;
    const timeoutMs = remaining === undefined ? event.timeoutMs : Math.max(1, Math.min(wanted, remaining - LAMBDA_EXIT_MARGIN_MS));
    const runId = runIdOf(event.executionId);
    const memo = options.memo ? memoKey(runId, stage, event.stepPath, input) : undefined;
    if (memo && replayOf(event.executionId) > 0) {
      const recorded = await readMemo(options.blobs, memo).catch((e: unknown) => {
        logger.warn('step memo unreadable; running the stage', { ...bindings, key: memo, error: (e as Error).message });
        return undefined;
      });
      if (recorded) {
        logger.info("step reused from the run's memo", { ...bindings, key: memo });
        return stageResultOf(event, recorded.output);
      }
    }
    const step = { runId, stepPath: event.stepPath, kind: 'task' };
    if (options.observer && attempt === 1) await observe({ type: 'step-started', ...step, at: new Date(options.clock?.now() ?? Date.now()).toISOString() });
    const budget =
      options.limiter && remaining !== undefined
        ? lambdaBudget(options.limiter, Date.now() + remaining - LAMBDA_EXIT_MARGIN_MS, timeoutMs ?? wanted)
        : undefined;
    const result = await invokeStage(stage, input, {
      blobs: options.blobs,
      runId,
      stepPath: event.stepPath,
      attempt,
      logger,
      logBindings: bindings,
      ...(options.model ? { model: options.model } : {}),
      ...(options.limiter ? { limiter: budget?.limiter ?? options.limiter } : {}),
      ...(options.prices ? { prices: options.prices } : {}),
      ...(budget ? { signal: budget.signal } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...claimCheckThresholdOf(event, options.claimCheckThreshold),
      claimCheck: { ...(event.keepInline ? { keep: event.keepInline } : {}), ...(event.keepKeys ? { keepKeys: true } : {}) },
      // a stage whose time went partly to waiting for budget, stopped before Lambda kills the sandbox
      mapResult: (r) => (r.ok || !budget?.expired() ? r : { ...r, error: outOfInvocationTime(stage, remaining) }),
      report: { observe },
    });
    budget?.dispose();
    if (options.observer) {
      const at = result.finishedAt;
      if (result.ok) await observe({ type: 'step-finished', ...step, status: 'succeeded', at });
      else if (isFinalFailure(event.retry ?? stage.retry ?? [], result.error.code, attempt - 1)) {
        await observe({ type: 'step-finished', ...step, status: 'failed', error: result.error, at });
      }
    }
    if (!result.ok) throw toLambdaError(result.error);
    if (memo) {
      await writeMemo(options.blobs, memo, result.output).catch((e: unknown) => {
        // the step succeeded: a memo that cannot be written only means a replay runs it again
        logger.warn('step memo not written', { ...bindings, key: memo, error: (e as Error).message });
      });
    }
    return stageResultOf(event, result.output);
  };
}

/** The error of a stage stopped for want of its Lambda invocation's time (waits for model budget included). */
function outOfInvocationTime(stage: AnyStage, remainingMs: number | undefined): SerializedError {
  const message = `stage "${stage.name}" ran out of its Lambda invocation's time (${remainingMs} ms, waits for model budget included)`;
  return serializeError(new StageError('States.Timeout', message, { details: { remainingMs } }));
}

/** The event's threshold (a map item's) when lower than the function's own. */
function claimCheckThresholdOf(event: StageEvent, own: number | undefined): { claimCheckThreshold?: number } {
  const wanted = typeof event.claimCheckThreshold === 'number' && event.claimCheckThreshold > 0 ? event.claimCheckThreshold : undefined;
  if (wanted === undefined) return own === undefined ? {} : { claimCheckThreshold: own };
  return { claimCheckThreshold: Math.min(wanted, own ?? DEFAULT_CLAIM_CHECK_THRESHOLD) };
}

/** Time kept back from the Lambda's remaining time to report a timeout as a Baton error. */
export const LAMBDA_EXIT_MARGIN_MS = 1000;

/**
 * Whether a task's failure is final: the state machine's retriers, compiled from `policies` by
 * `compileRetry`, will not retry `code` after `retries` retries of the task. The same rules as the
 * compiled `Retry` array: codes that are never retried (and, under `States.ALL`, every
 * non-retryable code of the error table) match no retrier; otherwise the first retrier naming the
 * code or `States.ALL` decides, through core's `decideRetry`. (The Lambda service-error retrier
 * never sees a stage error.) `$$.State.RetryCount` counts the task's retries by every retrier; a
 * step retried by two different retriers may be called final one failure early, which the
 * registry corrects if a later attempt runs.
 *
 * @example
 * ```ts
 * isFinalFailure([{ errors: ['ThrottlingException'], maxAttempts: 2 }], 'ThrottlingException', 2); // true: third attempt failed
 * isFinalFailure([{ errors: ['States.ALL'] }], 'ValidationFailed', 0); // true: never retried
 * ```
 */
export function isFinalFailure(policies: readonly RetryPolicy[], code: string, retries: number): boolean {
  if (policies.some((p) => p.errors.includes(ALL_ERRORS)) && NON_RETRYABLE_CODES.includes(code)) return true;
  // the machine cannot see a runtime `retryable` flag: under States.ALL, what the table does not block is retried
  return !decideRetry(
    policies,
    code,
    policies.map(() => retries),
    () => 0,
    true,
  ).retry;
}
