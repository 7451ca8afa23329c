import { StageError, defineStage } from '@baton/core';
import { z } from 'zod';
import { sectionOutcome, SectionResult } from '../assemble/model.js';
import { PlanOutput } from '../plan.js';
import { ReviewOutcome, ReviewState, type DecidedSection, type SectionVerdictOutput, type SentBack } from './state.js';

/** Input of {@link applyReview}: the plan, the sections as they stand, the round's decision and the review so far. */
export const ApplyReviewInput = z.object({
  plan: PlanOutput,
  sections: z.array(SectionResult),
  review: ReviewOutcome,
  state: ReviewState,
  /** The last review round: sections still pending after it fail the run with `ReviewIncomplete`. @default 3 */
  maxRounds: z.number().int().positive().default(3),
});

/**
 * Applies one review round's decision to the review state. Per pending section:
 * - `approve`: decided as written (a placeholder approved is accepted as missing: there is no text to approve);
 * - `accept-missing`: decided, its placeholder stays (an approved text is left out) and is marked with who accepted it and the note;
 * - `send-back`: written again before the next round, with the note and the validator's last findings in its prompt
 *   (a failed or held section sent back is retried); it stays pending, for the same reviewer;
 * - no verdict: stays pending for the next round.
 * A decision without any verdict approves the report as it stands: every pending section is approved, or
 * accepted as missing if it has no text. Verdicts naming a section that is not pending are ignored (the
 * engines refuse such decisions before they reach the run). Decided sections are never written again.
 * Sections still pending after round `maxRounds` fail the run with `ReviewIncomplete` (a report is
 * never assembled with undecided sections).
 */
export const applyReview = defineStage({
  name: 'apply-review',
  version: 1,
  description: 'review decision -> sections decided, sent back or still pending',
  input: ApplyReviewInput,
  output: ReviewState,
  throws: ['ReviewIncomplete'],
  async run(input, ctx) {
    const { plan, sections, review, state } = input;
    const round = state.round + 1;
    const at = new Date(ctx.clock.now()).toISOString();
    const given = Object.keys(review.sections).length > 0;
    const pendingSet = new Set(state.pending);
    const ignored = Object.keys(review.sections).filter((id) => !pendingSet.has(id));
    if (ignored.length) ctx.log.warn('review verdicts for sections that are not pending were ignored', { sections: ignored });
    const decided: Record<string, DecidedSection> = { ...state.decided };
    const verdicts: Record<string, SectionVerdictOutput> = {};
    const sendBack: SentBack[] = [];
    const pending: string[] = [];
    for (const [index, task] of plan.sections.entries()) {
      const id = task.sectionId;
      if (!pendingSet.has(id)) continue;
      const outcome = sectionOutcome(sections[index]);
      const verdict: SectionVerdictOutput | undefined = given
        ? review.sections[id]
        : { verdict: outcome.status === 'ok' ? 'approve' : 'accept-missing', ...(review.comment ? { note: review.comment } : {}) };
      if (!verdict) {
        pending.push(id);
        continue;
      }
      verdicts[id] = verdict;
      if (verdict.verdict === 'send-back') {
        const findings = outcome.status === 'ok' ? [] : outcome.findings;
        const note = verdict.note?.trim() || 'The reviewer sent this section back without a note.';
        const outputKey = task.outputKey.replace(/[^/]+$/, `review-${round}/generated.json`);
        sendBack.push({
          index,
          task: { ...task, outputKey },
          reportTitle: plan.reportTitle,
          sources: plan.sources,
          sectionIndex: plan.sectionIndex,
          revision: { round, reviewer: review.reviewer, note, findings },
        });
        pending.push(id);
        continue;
      }
      const kind = verdict.verdict === 'approve' && outcome.status === 'ok' ? 'approve' : 'accept-missing';
      decided[id] = { verdict: kind, reviewer: review.reviewer, note: verdict.note ?? null, round, at };
    }
    if (pending.length && round >= input.maxRounds) {
      throw new StageError(
        'ReviewIncomplete',
        `review round ${round} of ${input.maxRounds} left section(s) ${pending.join(', ')} undecided: the report is not assembled`,
        {
          retryable: false,
          details: { round, pending },
        },
      );
    }
    return {
      round,
      pending,
      decided,
      sendBack,
      rounds: [...state.rounds, { round, reviewer: review.reviewer, comment: review.comment, at, sections: verdicts }],
      done: pending.length === 0,
    };
  },
});
