import type { RunEvent, SerializedError } from '@baton/core';
import type { InvocationMetrics } from '@baton/core/engine';
import type { FailureClassifier, FailureContext } from './classify.js';
import type { LabelReader } from './labels.js';
import type { SqlExecutor } from './sql.js';
import { openedSectionColumns, recordDecision } from './review-audit.js';
import { usageSums } from './usage.js';
import { json, mapIndexOf, refOf } from './values.js';

// the run's execution number: 1, plus one per redrive, so a redriven step's attempts keep their history
const CURRENT_EXECUTION = '(SELECT r.execution FROM pipeline_run r WHERE r.run_id = $1)';

/** Pipeline and engine of a run whose first event arrived before its `run-started`. */
export const UNKNOWN = '(unknown)';

const REVIVE_RUN_ON_START = `(pipeline_run.status = 'failed' AND pipeline_run.finished_at IS NOT NULL AND EXCLUDED.started_at >= pipeline_run.finished_at)`;

/** A start that is a new execution of a finished step or attempt (redrive, redelivery), not a late duplicate. */
const rerun = (table: string): string => `(${table}.finished_at IS NULL OR EXCLUDED.started_at > ${table}.finished_at)`;

/** A succeeded step started again after its finish: a resumed run replaying it from its journal, not a new execution. */
const REPLAYED_STEP = `(pipeline_step.status = 'succeeded' AND pipeline_step.finished_at IS NOT NULL AND EXCLUDED.started_at >= pipeline_step.finished_at)`;
const rerunNotReplay = `(NOT ${REPLAYED_STEP} AND ${rerun('pipeline_step')})`;

/** How a registry turns events into rows: its failure classifier and where it finds run labels. */
export interface ApplyRules {
  classify: FailureClassifier;
  labels: LabelReader;
}

