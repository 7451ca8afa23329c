import { StageError, defineStage } from '@baton/core';
import { z } from 'zod';

/** The error code of a report with fewer generated sections than its minimum. Not retried. */
export const REPORT_INCOMPLETE = 'ReportIncomplete';

/** Input of {@link checkOutcome}: the section counts of the assembled report and the minimum. */
export const OutcomeInput = z.object({
  /** `assemble`'s `sections`: `ok` are the generated sections. */
  sections: z.object({ total: z.number().int().min(0), ok: z.number().int().min(0) }).loose(),
  /** Fewest generated sections for the run to succeed. @default 1 */
  minGeneratedSections: z.number().int().min(0).default(1),
  /** Smallest generated share (0-1) of all sections for the run to succeed. @default 0 */
  minGeneratedShare: z.number().min(0).max(1).default(0),
});

/**
 * What the run delivered, at `$.outcome` of the report pipeline's output: a script tells
 * "succeeded" from "succeeded with missing sections" by `missing > 0`.
 */
export const OutcomeOutput = z.object({
  total: z.number(),
  generated: z.number(),
  /** Sections that are placeholders (failed, held, accepted as missing). */
  missing: z.number(),
  /** The minimum that was required: max(minGeneratedSections, ceil(minGeneratedShare × total)). */
  minimum: z.number(),
});
/** See {@link OutcomeOutput}. */
export type OutcomeOutput = z.output<typeof OutcomeOutput>;

/**
 * Fails the run with `ReportIncomplete` (not retried) when the report has fewer generated
 * sections than the minimum, so a report of placeholders never ends SUCCEEDED; otherwise
 * returns the counts (with `missing`). Runs after assemble, so the partial report is still
 * written for a human to look at.
 *
 * @example
 * ```ts
 * .task('check-outcome', checkOutcome, { input: { 'sections.$': '$.report.sections' }, resultPath: '$.outcome' })
 * ```
 */
export const checkOutcome = defineStage({
  name: 'check-outcome',
  version: 1,
  description: 'report sections -> fail below the minimum generated',
  input: OutcomeInput,
  output: OutcomeOutput,
  throws: [REPORT_INCOMPLETE],
  async run({ sections, minGeneratedSections, minGeneratedShare }) {
    const minimum = Math.max(minGeneratedSections, Math.ceil(minGeneratedShare * sections.total));
    const outcome = { total: sections.total, generated: sections.ok, missing: sections.total - sections.ok, minimum };
    if (sections.ok < minimum) {
      const rule =
        minGeneratedShare > 0
          ? `at least ${minGeneratedSections} and ${Math.round(minGeneratedShare * 100)}% of the sections`
          : `at least ${minGeneratedSections}`;
      throw new StageError(REPORT_INCOMPLETE, `report incomplete: ${sections.ok} of ${sections.total} sections generated; the run needs ${rule} (${minimum})`, {
        retryable: false,
        details: outcome,
      });
    }
    return outcome;
  },
});
