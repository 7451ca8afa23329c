import { z } from 'zod';
import { SectionContext, Revision } from '../report/prompt.js';

/**
 * One section's verdict in a review decision, as `@baton/core`'s `SectionVerdict`: approve, send
 * back with a note (the section is written again), or accept as missing (its placeholder stays).
 */
export const SectionVerdictSchema = z.object({
  verdict: z.enum(['approve', 'send-back', 'accept-missing']),
  note: z.string().optional(),
});
/** One section's verdict in a review decision. */
export type SectionVerdictOutput = z.output<typeof SectionVerdictSchema>;

/** The approval step's output: who decided, their comment, and the per-section verdicts (`{}` when none). */
export const ReviewOutcome = z.object({
  approved: z.boolean(),
  reviewer: z.string().nullable(),
  comment: z.string().nullable(),
  sections: z.record(z.string(), SectionVerdictSchema).default({}),
});
/** The approval step's output. */
export type ReviewOutcome = z.output<typeof ReviewOutcome>;

/** A section whose review is over: approved as written, or accepted as missing. */
export const DecidedSection = z.object({
  verdict: z.enum(['approve', 'accept-missing']),
  reviewer: z.string().nullable(),
  note: z.string().nullable(),
  /** The review round (1 for the first decision) that decided it. */
  round: z.number().int().positive(),
  /** When the decision was applied (ISO 8601). */
  at: z.string(),
});
/** A section whose review is over. */
export type DecidedSection = z.output<typeof DecidedSection>;

/** One decided review round, for the sign-off page and the audit of the run. */
export const ReviewRound = z.object({
  round: z.number().int().positive(),
  reviewer: z.string().nullable(),
  comment: z.string().nullable(),
  at: z.string(),
  /** The verdicts of the round, including those implied by a decision without verdicts. */
  sections: z.record(z.string(), SectionVerdictSchema),
});
/** One decided review round. */
export type ReviewRound = z.output<typeof ReviewRound>;

/** A section sent back: its context to write it again (task with a new output key, revision), and its index in the report. */
export const SentBack = SectionContext.extend({ index: z.number().int().nonnegative(), revision: Revision });
/** A section sent back. */
export type SentBack = z.output<typeof SentBack>;

/**
 * Where the report's review stands between rounds: the ids the next gate asks about, what is
 * decided, what to write again now, and every round so far. The review loop ends when `done`.
 */
export const ReviewState = z.object({
  /** Rounds decided so far. */
  round: z.number().int().nonnegative(),
  /** Section ids still to decide, in report order (the gate's `sectionsPath`). */
  pending: z.array(z.string()),
  decided: z.record(z.string(), DecidedSection),
  /** The sections sent back in the last round, to be written again before the next one. */
  sendBack: z.array(SentBack),
  rounds: z.array(ReviewRound),
  /** Every section is approved or accepted as missing. */
  done: z.boolean(),
});
/** Where the report's review stands between rounds. */
export type ReviewState = z.output<typeof ReviewState>;
