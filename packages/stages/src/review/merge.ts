import { defineStage } from '@baton/core';
import { z } from 'zod';
import { SectionResult } from '../assemble/model.js';

/** Input of {@link mergeRevisions}: the sections, the ones sent back (by index) and their new map results, in the same order. */
export const MergeRevisionsInput = z.object({
  sections: z.array(SectionResult),
  sendBack: z.array(z.looseObject({ index: z.number().int().nonnegative() })),
  rewritten: z.array(SectionResult),
});

/**
 * Puts the sections written again after review in their places; every other section is kept
 * as it was (what a reviewer approved is never touched).
 */
export const mergeRevisions = defineStage({
  name: 'merge-revisions',
  version: 1,
  description: 'sections + rewritten sections -> sections',
  input: MergeRevisionsInput,
  output: z.array(SectionResult),
  async run(input) {
    const out = [...input.sections];
    input.sendBack.forEach((s, i) => {
      const next = input.rewritten[i];
      if (next && s.index < out.length) out[s.index] = next;
    });
    return out;
  },
});
