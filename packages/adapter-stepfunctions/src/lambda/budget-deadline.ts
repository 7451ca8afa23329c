import { StageError } from '@baton/core';
import { type ModelLimiter } from '@baton/core/engine';

/** The shortest wait for model budget a stage Lambda allows, however little time it has beyond its stage's timeout. */
export const MIN_BUDGET_WAIT_MS = 2000;

/** A limiter bounded by one Lambda invocation's time, and the signal that ends the invocation's stage. */
export interface LambdaBudget {
  /** The limiter the invocation's stage waits on: a wait for budget past `waitUntil` fails with `ModelBudgetUnavailable`. */
  limiter: ModelLimiter;
  /** Aborts at the Lambda's end less the exit margin: the stage is stopped before Lambda kills the sandbox. */
  signal: AbortSignal;
  /** Whether {@link signal} fired (the stage then failed for want of time, which is `States.Timeout`). */
  expired(): boolean;
  dispose(): void;
}

/**
 * Bounds waits for model budget by a Lambda invocation's time. Waiting for budget does not run the
 * stage's timeout (core's `invokeStage` pauses it), so a Lambda must stop waiting while its stage
 * still has its whole timeout left: a wait may last until `end - stageTimeoutMs` (at least
 * {@link MIN_BUDGET_WAIT_MS}), then fails with the retryable `ModelBudgetUnavailable`, which
 * deployed machines retry under a retrier of its own (`MODEL_BUDGET_RETRY`), spending none of the
 * model retry policy's attempts. The signal stops the stage at `end` whatever happened.
 *
 * @param end - when the invocation must have returned (its remaining time less the exit margin), ms since the epoch
 */
export function lambdaBudget(limiter: ModelLimiter, end: number, stageTimeoutMs: number): LambdaBudget {
  const now = Date.now();
  const waitUntil = Math.max(now + MIN_BUDGET_WAIT_MS, end - stageTimeoutMs);
  const stop = new AbortController();
  const stopTimer = setTimeout(() => stop.abort(new Error('the Lambda invocation ran out of time')), Math.max(0, end - now));
  return {
    limiter: {
      async acquire(modelId, estimate, options) {
        const giveUp = new AbortController();
        const started = Date.now();
        const timer = setTimeout(
          () => {
            const message = `no model budget for "${modelId}" within ${Date.now() - started} ms, all this Lambda invocation could wait; the state machine invokes the stage again`;
            giveUp.abort(new StageError('ModelBudgetUnavailable', message, { retryable: true, details: { modelId, waitedMs: Date.now() - started } }));
          },
          Math.max(0, waitUntil - started),
        );
        const signal = options?.signal ? AbortSignal.any([options.signal, giveUp.signal]) : giveUp.signal;
        try {
          return await limiter.acquire(modelId, estimate, { signal });
        } finally {
          clearTimeout(timer);
        }
      },
    },
    signal: stop.signal,
    expired: () => stop.signal.aborted,
    dispose: () => clearTimeout(stopTimer),
  };
}
