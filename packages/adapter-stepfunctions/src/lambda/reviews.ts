import { type PipelineIR, type PendingReview, type ReviewDecision, type SectionVerdict } from '@baton/core';
import { apiError, assertGateOf, findOpenReview, sectionVerdictsOf } from '@baton/core/engine';

/** A pending review as the review gate records it: never the review token, only its hash. */
export interface ReviewRecord extends PendingReview {
  executionArn: string;
  tokenHash: string;
  /** The Step Functions task token answered by SendTaskSuccess / SendTaskFailure. */
  taskToken: string;
  status: 'open' | 'approved' | 'rejected' | 'expired';
}

/**
 * How a review ends: the decision, who made it (when known), their note, and when.
 *
 * @example
 * ```ts
 * const decision: ReviewClose = { status: 'rejected', reviewer: 'alice', comment: 'section 3 lacks citations', at: new Date().toISOString() };
 * ```
 */
export interface ReviewClose {
  status: 'approved' | 'rejected' | 'expired';
  reviewer?: string;
  comment?: string;
  /** The reviewer's verdicts per section (a gate with `sectionsPath`), when the decision gave any. */
  sections?: Record<string, SectionVerdict>;
  /** ISO time of the decision. */
  at: string;
}

/**
 * Where review gates record pending reviews: the registry's `pending_review` table in production
 * (`createRegistryReviewStore` of `@baton/registry`, which implements this structurally).
 *
 * @example
 * ```ts
 * const store: ReviewStore = createMemoryReviewStore();
 * const closed = await store.close(executionArn, 'review', { status: 'approved', reviewer: 'alice', at: new Date().toISOString() });
 * ```
 */
export interface ReviewStore {
  /** Records a review, replacing the one at the same (run, step path): a retried gate mints a new token. */
  put(review: ReviewRecord): Promise<void>;
  /** Open reviews of an execution at a gate. */
  open(executionArn: string, gate: string): Promise<ReviewRecord[]>;
  /** Every review of an execution. */
  list(executionArn: string): Promise<ReviewRecord[]>;
  /**
   * Marks an open review decided; false when it was no longer open. A production store does this
   * in one conditional write, so of two concurrent decisions with the same token only one wins
   * (single use).
   */
  close(executionArn: string, stepPath: string, decision: ReviewClose): Promise<boolean>;
}

/**
 * An in-memory {@link ReviewStore} for tests and the local engine. Closing is atomic (one
 * synchronous check-and-set).
 *
 * @example
 * ```ts
 * const engine = createStepFunctionsLocalEngine({ pipelines: [report], reviews: createMemoryReviewStore() });
 * ```
 */
export function createMemoryReviewStore(): ReviewStore {
  const rows = new Map<string, ReviewRecord>();
  const key = (arn: string, path: string): string => `${arn}\u0000${path}`;
  return {
    async put(review) {
      rows.set(key(review.executionArn, review.stepPath), { ...review });
    },
    async open(arn, gate) {
      return [...rows.values()].filter((r) => r.executionArn === arn && r.gate === gate && r.status === 'open');
    },
    async list(arn) {
      return [...rows.values()].filter((r) => r.executionArn === arn);
    },
    async close(arn, path, decision) {
      const r = rows.get(key(arn, path));
      if (!r || r.status !== 'open') return false;
      r.status = decision.status;
      return true;
    },
  };
}

/** What to send to Step Functions for a decision: SendTaskSuccess (`output`) or SendTaskFailure (`error`, `cause`). */
export type TaskAnswer =
  | {
      taskToken: string;
      verdict: 'approved';
      output: { approved: true; reviewer: string | null; comment: string | null; sections: Record<string, SectionVerdict> };
    }
  | { taskToken: string; verdict: 'rejected'; error: 'ApprovalRejected'; cause: string };

/**
 * Checks a reviewer's decision against the open review of a gate (core's `findOpenReview`: token
 * hash, assigned reviewer, verdicts only for the review's sections, note and comment lengths),
 * closes the review with the reviewer, comment, verdicts and time of the decision, and returns the
 * task answer to send (SendTaskSuccess output `{ approved, reviewer, comment, sections }`). Throws
 * before the review is closed, with core's codes and messages (`where.runId` names the run in them;
 * default the execution ARN): `GateNotFound` (when `where.ir`, the run's pipeline, has no such gate),
 * `GateNotOpen`, `ReviewTokenRejected` (a token that matches none, another reviewer than the one
 * assigned), `ReviewTokenUsed` (the token of a decided review, or the close lost), `InvalidInput`
 * (a refused verdict).
 *
 * @example
 * ```ts
 * const answer = await decideReview(store, executionArn, 'review', { token, reviewer: 'alice' }, 'approved');
 * if (answer.verdict === 'approved') await sfn.send(new SendTaskSuccessCommand({ taskToken: answer.taskToken, output: JSON.stringify(answer.output) }));
 * ```
 */
export async function decideReview(
  store: ReviewStore,
  executionArn: string,
  gate: string,
  decision: ReviewDecision,
  verdict: 'approved' | 'rejected',
  where: { runId?: string; ir?: Pick<PipelineIR, 'steps'> } = {},
): Promise<TaskAnswer> {
  const run = where.runId ?? executionArn;
  if (where.ir) assertGateOf({ run, gate }, where.ir);
  const open = await store.open(executionArn, gate);
  // an expired review was never decided: its token was not used
  const decided = (await store.list(executionArn)).filter((r) => r.gate === gate && (r.status === 'approved' || r.status === 'rejected'));
  // a store may read an unassigned reviewer back as null (a nullable column): findOpenReview takes both
  const review = findOpenReview(open, { run, gate }, decision, decided);
  const sections = sectionVerdictsOf(decision);
  const close: ReviewClose = {
    status: verdict,
    at: new Date().toISOString(),
    ...(decision.reviewer === undefined ? {} : { reviewer: decision.reviewer }),
    ...(decision.comment === undefined ? {} : { comment: decision.comment }),
    ...(Object.keys(sections).length === 0 ? {} : { sections }),
  };
  if (!(await store.close(executionArn, review.stepPath, close))) throw apiError.reviewTokenUsed(run, gate);
  const reviewer = decision.reviewer ?? null;
  const comment = decision.comment ?? null;
  if (verdict === 'approved') return { taskToken: review.taskToken, verdict, output: { approved: true, reviewer, comment, sections } };
  const error = {
    code: 'ApprovalRejected',
    message: `gate "${gate}" rejected${reviewer ? ` by ${reviewer}` : ''}${comment ? `: ${comment}` : ''}`,
    retryable: false,
    details: { gate, reviewer, comment },
  };
  return { taskToken: review.taskToken, verdict, error: 'ApprovalRejected', cause: JSON.stringify(error) };
}
