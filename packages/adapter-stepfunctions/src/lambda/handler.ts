import { DEFAULT_STAGE_TIMEOUT_MS, StageError, invokeStage, safeObserver, serializeError, silentLogger, type AnyStage, type BlobStore, type Clock, type Logger, type ModelClient, type RunObserver } from '@baton/core';
import { toLambdaError } from './errors.js';
import { runIdOf, stageInputOf, stageResultOf, type StageEvent } from './event.js';

export { runIdOf, type StageEvent } from './event.js';

/** Options of {@link createStageHandler}. */
export interface StageHandlerOptions {
  /** The stage(s) this function runs; one Lambda per stage in production. */
  stages: AnyStage | AnyStage[];
  /** Blob store for claim checks (S3 in production). */
  blobs: BlobStore;
  model?: ModelClient;
  /** @default silentLogger */
  logger?: Logger;
  clock?: Clock;
  /** Claim-check threshold in bytes. @default 32768 */
  claimCheckThreshold?: number;
  /** Overrides the attempt number (the local engine counts attempts itself). */
  attemptOf?: (event: StageEvent) => number;
  /**
   * Receives the attempt and step events of every invocation (a run registry on Postgres), awaited
   * before the handler returns so a frozen Lambda loses none. A retryable failure leaves its step
   * open: whether the machine retries is the state machine's decision.
   */
  observer?: RunObserver;
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
  const stages = new Map((Array.isArray(options.stages) ? options.stages : [options.stages]).map((s) => [s.name, s]));
  const logger = options.logger ?? silentLogger;
  const observe = options.observer ? safeObserver([options.observer], logger) : undefined;
  return async (event, context) => {
    const stage = stages.get(event.stage);
    const attempt = options.attemptOf ? options.attemptOf(event) : (event.retryCount ?? 0) + 1;
    const bindings = { executionArn: event.executionId, step: event.stepPath, attempt };
    if (!stage) {
      const error = serializeError(new StageError('StageFailed', `this function does not run stage "${event.stage}" (it runs: ${[...stages.keys()].join(', ')})`, { retryable: false }));
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
    const at = (): string => new Date(options.clock?.now() ?? Date.now()).toISOString();
    const base = { runId, stepPath: event.stepPath, stage: stage.name, attempt };
    const step = { runId, stepPath: event.stepPath, kind: 'task' };
    if (observe) {
      if (attempt === 1) await observe({ type: 'step-started', ...step, at: at() });
      await observe({ type: 'attempt-started', ...base, at: at() });
    }
    const result = await invokeStage(stage, input, {
      blobs: options.blobs,
      runId,
      stepPath: event.stepPath,
      attempt,
      logger,
      logBindings: bindings,
      ...(options.model ? { model: options.model } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
      claimCheck: { ...(event.keepInline ? { keep: event.keepInline } : {}), ...(event.keepKeys ? { keepKeys: true } : {}) },
    });
    if (observe) {
      const done = at();
      if (result.ok) {
        await observe({ type: 'attempt-finished', ...base, status: 'succeeded', metrics: result.metrics, at: done });
        await observe({ type: 'step-finished', ...step, status: 'succeeded', at: done });
      } else {
        await observe({ type: 'attempt-finished', ...base, status: 'failed', error: result.error, metrics: result.metrics, at: done });
        if (!result.error.retryable) await observe({ type: 'step-finished', ...step, status: 'failed', error: result.error, at: done });
      }
    }
    if (result.ok) return stageResultOf(event, result.output);
    throw toLambdaError(result.error);
  };
}

/** Time kept back from the Lambda's remaining time to report a timeout as a Baton error. */
export const LAMBDA_EXIT_MARGIN_MS = 1000;
