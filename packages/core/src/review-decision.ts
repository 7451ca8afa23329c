import type { ReviewDecision } from './engine.js';
import { verifyReviewToken } from './engine-support.js';
import { matchOpenReview, type OpenReview } from './review-check.js';

export { SECTION_VERDICT_KINDS, checkReviewDecision, matchOpenReview, sectionVerdictsOf, type OpenReview } from './review-check.js';

/**
 * {@link matchOpenReview} with Node's constant-time token check: among the open reviews of a
 * gate, the one whose token hash matches, assigned to this reviewer if it names one, and whose
 * decision passes `checkReviewDecision`. Throws `GateNotOpen`, `ReviewTokenUsed` (a token of one
 * of the `closed` reviews), `ReviewTokenRejected` or `InvalidInput` saying which check failed;
 * consumes nothing.
 *
 * @example
 * ```ts
 * const review = findOpenReview(openReviews, { run: runId, gate: 'review' }, decision);
 * ```
 */
export function findOpenReview<T extends OpenReview>(
  open: readonly T[],
  where: { run: string; gate: string },
  decision: ReviewDecision,
  closed: readonly OpenReview[] = [],
): T {
  return matchOpenReview(open, where, decision, verifyReviewToken, closed);
}
