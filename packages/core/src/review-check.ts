import { MAX_REVIEW_NOTE_CHARS, type PendingReview, type ReviewDecision, type SectionVerdict, type SectionVerdictKind } from './engine.js';
import { apiError } from './api-errors.js';
import { StageError } from './errors.js';

// No Node built-ins here: workflow sandboxes (Temporal) check decisions with these functions.

/** The verdicts a reviewer may give a section. */
export const SECTION_VERDICT_KINDS: readonly SectionVerdictKind[] = ['approve', 'send-back', 'accept-missing'];

/**
 * Checks what a decision says against the review it decides: every verdict names a section of
 * `pending.sections` (a gate opened without sections takes no verdicts), has a known kind, a
 * `send-back` carries a note, and no note or comment is longer than {@link MAX_REVIEW_NOTE_CHARS}.
 * Throws `StageError('InvalidInput')` naming what is wrong. Engines call it BEFORE the token is
 * consumed, so a refused decision leaves the gate open and the run unchanged.
 *
 * @example
 * ```ts
 * checkReviewDecision({ ...pending, sections: ['intro'] }, { token, sections: { intro: { verdict: 'send-back', note: 'cite the trial' } } });
 * ```
 */
export function checkReviewDecision(pending: Pick<PendingReview, 'gate' | 'sections'>, decision: ReviewDecision): void {
  const refuse = (why: string): never => {
    throw new StageError('InvalidInput', `review decision on gate "${pending.gate}" refused: ${why}`, { details: { gate: pending.gate } });
  };
  if (decision.comment !== undefined && (typeof decision.comment !== 'string' || decision.comment.length > MAX_REVIEW_NOTE_CHARS)) {
    refuse(`the comment must be text of at most ${MAX_REVIEW_NOTE_CHARS} characters`);
  }
  if (decision.sections === undefined) return;
  const verdicts: unknown = decision.sections;
  if (verdicts === null || typeof verdicts !== 'object' || Array.isArray(verdicts)) refuse('sections must be an object of verdicts by section id');
  const entries = Object.entries(verdicts as Record<string, unknown>);
  if (entries.length === 0) return;
  const known = pending.sections;
  if (known === undefined) refuse('this gate takes no section verdicts (it has no sectionsPath)');
  for (const [id, v] of entries) {
    if (!known!.includes(id)) refuse(`no section "${id}" in this review round (sections: ${known!.join(', ') || 'none'})`);
    const { verdict, note } = (v ?? {}) as Partial<SectionVerdict>;
    if (!SECTION_VERDICT_KINDS.includes(verdict as SectionVerdictKind))
      refuse(`section "${id}": unknown verdict ${JSON.stringify(verdict)} (one of ${SECTION_VERDICT_KINDS.join(', ')})`);
    if (note !== undefined && (typeof note !== 'string' || note.length > MAX_REVIEW_NOTE_CHARS)) {
      refuse(`section "${id}": the note must be text of at most ${MAX_REVIEW_NOTE_CHARS} characters`);
    }
    if (verdict === 'send-back' && !note?.trim()) refuse(`section "${id}": a send-back needs a note saying what to change`);
  }
}

/**
 * The verdicts of a checked decision as recorded and handed to the pipeline: `{ verdict, note }`
 * per section and nothing else (`{}` when the decision carried none).
 */
export function sectionVerdictsOf(decision: ReviewDecision): Record<string, SectionVerdict> {
  const out: Record<string, SectionVerdict> = {};
  for (const [id, v] of Object.entries(decision.sections ?? {})) out[id] = v.note === undefined ? { verdict: v.verdict } : { verdict: v.verdict, note: v.note };
  return out;
}

/** What {@link matchOpenReview} needs of a recorded review. */
export interface OpenReview {
  gate: string;
  tokenHash: string;
  /** The assigned reviewer; `null` or absent: anyone holding the token. */
  reviewer?: string | null | undefined;
  sections?: string[] | undefined;
}

/**
 * The one rule every engine applies to a decision: among the open reviews of a gate, the one
 * whose token `matches` its hash, assigned to this reviewer if it names one, and whose decision
 * passes {@link checkReviewDecision}. Consumes nothing; throws, with the same code and message on
 * every engine (core's `apiError`):
 * - `GateNotOpen`: no open review at the gate (not reached yet, decided, timed out);
 * - `ReviewTokenUsed`: the token is that of a `closed` review of the gate (it decided already);
 * - `ReviewTokenRejected`: the token matches no review of the gate, or the gate is assigned to
 *   another reviewer;
 * - `InvalidInput`: what the decision says is refused ({@link checkReviewDecision}).
 *
 * `matches` is the engine's hash comparison (`verifyReviewToken` in Node; a workflow sandbox
 * brings its own); `closed` are the gate's decided or expired reviews, where the engine keeps them.
 *
 * @example
 * ```ts
 * const review = matchOpenReview(open, { run: runId, gate: 'review' }, decision, verifyReviewToken, decided);
 * ```
 */
export function matchOpenReview<T extends OpenReview>(
  open: readonly T[],
  where: { run: string; gate: string },
  decision: ReviewDecision,
  matches: (token: string, hash: string) => boolean,
  closed: readonly OpenReview[] = [],
): T {
  const { run, gate } = where;
  const token = String(decision.token);
  const used = (): boolean => closed.some((r) => r.gate === gate && matches(token, r.tokenHash));
  const atGate = open.filter((r) => r.gate === gate);
  if (atGate.length === 0) throw used() ? apiError.reviewTokenUsed(run, gate) : apiError.gateNotOpen(run, gate);
  const review = atGate.find((r) => matches(token, r.tokenHash));
  if (!review) throw used() ? apiError.reviewTokenUsed(run, gate) : apiError.reviewTokenRejected(run, gate);
  if (review.reviewer != null && review.reviewer !== decision.reviewer) throw apiError.reviewerNotAssigned(run, gate, review.reviewer);
  checkReviewDecision({ gate, ...(review.sections ? { sections: review.sections } : {}) }, decision);
  return review;
}
