import { StageError, type PendingReview, type SectionVerdict } from '@baton/core';
import { decideReview, openReview, resumeAfterReview } from './apply.js';
import { REVIEW_COLUMNS } from './rows.js';
import { sqlClientOf } from './sql-registry.js';
import { isoOf } from './sql.js';
import type { RunRegistry } from './types.js';

/**
 * A review gate reached by a Step Functions execution, with the task token that resumes it.
 * The same shape as `ReviewRecord` of `@baton/adapter-stepfunctions` (keep the two identical).
 */
export interface TaskTokenReviewRecord extends PendingReview {
  executionArn: string;
  /** sha256 of the reviewer's single-use review token. */
  tokenHash: string;
  /** The Step Functions task token answered by SendTaskSuccess / SendTaskFailure. */
  taskToken: string;
  status: 'open' | 'approved' | 'rejected' | 'expired';
}

/** A decision on a task-token review. The same shape as `ReviewClose` of `@baton/adapter-stepfunctions`. */
export interface TaskTokenReviewClose {
  /** `expired` is recorded as the decision `timeout`. */
  status: 'approved' | 'rejected' | 'expired';
  reviewer?: string;
  comment?: string;
  /** The reviewer's verdicts per section, when the decision gave any. */
  sections?: Record<string, SectionVerdict>;
  /** When the decision was taken (ISO 8601). */
  at: string;
}

/**
 * Where Step Functions review gates keep their pending reviews and task tokens: structurally
 * `ReviewStore` of `@baton/adapter-stepfunctions` (the registry cannot import the adapter).
 */
export interface TaskTokenReviewStore {
  /** Records an open review (upsert by run and step path; a new task token replaces an open row) and puts the run in `waiting`. */
  put(review: TaskTokenReviewRecord): Promise<void>;
  /** Open reviews of an execution at a gate. */
  open(executionArn: string, gate: string): Promise<TaskTokenReviewRecord[]>;
  /** Every review of an execution, open or decided. */
  list(executionArn: string): Promise<TaskTokenReviewRecord[]>;
  /** Decides an open review with one conditional UPDATE; false when it was not open (already decided: single use). */
  close(executionArn: string, stepPath: string, decision: TaskTokenReviewClose): Promise<boolean>;
}

const DECISION = { approved: 'approved', rejected: 'rejected', expired: 'timeout' } as const;
const STATUS: Record<string, TaskTokenReviewRecord['status']> = { approved: 'approved', rejected: 'rejected', timeout: 'expired' };

/**
 * The task-token review store over a registry's `pending_review` table (PostgreSQL or PGlite).
 * `put` writes the row exactly as a `review-opened` event does, plus the execution ARN and the
 * task token; `close` decides it as `review-decided` does, atomically, so a second decision is
 * refused. Only this store ever reads `task_token`: no registry query returns it.
 *
 * @example
 * ```ts
 * const registry = await createPostgresRegistry({ connectionString: process.env.DATABASE_URL });
 * const reviews = createRegistryReviewStore(registry);
 * const [open] = await reviews.open(executionArn, 'editor');
 * if (open && (await reviews.close(executionArn, open.stepPath, { status: 'approved', reviewer: 'ana', at: new Date().toISOString() }))) {
 *   // send SendTaskSuccess with open.taskToken
 * }
 * ```
 */
export function createRegistryReviewStore(registry: RunRegistry): TaskTokenReviewStore {
  const client = sqlClientOf(registry);
  const select = `SELECT ${REVIEW_COLUMNS}, task_token FROM pending_review`;
  return {
    async put(review) {
      if (review.status !== 'open') throw new StageError('InvalidInput', `a task-token review is put open, not "${review.status}" (decide it with close)`);
      if (!review.executionArn || !review.taskToken) throw new StageError('InvalidInput', 'a task-token review needs an executionArn and a taskToken');
      await client.transaction((tx) => openReview(tx, { ...review, at: review.createdAt }));
    },
    async open(executionArn, gate) {
      const rows = await client.query(
        `${select} WHERE execution_arn = $1 AND gate = $2 AND decided_at IS NULL AND task_token IS NOT NULL ORDER BY created_at, step_path`,
        [executionArn, gate],
      );
      return rows.map(recordOf);
    },
    async list(executionArn) {
      const rows = await client.query(`${select} WHERE execution_arn = $1 AND task_token IS NOT NULL ORDER BY created_at, step_path`, [executionArn]);
      return rows.map(recordOf);
    },
    async close(executionArn, stepPath, decision) {
      return client.transaction(async (tx) => {
        const verdict = {
          decision: DECISION[decision.status],
          reviewer: decision.reviewer,
          comment: decision.comment,
          sections: decision.sections,
          at: decision.at,
        };
        const decided = await decideReview(tx, { executionArn }, stepPath, verdict);
        for (const runId of decided) await resumeAfterReview(tx, runId, decision.at);
        return decided.length > 0;
      });
    },
  };
}

function recordOf(row: Record<string, unknown>): TaskTokenReviewRecord {
  const record: TaskTokenReviewRecord = {
    runId: String(row.run_id),
    gate: String(row.gate),
    stepPath: String(row.step_path),
    payload: row.payload_ref ?? null,
    createdAt: isoOf(row.created_at)!,
    // every row a put writes has one; a row opened by an engine event has one too
    expiresAt: isoOf(row.expires_at) ?? '',
    executionArn: String(row.execution_arn),
    tokenHash: String(row.token_hash),
    taskToken: String(row.task_token),
    status: row.decision === null || row.decision === undefined ? 'open' : (STATUS[String(row.decision)] ?? 'expired'),
  };
  if (row.reviewer !== null && row.reviewer !== undefined) record.reviewer = String(row.reviewer);
  // the ids a decision may give verdicts for: the deployed engine's approve checks against them
  if (Array.isArray(row.sections)) record.sections = (row.sections as unknown[]).map(String);
  return record;
}
