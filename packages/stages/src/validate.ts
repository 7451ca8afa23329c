import { StageError, defineStage, type BlobStore } from '@baton/core';
import { getText } from '@baton/core/engine';
import { z } from 'zod';
import { RawOutput, SectionContext, sectionTypeOf } from './report/prompt.js';
import { checkSection } from './report/rules.js';
import { loadDocuments, paragraphIndex } from './report/sources.js';
import { describeFinding } from './safety/classes.js';
import { hostsOf } from './safety/links.js';

/** Input of {@link validate}: the section context and the raw output to check. */
export const ValidateInput = SectionContext.extend({ outputKey: z.string() });

/** A section that passed validation. */
export const ValidOutput = z.object({ valid: z.literal(true), sectionId: z.string(), outputKey: z.string(), round: z.number().int() });

/**
 * Validates a section's raw output: schema, then rules (cross-references, ranges, prohibited
 * terms, citations of real source paragraphs). Throws `ValidationFailed` with the precise error
 * list in `details.errors` (for repair), or `SafetyCheckFailed` when the output goes off-script
 * (any safety finding: never retried, never repaired, a human decides).
 */
export const validate = defineStage({
  name: 'validate',
  version: 1,
  description: 'safety + schema + rules',
  input: ValidateInput,
  output: ValidOutput,
  throws: ['ValidationFailed', 'SafetyCheckFailed'],
  async run(input, ctx) {
    return checkOrThrow(ctx.blobs, input, input.outputKey);
  },
});

/**
 * Checks the raw output at `outputKey`; returns the valid result or throws the typed failure.
 * Safety comes first and holds in every round: generate's answer and each repair's answer alike.
 * `SafetyCheckFailed` carries `details.matches` (one line per finding, `class: reason`, free of
 * model text, safe to show in the report), `details.findings` (`{ class, reason }`) and
 * `details.evidence` (`{ class, excerpt }`: the model's own words, for the reviewer only).
 */
export async function checkOrThrow(blobs: BlobStore, input: SectionContext, outputKey: string): Promise<z.output<typeof ValidOutput>> {
  const raw = RawOutput.parse(JSON.parse(await getText(blobs, outputKey)));
  const { template, section } = sectionTypeOf(input.task);
  const docs = await loadDocuments(blobs, input.sources);
  const ids = new Set(paragraphIndex(docs).keys());
  const sourceHosts = hostsOf(docs.flatMap((d) => d.paragraphs.map((p) => p.text)));
  const check = checkSection(raw.text, raw.json, { task: input.task, template, section, sectionIndex: input.sectionIndex, paragraphIds: ids, sourceHosts });
  const sectionId = input.task.sectionId;
  if (check.safety.length) {
    const matches = check.safety.map(describeFinding);
    throw new StageError('SafetyCheckFailed', `section "${sectionId}" went off-script and is held for human review: ${matches.join('; ')}`, {
      details: {
        sectionId,
        matches,
        findings: check.safety.map((f) => ({ class: f.class, reason: f.reason })),
        evidence: check.safety.map((f) => ({ class: f.class, excerpt: f.excerpt })),
        outputKey,
        round: raw.round,
      },
    });
  }
  if (check.errors.length) {
    throw new StageError(
      'ValidationFailed',
      `section "${sectionId}" failed validation: ${check.errors.slice(0, 3).join('; ')}${check.errors.length > 3 ? ` (+${check.errors.length - 3} more)` : ''}`,
      {
        details: { sectionId, errors: check.errors, outputKey, round: raw.round },
      },
    );
  }
  return { valid: true, sectionId, outputKey, round: raw.round };
}
