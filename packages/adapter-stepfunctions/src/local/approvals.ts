import { randomBytes } from 'node:crypto';
import type { ReviewNotifier, RunEvent } from '@baton/core';
import type { CompiledMachine } from '../compile/types.js';
import { createReviewGateHandler, type ReviewGateEvent } from '../lambda/review-gate.js';
import type { ReviewStore } from '../lambda/reviews.js';

/** Task tokens the local engine waits on, answered by approve / reject. */
export type TaskTokenWaiters = Map<string, { resolve: (output: unknown) => void; reject: (error: Error) => void }>;

/**
 * Baton-side layer for approval gates (named as such): aws-local-stepfunctions does not pause on
 * `.waitForTaskToken` and has no `$$.Task.Token`. For each approval state this binds a handler
 * that mints a task token, runs the real review-gate handler with it (pending review recorded
 * with a hashed review token, notifier called), then keeps the Task open until approve or reject
 * answers that token, like SendTaskSuccess / SendTaskFailure. The gate's timeout is the Task's own
 * `TimeoutSeconds`, enforced by the interpreter as `States.Timeout`, as in AWS.
 */
export function bindApprovals(
  machine: CompiledMachine,
  options: {
    reviews: ReviewStore;
    waiters: TaskTokenWaiters;
    notifier?: ReviewNotifier;
    emit: (event: RunEvent) => void;
    /** The review-gate function to call instead of one built here (the deployed handler). */
    gate?: (event: ReviewGateEvent) => Promise<unknown>;
  },
): Record<string, (input: unknown) => Promise<unknown>> {
  const gate = options.gate ?? createReviewGateHandler({ store: options.reviews, ...(options.notifier ? { notifier: options.notifier } : {}) });
  const out: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, binding] of Object.entries(machine.tasks)) {
    if (binding.kind !== 'approval') continue;
    out[stateName] = async (input) => {
      const { Payload } = input as { Payload: ReviewGateEvent };
      const taskToken = `local-${randomBytes(24).toString('base64url')}`;
      const expiry: { timer?: NodeJS.Timeout } = {};
      const answered = new Promise<unknown>((resolve, reject) =>
        options.waiters.set(taskToken, {
          resolve: (v) => (clearTimeout(expiry.timer), resolve(v)),
          reject: (e) => (clearTimeout(expiry.timer), reject(e)),
        }),
      );
      try {
        await gate({ ...Payload, taskToken });
      } catch (e) {
        // the gate failed (the Task fails with its error): nobody will answer this token
        options.waiters.delete(taskToken);
        throw e;
      }
      // the interpreter fails the Task with States.Timeout after TimeoutSeconds; the review expires with it
      expiry.timer = setTimeout(() => {
        if (!options.waiters.delete(taskToken)) return;
        void options.reviews.list(Payload.executionId).then(async (rows) => {
          const r = rows.find((x) => x.taskToken === taskToken);
          const at = new Date().toISOString();
          if (r && (await options.reviews.close(r.executionArn, r.stepPath, { status: 'expired', at }))) {
            options.emit({ type: 'review-decided', runId: r.runId, gate: r.gate, stepPath: r.stepPath, decision: 'timeout', at });
          }
        });
      }, Payload.timeoutSeconds * 1000);
      expiry.timer.unref();
      const review = (await options.reviews.list(Payload.executionId)).find((r) => r.taskToken === taskToken);
      if (review) {
        const { runId, gate: name, stepPath, payload, tokenHash, expiresAt, createdAt, reviewer, sections } = review;
        options.emit({
          type: 'review-opened',
          runId,
          gate: name,
          stepPath,
          payload,
          tokenHash,
          expiresAt,
          at: createdAt,
          ...(reviewer === undefined ? {} : { reviewer }),
          ...(sections === undefined ? {} : { sections }),
        });
      }
      return answered;
    };
  }
  return out;
}
