import { defineStage } from '@baton/core';
import { z } from 'zod';

/** Input of {@link flagForReview}: the section and the safety failure. */
export const FlagInput = z.object({
  sectionId: z.string(),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** A section held for a human. */
export const FlagOutput = z.object({ sectionId: z.string(), status: z.literal('needs-human-review'), reason: z.string() });

/**
 * Marks a section whose output failed the safety check as held for human review; the reviewer
 * sees it in the review gate's payload and the report shows it as a placeholder. Writes nothing:
 * the marker lives in the run state.
 */
export const flagForReview = defineStage({
  name: 'flag-for-review',
  version: 1,
  description: 'safety failure -> section held for a human',
  input: FlagInput,
  output: FlagOutput,
  async run(input, ctx) {
    ctx.log.warn('section held for human review', { sectionId: input.sectionId, reason: input.error.message });
    return { sectionId: input.sectionId, status: 'needs-human-review' as const, reason: input.error.message };
  },
});
