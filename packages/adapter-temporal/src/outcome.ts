import { ApplicationFailure, TerminatedFailure, TimeoutFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { type RunOutcome, type SerializedError } from '@baton/core';
import { isSerializedError } from '@baton/core/engine';

/** Waits for a Baton workflow (following continue-as-new) and turns its result into a run outcome. */
export async function workflowOutcome(handle: WorkflowHandle): Promise<RunOutcome> {
  try {
    return { status: 'succeeded', output: await handle.result() };
  } catch (e) {
    if (e instanceof WorkflowFailedError) return { status: 'failed', error: failureToError(e.cause) };
    throw e;
  }
}

/** The Baton error carried by a workflow failure: the serialized error in its details, or a mapping. */
export function failureToError(cause: unknown): SerializedError {
  if (cause instanceof ApplicationFailure) {
    const detail: unknown = cause.details?.[0];
    if (isSerializedError(detail)) return detail;
    return { code: cause.type ?? 'StageFailed', message: cause.message, retryable: !cause.nonRetryable };
  }
  if (cause instanceof TimeoutFailure) return { code: 'States.Timeout', message: `workflow timed out: ${cause.message}`, retryable: false };
  if (cause instanceof TerminatedFailure) return { code: 'StageFailed', message: `workflow terminated: ${cause.message}`, retryable: false };
  return { code: 'StageFailed', message: cause instanceof Error ? cause.message : 'workflow failed', retryable: false };
}
