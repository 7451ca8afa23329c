import type { ReviewDecision } from './engine.js';
import { verifyReviewToken } from './engine-support.js';
import { StageError } from './errors.js';
import { checkReviewDecision } from './review-check.js';

export { SECTION_VERDICT_KINDS, checkReviewDecision, sectionVerdictsOf } from './review-check.js';

/** What {@link findOpenReview} needs of a recorded review. */
export interface OpenReview {
  gate: string;
  tokenHash: string;
  /** The assigned reviewer; `null` or absent: anyone holding the token. */
  reviewer?: string | null | undefined;
  sections?: string[] | undefined;
}

/**
 * The one rule every engine applies to a decision: among the open reviews of a gate, the one
 * whose token hash matches, assigned to this reviewer if it names one, and whose decision passes
 * {@link checkReviewDecision}. Throws `InvalidInput` saying which check failed; consumes nothing.
 *
 * @example
 * ```ts
 * const review = findOpenReview(openReviews, { run: runId, gate: 'review' }, decision);
 * ```
 */
export function findOpenReview<T extends OpenReview>(open: readonly T[], where: { run: string; gate: string }, decision: ReviewDecision): T {
  const { run, gate } = where;
  if (open.length === 0) throw new StageError('InvalidInput', `run "${run}" has no open review at gate "${gate}" (already decided, timed out, or never reached)`);
  const review = open.find((r) => r.gate === gate && verifyReviewToken(decision.token, r.tokenHash));
  if (!review) throw new StageError('InvalidInput', `review token rejected for gate "${gate}" of run "${run}"`);
  if (review.reviewer != null && review.reviewer !== decision.reviewer) throw new StageError('InvalidInput', `gate "${gate}" is assigned to reviewer "${review.reviewer}"`);
  checkReviewDecision({ gate, ...(review.sections ? { sections: review.sections } : {}) }, decision);
  return review;
}
