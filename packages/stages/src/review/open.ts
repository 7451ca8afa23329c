import { defineStage } from '@baton/core';
import { z } from 'zod';
import { SectionIndexEntry } from '../documents.js';
import { ReviewState } from './state.js';

/** Input of {@link openReview}: the report's sections, in order. */
export const OpenReviewInput = z.object({ sectionIndex: z.array(SectionIndexEntry) });

/**
 * Starts the per-section review of a report: every section is pending, nothing is decided. Its
 * output is the state the review loop's gate reads its section ids from (`$.reviewState.pending`).
 */
export const openReview = defineStage({
  name: 'open-review',
  version: 1,
  description: 'sections -> review state (every section pending)',
  input: OpenReviewInput,
  output: ReviewState,
  async run(input) {
    const pending = input.sectionIndex.map((s) => s.sectionId);
    return { round: 0, pending, decided: {}, sendBack: [], rounds: [], done: pending.length === 0 };
  },
});
