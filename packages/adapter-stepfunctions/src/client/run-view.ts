import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import type { PendingReview, RunInfo, RunOutcome, SerializedError } from '@baton/core';
import { runError } from '../lambda/registry-writer.js';
import type { ReviewRecord } from '../lambda/reviews.js';

export { canonicalJson } from '../lambda/memo.js';

// Internal helpers of createStepFunctionsEngine: how an execution reads as Baton's run view.

/** A start refused for its input: failed before any execution, kept by the engine object only. */
export interface RefusedRun {
  pipeline: string;
  error: SerializedError;
  at: string;
}

/** The outcome of an ended execution: its output, or Baton's error (decoded from its cause). */
export function outcomeOf(d: DescribeExecutionOutput): RunOutcome {
  if (d.status === 'SUCCEEDED') return { status: 'succeeded', output: parseJson(d.output) ?? null };
  return { status: 'failed', error: runError({ status: d.status as 'FAILED', error: d.error ?? null, cause: d.cause ?? null }) };
}

/** The run view of a start refused for its input: failed, nothing run. */
export function refusedInfo(runId: string, r: RefusedRun, engine: string): RunInfo {
  return {
    runId,
    pipeline: r.pipeline,
    engine,
    status: 'failed',
    currentSteps: [],
    startedAt: r.at,
    updatedAt: r.at,
    finishedAt: r.at,
    error: r.error,
    attempts: [],
    retries: [],
    pendingReviews: [],
  };
}

/** What a reviewer may see of a stored review: never the task token nor the token hash. */
export function pendingOf(r: ReviewRecord): PendingReview {
  const { executionArn: _arn, tokenHash: _hash, taskToken: _token, status: _status, ...pending } = r;
  return pending;
}

/** ISO time of a date the SDK parsed, if valid. */
export function isoOf(d: Date | undefined): string | undefined {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

/** A JSON text parsed, or the text itself when it is not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
