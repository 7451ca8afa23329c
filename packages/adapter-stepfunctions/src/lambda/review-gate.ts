import { StageError, realClock, silentLogger, type Clock, type Logger, type ReviewNotifier } from '@baton/core';
import { createReviewToken, serializeError } from '@baton/core/engine';
import { toLambdaError } from './errors.js';
import { runIdOf } from './event.js';
import type { ReviewRecord, ReviewStore } from './reviews.js';

/**
 * What the compiled approval state sends to the review-gate Lambda.
 *
 * @example
 * ```ts
 * const event: ReviewGateEvent = { taskToken, executionId: arn, gate: 'review', stepPath: 'review', timeoutSeconds: 604800, reviewer: null, payload };
 * ```
 */
export interface ReviewGateEvent {
  taskToken: string;
  executionId: string;
  gate: string;
  stepPath: string;
  timeoutSeconds: number;
  /** The assigned reviewer; `null` or absent: anyone holding the token may decide. */
  reviewer?: string | null;
  /** The section ids a decision may give verdicts for (the gate's `sectionsPath`); absent: no verdicts. */
  sections?: string[] | null;
  /** `$$.State.RetryCount` when the approval state sends it (0 on the first attempt); logged as `attempt`. */
  retryCount?: number;
  payload: unknown;
}

/** Options of {@link createReviewGateHandler}. */
export interface ReviewGateOptions {
  store: ReviewStore;
  /** Delivers the single-use review token to the reviewer (email, chat, SNS, webhook). */
  notifier?: ReviewNotifier;
  clock?: Clock;
  /** Every line carries `executionArn`, `step`, `gate` and `attempt`. @default silentLogger */
  logger?: Logger;
}

/**
 * Creates the review-gate Lambda: it records the pending review with a hashed, single-use review
 * token and the task token, then hands the review token to the notifier and returns. The
 * execution stays paused on `.waitForTaskToken` until approve / reject answer the task token.
 *
 * The record is written before the notice, so a reviewer can never hold a token the store does
 * not know. A failed write or notice makes the handler throw (named after the error code, like a
 * stage Lambda), so the state's retrier can run the gate again; the retry replaces the review at
 * the same (run, step path) with a new token, and the token of a notice that did get out is then
 * refused.
 *
 * @example
 * ```ts
 * export const handler = createReviewGateHandler({ store: createRegistryReviewStore(registry), notifier: createReviewNotifierFromEnv() });
 * ```
 */
export function createReviewGateHandler(options: ReviewGateOptions): (event: ReviewGateEvent) => Promise<{ recorded: true; expiresAt: string }> {
  const clock = options.clock ?? realClock;
  const root = options.logger ?? silentLogger;
  return async (event) => {
    const log = root.child({ executionArn: event.executionId, step: event.stepPath, gate: event.gate, attempt: (event.retryCount ?? 0) + 1 });
    const sections = event.sections ?? undefined;
    if (sections !== undefined && !(Array.isArray(sections) && sections.every((s) => typeof s === 'string'))) {
      // as Baton's interpreter fails a sectionsPath that is not a list of ids
      throw fail(
        log,
        'review sections are not a list of section ids',
        new StageError('States.Runtime', `approval "${event.stepPath}": sections is not a list of section ids (strings)`),
      );
    }
    const { token, hash } = createReviewToken();
    const now = clock.now();
    const review: ReviewRecord = {
      runId: runIdOf(event.executionId),
      executionArn: event.executionId,
      gate: event.gate,
      stepPath: event.stepPath,
      payload: event.payload,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + event.timeoutSeconds * 1000).toISOString(),
      tokenHash: hash,
      taskToken: event.taskToken,
      status: 'open',
      ...(event.reviewer == null ? {} : { reviewer: event.reviewer }),
      ...(sections === undefined ? {} : { sections: [...sections] }),
    };
    try {
      await options.store.put(review);
    } catch (e) {
      throw fail(log, 'review could not be recorded', e);
    }
    log.info('review opened', { reviewer: review.reviewer ?? null, expiresAt: review.expiresAt });
    if (!options.notifier) return { recorded: true, expiresAt: review.expiresAt };
    const { executionArn: _a, tokenHash: _h, taskToken: _t, status: _s, ...pending } = review;
    try {
      await options.notifier({ ...pending, token });
    } catch (e) {
      throw fail(log, 'reviewer notice failed', e);
    }
    log.info('reviewer notified');
    return { recorded: true, expiresAt: review.expiresAt };
  };
}

/** Logs a failure and returns the Lambda error to throw (name = error code). */
function fail(log: Logger, msg: string, e: unknown): Error {
  const error = serializeError(e);
  log.error(msg, { code: error.code, error: error.message });
  return toLambdaError(error);
}
