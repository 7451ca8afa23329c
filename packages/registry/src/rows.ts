import type { RunState } from '@baton/core';
import { isoOf, numberOf } from './sql.js';
import type { AttemptRow, FailureClass, RecordedError, ReviewRecord, RunRecord, StepRecord } from './types.js';

type Row = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

function errorOf(row: Row): RecordedError | undefined {
  if (row.error_code === null || row.error_code === undefined) return undefined;
  return { code: String(row.error_code), message: String(row.error_message ?? ''), errorClass: String(row.error_class ?? 'infrastructure') as FailureClass };
}

/** Drops undefined fields, so results compare equal across pg and PGlite and suit `exactOptionalPropertyTypes`. */
function compact<T extends object>(value: { [K in keyof T]-?: T[K] | undefined }): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value as T;
}

/** A `pipeline_run` row as a {@link RunRecord}. */
export function runOf(row: Row): RunRecord {
  return compact({
    runId: String(row.run_id),
    pipeline: String(row.pipeline),
    engine: String(row.engine),
    executionId: str(row.execution_id),
    reportId: str(row.report_id),
    reviewerId: str(row.reviewer_id),
    title: str(row.title),
    status: String(row.status) as RunState,
    currentStep: str(row.current_step),
    statusSince: isoOf(row.status_since)!,
    startedAt: isoOf(row.started_at)!,
    updatedAt: isoOf(row.updated_at)!,
    finishedAt: isoOf(row.finished_at),
    inputRef: row.input_ref ?? undefined,
    outputRef: row.output_ref ?? undefined,
    error: errorOf(row),
    inputTokens: numberOf(row.input_tokens),
    outputTokens: numberOf(row.output_tokens),
    modelCalls: numberOf(row.model_calls),
    attemptCount: numberOf(row.attempts),
    throttledCalls: numberOf(row.throttled_calls),
    cost: row.cost === null || row.cost === undefined ? undefined : numberOf(row.cost),
    execution: numberOf(row.execution),
  });
}

/** A `pipeline_step` row as a {@link StepRecord}. */
export function stepOf(row: Row): StepRecord {
  const startedAt = isoOf(row.started_at)!;
  const finishedAt = isoOf(row.finished_at);
  return compact({
    runId: String(row.run_id),
    stepPath: String(row.step_path),
    kind: String(row.kind),
    mapIndex: row.map_index === null ? undefined : numberOf(row.map_index),
    status: String(row.status) as StepRecord['status'],
    startedAt,
    finishedAt,
    durationMs: finishedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : undefined,
    error: errorOf(row),
  });
}

/** A `stage_attempt` row as an {@link AttemptRow}. */
export function attemptOf(row: Row): AttemptRow {
  const error = errorOf(row);
  return compact({
    runId: String(row.run_id),
    stepPath: String(row.step_path),
    mapIndex: row.map_index === null ? undefined : numberOf(row.map_index),
    attempt: numberOf(row.attempt),
    execution: numberOf(row.execution),
    stage: String(row.stage),
    status: String(row.status) as AttemptRow['status'],
    startedAt: isoOf(row.started_at)!,
    finishedAt: isoOf(row.finished_at),
    error: error ? { ...error, retryable: row.retryable === true } : undefined,
    retryDelayMs: row.retry_delay_ms === null ? undefined : numberOf(row.retry_delay_ms),
    inputTokens: numberOf(row.input_tokens),
    outputTokens: numberOf(row.output_tokens),
    modelCalls: numberOf(row.model_calls),
    latencyMs: row.latency_ms === null ? undefined : numberOf(row.latency_ms),
    modelLatencyMs: row.model_latency_ms === null ? undefined : numberOf(row.model_latency_ms),
    estimatedInputTokens: numberOf(row.estimated_input_tokens),
    estimatedOutputTokens: numberOf(row.estimated_output_tokens),
    throttledCalls: numberOf(row.throttled_calls),
    budgetWaitMs: numberOf(row.budget_wait_ms),
    failedInputTokens: numberOf(row.failed_input_tokens),
    cost: row.cost === null || row.cost === undefined ? undefined : numberOf(row.cost),
    modelId: str(row.model_id),
    unpricedModels: Array.isArray(row.unpriced_models) ? (row.unpriced_models as unknown[]).map(String) : undefined,
  });
}

/**
 * The `pending_review` columns every registry query selects: all but `task_token`, which only the
 * task-token review store reads (a resume token must not reach a dashboard or a log).
 */
export const REVIEW_COLUMNS =
  'run_id, gate, step_path, reviewer, payload_ref, token_hash, created_at, expires_at, decided_at, decision, decided_by, comment, execution_arn, sections, section_versions';

/** A `pending_review` row as a {@link ReviewRecord}. */
export function reviewOf(row: Row): ReviewRecord {
  return compact({
    runId: String(row.run_id),
    gate: String(row.gate),
    stepPath: String(row.step_path),
    reviewer: str(row.reviewer),
    payload: row.payload_ref ?? null,
    tokenHash: String(row.token_hash),
    createdAt: isoOf(row.created_at)!,
    expiresAt: isoOf(row.expires_at),
    decidedAt: isoOf(row.decided_at),
    decision: str(row.decision) as ReviewRecord['decision'],
    decidedBy: str(row.decided_by),
    comment: str(row.comment),
    sections: Array.isArray(row.sections) ? (row.sections as unknown[]).map(String) : undefined,
    sectionVersions: row.section_versions && typeof row.section_versions === 'object' ? (row.section_versions as ReviewRecord['sectionVersions']) : undefined,
  });
}
