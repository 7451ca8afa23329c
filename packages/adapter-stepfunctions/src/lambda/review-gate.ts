import { createReviewToken, realClock, silentLogger, type Clock, type Logger, type ReviewNotifier } from '@baton/core';
import { runIdOf } from './handler.js';
import type { ReviewRecord, ReviewStore } from './reviews.js';

/** What the compiled approval state sends to the review-gate Lambda. */
export interface ReviewGateEvent {
  taskToken: string;
  executionId: string;
  gate: string;
  stepPath: string;
  timeoutSeconds: number;
  reviewer?: string;
  payload: unknown;
}

/** Options of {@link createReviewGateHandler}. */
export interface ReviewGateOptions {
  store: ReviewStore;
  /** Delivers the single-use review token to the reviewer (email, chat, CLI). */
  notifier?: ReviewNotifier;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Creates the review-gate Lambda: it records the pending review with a hashed, single-use review
 * token and the task token, hands the review token to the notifier and returns at once. The
 * execution stays paused on `.waitForTaskToken` until approve / reject answer the task token.
 *
 * @example
 * ```ts
 * export const handler = createReviewGateHandler({ store: createPgReviewStore(pool), notifier: email });
 * ```
 */
export function createReviewGateHandler(options: ReviewGateOptions): (event: ReviewGateEvent) => Promise<{ recorded: true; expiresAt: string }> {
  const clock = options.clock ?? realClock;
  const logger = options.logger ?? silentLogger;
  return async (event) => {
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
      ...(event.reviewer === undefined ? {} : { reviewer: event.reviewer }),
    };
    await options.store.put(review);
    logger.info('review opened', { executionArn: event.executionId, step: event.stepPath, gate: event.gate });
    const { executionArn: _a, tokenHash: _h, taskToken: _t, status: _s, ...pending } = review;
    await options.notifier?.({ ...pending, token });
    return { recorded: true, expiresAt: review.expiresAt };
  };
}
