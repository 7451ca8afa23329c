import { defineStage } from '@baton/core';
import { z } from 'zod';

/** Input of {@link flagForReview}: the section and the safety failure. */
export const FlagInput = z.object({
  sectionId: z.string(),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** A section held for a human. */
export const FlagOutput = z.object({
  sectionId: z.string(),
  status: z.literal('needs-human-review'),
  reason: z.string(),
  /** The safety findings in plain words (`{ class, reason }`), when the failure carried them. */
  findings: z.array(z.object({ class: z.string(), reason: z.string() })).default([]),
  /** The round whose answer was held (0: generate, n: repair round n); null when unknown. Always present, so a Step Functions ResultSelector can pick it. */
  round: z.number().int().nullable().default(null),
});

const FailureDetails = z.looseObject({
  findings: z.array(z.looseObject({ class: z.string(), reason: z.string() })).optional(),
  round: z.number().int().optional(),
});

/**
 * Marks a section whose output failed the safety check (in generate's round or any repair round)
 * as held for human review; the reviewer sees it, with its findings, in the review gate's payload
 * and the report shows it as a placeholder. Writes nothing: the marker lives in the run state.
 */
export const flagForReview = defineStage({
  name: 'flag-for-review',
  version: 1,
  description: 'safety failure -> section held for a human',
  input: FlagInput,
  output: FlagOutput,
  async run(input, ctx) {
    const details = FailureDetails.safeParse(input.error.details);
    const findings = details.success ? (details.data.findings ?? []).map((f) => ({ class: f.class, reason: f.reason })) : [];
    const round = details.success ? details.data.round : undefined;
    ctx.log.warn('section held for human review', { sectionId: input.sectionId, reason: input.error.message, findings: findings.map((f) => f.class), round });
    return { sectionId: input.sectionId, status: 'needs-human-review' as const, reason: input.error.message, findings, round: round ?? null };
  },
});