/** Applies one event to the tables, inside the caller's transaction. Every statement is an upsert. */
export async function applyEvent(tx: SqlExecutor, event: RunEvent, rules: ApplyRules): Promise<void> {
  const { classify } = rules;
  switch (event.type) {
    case 'run-started': {
      // labels come from the input itself: a large input is stored as a digest below
      const labels = rules.labels(event.input);
      await tx.query(
        `INSERT INTO pipeline_run (run_id, pipeline, engine, execution_id, status, status_since, started_at, updated_at, input_ref, report_id, reviewer_id, title)
         VALUES ($1, $2, $3, $4, 'running', $5::timestamptz, $5::timestamptz, $5::timestamptz, $6::jsonb, $7, $8, $9)
         ON CONFLICT (run_id) DO UPDATE SET
           pipeline = CASE WHEN pipeline_run.pipeline = '${UNKNOWN}' THEN EXCLUDED.pipeline ELSE pipeline_run.pipeline END,
           engine = CASE WHEN pipeline_run.engine = '${UNKNOWN}' THEN EXCLUDED.engine ELSE pipeline_run.engine END,
           execution_id = COALESCE(EXCLUDED.execution_id, pipeline_run.execution_id),
           input_ref = COALESCE(pipeline_run.input_ref, EXCLUDED.input_ref),
           report_id = COALESCE(pipeline_run.report_id, EXCLUDED.report_id),
           reviewer_id = COALESCE(pipeline_run.reviewer_id, EXCLUDED.reviewer_id),
           title = COALESCE(pipeline_run.title, EXCLUDED.title),
           started_at = LEAST(pipeline_run.started_at, EXCLUDED.started_at),
           -- a new execution of a failed run (redrive) reopens it; a late duplicate does not
           status_since = CASE WHEN ${REVIVE_RUN_ON_START} THEN EXCLUDED.started_at ELSE pipeline_run.status_since END,
           finished_at = CASE WHEN ${REVIVE_RUN_ON_START} THEN NULL ELSE pipeline_run.finished_at END,
           execution = CASE WHEN ${REVIVE_RUN_ON_START} THEN pipeline_run.execution + 1 ELSE pipeline_run.execution END,
           status = CASE WHEN ${REVIVE_RUN_ON_START} THEN 'running' ELSE pipeline_run.status END,
           updated_at = GREATEST(pipeline_run.updated_at, EXCLUDED.updated_at)`,
        [
          event.runId,
          event.pipeline,
          event.engine,
          event.executionId ?? null,
          event.at,
          json(refOf(event.input)),
          labels.reportId,
          labels.reviewerId,
          labels.title,
        ],
      );
      return;
    }
    case 'step-started':
      await ensureRun(tx, event.runId, event.at);
      await resumeRun(tx, event.runId, event.at, event.stepPath);
      // a step that already succeeded, started again after its finish, is a resumed run walking past
      // it (its result comes from the journal): its real start and finish stay, so the timeline keeps
      // the times steps really ran, in their real order. A failed step started again is a redrive.
      await tx.query(
        `INSERT INTO pipeline_step (run_id, step_path, kind, map_index, status, started_at)
         VALUES ($1, $2, $3, $4, 'running', $5::timestamptz)
         ON CONFLICT (run_id, step_path) DO UPDATE SET kind = EXCLUDED.kind,
           status = CASE WHEN ${REPLAYED_STEP} THEN pipeline_step.status WHEN ${rerun('pipeline_step')} THEN 'running' ELSE pipeline_step.status END,
           -- a start event knows the start better than a finish that came first; a resumed in-flight step keeps its first start
           started_at = CASE WHEN ${REPLAYED_STEP} THEN pipeline_step.started_at
                             WHEN pipeline_step.status = 'running' THEN LEAST(pipeline_step.started_at, EXCLUDED.started_at)
                             ELSE EXCLUDED.started_at END,
           error_code = CASE WHEN ${rerunNotReplay} THEN NULL ELSE pipeline_step.error_code END,
           error_message = CASE WHEN ${rerunNotReplay} THEN NULL ELSE pipeline_step.error_message END,
           error_class = CASE WHEN ${rerunNotReplay} THEN NULL ELSE pipeline_step.error_class END,
           finished_at = CASE WHEN ${rerunNotReplay} THEN NULL ELSE pipeline_step.finished_at END`,
        [event.runId, event.stepPath, event.kind, mapIndexOf(event.stepPath), event.at],
      );
      return;
    case 'step-finished': {
      const err = errorColumns(event.error, { stepPath: event.stepPath }, classify);
      await ensureRun(tx, event.runId, event.at);
      // an upsert: from several workers the finish can arrive before the start
      await tx.query(
        `INSERT INTO pipeline_step (run_id, step_path, kind, map_index, status, started_at, finished_at, error_code, error_message, error_class)
         VALUES ($1, $2, $8, $9, $3, $4::timestamptz, $4::timestamptz, $5, $6, $7)
         ON CONFLICT (run_id, step_path) DO UPDATE SET status = EXCLUDED.status,
           -- a second success (a resumed run walking past the step) keeps the first, real finish
           finished_at = CASE WHEN pipeline_step.status = 'succeeded' AND EXCLUDED.status = 'succeeded' AND pipeline_step.finished_at IS NOT NULL
                              THEN pipeline_step.finished_at ELSE EXCLUDED.finished_at END,
           error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, error_class = EXCLUDED.error_class`,
        [event.runId, event.stepPath, event.status, event.at, ...err, event.kind, mapIndexOf(event.stepPath)],
      );
      await tx.query(
        `UPDATE pipeline_run SET updated_at = GREATEST(updated_at, $2::timestamptz),
           current_step = (SELECT s.step_path FROM pipeline_step s WHERE s.run_id = $1 AND s.status = 'running'
                           ORDER BY s.started_at DESC, s.step_path DESC LIMIT 1)
         WHERE run_id = $1`,
        [event.runId, event.at],
      );
      return;
    }
    case 'attempt-started':
      await ensureRun(tx, event.runId, event.at);
      await resumeRun(tx, event.runId, event.at, undefined);
      await tx.query(
        `INSERT INTO stage_attempt (run_id, execution, step_path, map_index, attempt, stage, status, started_at)
         VALUES ($1, ${CURRENT_EXECUTION}, $2, $3, $4, $5, 'running', $6::timestamptz)
         ON CONFLICT (run_id, execution, step_path, attempt) DO UPDATE SET stage = EXCLUDED.stage,
           status = CASE WHEN ${rerun('stage_attempt')} THEN 'running' ELSE stage_attempt.status END,
           started_at = EXCLUDED.started_at, -- a start event knows the start better than a finish that came first
           error_code = CASE WHEN ${rerun('stage_attempt')} THEN NULL ELSE stage_attempt.error_code END,
           error_message = CASE WHEN ${rerun('stage_attempt')} THEN NULL ELSE stage_attempt.error_message END,
           error_class = CASE WHEN ${rerun('stage_attempt')} THEN NULL ELSE stage_attempt.error_class END,
           retryable = CASE WHEN ${rerun('stage_attempt')} THEN NULL ELSE stage_attempt.retryable END,
           retry_delay_ms = CASE WHEN ${rerun('stage_attempt')} THEN NULL ELSE stage_attempt.retry_delay_ms END,
           finished_at = CASE WHEN ${rerun('stage_attempt')} THEN NULL ELSE stage_attempt.finished_at END`,
        [event.runId, event.stepPath, mapIndexOf(event.stepPath), event.attempt, event.stage, event.at],
      );
      return;
    case 'attempt-finished': {
      await ensureRun(tx, event.runId, event.at);
      const m = event.metrics;
      const err = errorColumns(event.error, { stage: event.stage, stepPath: event.stepPath, modelCalls: m?.modelCalls ?? 0 }, classify);
      await tx.query(
        `INSERT INTO stage_attempt (run_id, execution, step_path, map_index, attempt, stage, status, started_at, finished_at,
           error_code, error_message, error_class, retryable, input_tokens, output_tokens, model_calls, latency_ms, model_latency_ms,
           ${USAGE_COLUMNS.join(', ')})
         VALUES ($1, ${CURRENT_EXECUTION}, $2, $3, $4, $5, $6, $7::timestamptz - make_interval(secs => $16::float8 / 1000), $7::timestamptz,
           $8, $9, $10, $11, $12, $13, $14, $15, $17, $18, $19, $20, $21, $22, $23::float8, $24, $25::jsonb)
         ON CONFLICT (run_id, execution, step_path, attempt) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at,
           error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, error_class = EXCLUDED.error_class,
           retryable = EXCLUDED.retryable, input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
           model_calls = EXCLUDED.model_calls, latency_ms = EXCLUDED.latency_ms, model_latency_ms = EXCLUDED.model_latency_ms,
           ${USAGE_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
        [
          event.runId,
          event.stepPath,
          mapIndexOf(event.stepPath),
          event.attempt,
          event.stage,
          event.status,
          event.at,
          ...err,
          event.error ? event.error.retryable : null,
          m?.inputTokens ?? 0,
          m?.outputTokens ?? 0,
          m?.modelCalls ?? 0,
          m ? Math.round(m.durationMs) : null,
          m?.durationMs ?? 0,
          m ? Math.round(m.modelLatencyMs) : null,
          ...usageValues(m),
        ],
      );
      return;
    }
    case 'retry-scheduled':
      await tx.query(
        `UPDATE stage_attempt SET retry_delay_ms = $4 WHERE run_id = $1 AND step_path = $2 AND attempt = $3 AND execution = ${CURRENT_EXECUTION}`,
        [event.runId, event.stepPath, event.attempt, Math.round(event.delayMs)],
      );
      return;
    case 'review-opened':
      await openReview(tx, event);
      return;
    case 'review-decided':
      await decideReview(tx, { runId: event.runId }, event.stepPath, event);
      await recordDecision(tx, event);
      // also on a replay that changed nothing: the run may still be marked waiting
      await resumeAfterReview(tx, event.runId, event.at);
      return;
    case 'run-redriven':
      // the run is running again from the moment of the redrive, before any step of it starts; its
      // execution number is 1 + the redrive count (a step start that revived it first is kept)
      await ensureRun(tx, event.runId, event.at);
      await tx.query(
        `UPDATE pipeline_run SET status = 'running', status_since = $2::timestamptz, finished_at = NULL,
           error_code = NULL, error_message = NULL, error_class = NULL, current_step = NULL,
           execution = GREATEST(execution, $3::int + 1), updated_at = GREATEST(updated_at, $2::timestamptz)
         WHERE run_id = $1 AND status = 'failed' AND (finished_at IS NULL OR $2::timestamptz >= finished_at)`,
        [event.runId, event.at, event.redrive],
      );
      return;
    case 'run-finished': {
      await ensureRun(tx, event.runId, event.at);
      const err = errorColumns(event.error, {}, classify);
      await tx.query(
        `UPDATE pipeline_run SET status = $2, status_since = $3::timestamptz, finished_at = $3::timestamptz,
           updated_at = GREATEST(updated_at, $3::timestamptz), current_step = NULL, output_ref = $4::jsonb,
           error_code = $5, error_message = $6, error_class = $7
         WHERE run_id = $1`,
        [event.runId, event.status, event.at, event.status === 'succeeded' ? json(refOf(event.output)) : null, ...err],
      );
      return;
    }
  }
}

/** A gate reached, as `review-opened` reports it; on Step Functions also the execution and the task token that resumes it. */
export interface OpenedReview {
  runId: string;
  gate: string;
  stepPath: string;
  reviewer?: string | undefined;
  payload: unknown;
  tokenHash: string;
  expiresAt: string;
  /** When the gate opened. */
  at: string;
  executionArn?: string | undefined;
  taskToken?: string | undefined;
  /** Ids of the sections a decision may give verdicts for. */
  sections?: readonly string[] | undefined;
}

/** Records an open review and puts its run in `waiting`. The one home of that rule, for events and for task-token stores. */
export async function openReview(tx: SqlExecutor, review: OpenedReview): Promise<void> {
  await ensureRun(tx, review.runId, review.at);
  // a replay of the same gate entry (same token hash) leaves the row alone, decided or not; a new
  // entry (a loop, a redrive) replaces it, and so does a new task token for a still open entry (a Lambda retry)
  await tx.query(
    `INSERT INTO pending_review (run_id, gate, step_path, reviewer, payload_ref, token_hash, created_at, expires_at, execution_arn, task_token, sections, section_versions)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11::jsonb, $12::jsonb)
     ON CONFLICT (run_id, step_path) DO UPDATE SET gate = EXCLUDED.gate, reviewer = EXCLUDED.reviewer, payload_ref = EXCLUDED.payload_ref,
       sections = EXCLUDED.sections, section_versions = EXCLUDED.section_versions,
       token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
       execution_arn = EXCLUDED.execution_arn, task_token = EXCLUDED.task_token,
       decided_at = NULL, decision = NULL, decided_by = NULL, comment = NULL
     WHERE pending_review.token_hash <> EXCLUDED.token_hash
        OR (pending_review.decided_at IS NULL AND EXCLUDED.task_token IS NOT NULL AND pending_review.task_token IS DISTINCT FROM EXCLUDED.task_token)`,
    [
      review.runId,
      review.gate,
      review.stepPath,
      review.reviewer ?? null,
      json(refOf(review.payload)),
      review.tokenHash,
      review.at,
      review.expiresAt,
      review.executionArn ?? null,
      review.taskToken ?? null,
      // versions come from the whole payload, before a large one is stored as a digest
      ...openedSectionColumns(review.sections, review.payload),
    ],
  );
  await tx.query(
    `UPDATE pipeline_run SET status_since = CASE WHEN status = 'waiting' THEN status_since ELSE $2::timestamptz END,
       status = 'waiting', updated_at = GREATEST(updated_at, $2::timestamptz)
     WHERE run_id = $1 AND status IN ('running', 'waiting')
       -- a replay of an entry already decided leaves the run running
       AND EXISTS (SELECT 1 FROM pending_review p WHERE p.run_id = $1 AND p.decided_at IS NULL)`,
    [review.runId, review.at],
  );
}

/** A decision on a review, as `review-decided` reports it. */
export interface ReviewVerdict {
  decision: 'approved' | 'rejected' | 'timeout';
  reviewer?: string | undefined;
  comment?: string | undefined;
  at: string;
}

/**
 * Decides an open review of a run (or of a Step Functions execution) at a step path: one
 * conditional UPDATE, so of two concurrent deciders exactly one changes the row. Returns the run
 * ids whose review it decided (none when it was not open). Call {@link resumeAfterReview} next.
 */
export async function decideReview(
  tx: SqlExecutor,
  of: { runId: string } | { executionArn: string },
  stepPath: string,
  verdict: ReviewVerdict,
): Promise<string[]> {
  const rows = await tx.query<{ run_id: string }>(
    `UPDATE pending_review SET decided_at = $3::timestamptz, decision = $4, decided_by = $5, comment = $6
     WHERE ${'runId' in of ? 'run_id' : 'execution_arn'} = $1 AND step_path = $2 AND decided_at IS NULL
     RETURNING run_id`,
    ['runId' in of ? of.runId : of.executionArn, stepPath, verdict.at, verdict.decision, verdict.reviewer ?? null, verdict.comment ?? null],
  );
  return rows.map((r) => r.run_id);
}

/** A waiting run whose reviews are all decided is running again. */
export async function resumeAfterReview(tx: SqlExecutor, runId: string, at: string): Promise<void> {
  await tx.query(
    `UPDATE pipeline_run SET status = 'running', status_since = $2::timestamptz, updated_at = GREATEST(updated_at, $2::timestamptz)
     WHERE run_id = $1 AND status = 'waiting'
       AND NOT EXISTS (SELECT 1 FROM pending_review p WHERE p.run_id = $1 AND p.decided_at IS NULL)`,
    [runId, at],
  );
}

/**
 * Recomputes a run's token and cost totals from its attempts (after attempt-finished events), so a
 * redelivered event cannot count tokens twice; the cost stays NULL while no attempt was priced. Called once per run per batch, not per event.
 */
export async function refreshTotals(tx: SqlExecutor, runIds: Iterable<string>): Promise<void> {
  for (const runId of runIds) {
    await tx.query(
      `UPDATE pipeline_run r SET input_tokens = t.input_tokens, output_tokens = t.output_tokens, model_calls = t.model_calls,
         attempts = t.attempts, throttled_calls = t.throttled_calls, estimated_input_tokens = t.estimated_input_tokens,
         estimated_output_tokens = t.estimated_output_tokens, budget_wait_ms = t.budget_wait_ms, failed_input_tokens = t.failed_input_tokens,
         cost = t.cost, updated_at = GREATEST(r.updated_at, t.last_at)
       FROM (SELECT ${usageSums()}, MAX(finished_at) AS last_at FROM stage_attempt WHERE run_id = $1) t
       WHERE r.run_id = $1`,
      [runId],
    );
  }
}

// the attempt's model usage beyond tokens (migration 5), in the order of usageValues
const USAGE_COLUMNS = [
  'estimated_input_tokens',
  'estimated_output_tokens',
  'throttled_calls',
  'budget_wait_ms',
  'failed_input_tokens',
  'cost',
  'model_id',
  'unpriced_models',
] as const;

/** An attempt's metrics as the values of {@link USAGE_COLUMNS}; cost stays NULL when no price was applied (no price table, or events from before costs). */
function usageValues(m: InvocationMetrics | undefined): unknown[] {
  const cost = m?.cost;
  return [
    Math.round(m?.estimatedInputTokens ?? 0),
    Math.round(m?.estimatedOutputTokens ?? 0),
    m?.throttledCalls ?? 0,
    Math.round(m?.budgetWaitMs ?? 0),
    Math.round(m?.failedInputTokens ?? 0),
    typeof cost === 'number' && Number.isFinite(cost) ? cost : null,
    m?.modelId ?? null,
    json(m?.unpricedModels?.length ? m.unpricedModels : null),
  ];
}

/** Runs whose token totals the events change. */
export function runsWithUsage(events: readonly RunEvent[]): Set<string> {
  return new Set(events.filter((e) => e.type === 'attempt-finished').map((e) => e.runId));
}

/** Creates a placeholder run row for events that arrive before `run-started` (several workers). */
async function ensureRun(tx: SqlExecutor, runId: string, at: string): Promise<void> {
  await tx.query(
    `INSERT INTO pipeline_run (run_id, pipeline, engine, status, status_since, started_at, updated_at)
     VALUES ($1, '${UNKNOWN}', '${UNKNOWN}', 'running', $2::timestamptz, $2::timestamptz, $2::timestamptz) ON CONFLICT (run_id) DO NOTHING`,
    [runId, at],
  );
}

/** A step or attempt started: the run is in flight again (a redriven run leaves `failed`). */
async function resumeRun(tx: SqlExecutor, runId: string, at: string, stepPath: string | undefined): Promise<void> {
  // only a start at or after the failure reopens the run (a redrive): a late event from before it does not
  const revive = `(status = 'failed' AND finished_at IS NOT NULL AND $2::timestamptz >= finished_at)`;
  await tx.query(
    `UPDATE pipeline_run SET
       current_step = CASE WHEN status IN ('running', 'waiting') OR ${revive} THEN COALESCE($3, current_step) ELSE current_step END,
       updated_at = GREATEST(updated_at, $2::timestamptz),
       status_since = CASE WHEN ${revive} THEN $2::timestamptz ELSE status_since END,
       finished_at = CASE WHEN ${revive} THEN NULL ELSE finished_at END,
       error_code = CASE WHEN ${revive} THEN NULL ELSE error_code END,
       error_message = CASE WHEN ${revive} THEN NULL ELSE error_message END,
       error_class = CASE WHEN ${revive} THEN NULL ELSE error_class END,
       execution = CASE WHEN ${revive} THEN execution + 1 ELSE execution END,
       status = CASE WHEN ${revive} THEN 'running' ELSE status END
     WHERE run_id = $1`,
    [runId, at, stepPath ?? null],
  );
}

function errorColumns(error: SerializedError | undefined, context: FailureContext, classify: FailureClassifier): [string | null, string | null, string | null] {
  if (!error) return [null, null, null];
  return [error.code, error.message, classify(error, context)];
}
