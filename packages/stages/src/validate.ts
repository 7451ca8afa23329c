import { StageError, defineStage, getText, type BlobStore } from '@baton/core';
import { z } from 'zod';
import { RawOutput, SectionContext, sectionTypeOf } from './report/prompt.js';
import { checkSection } from './report/rules.js';
import { loadDocuments, paragraphIndex } from './report/sources.js';

/** Input of {@link validate}: the section context and the raw output to check. */
export const ValidateInput = SectionContext.extend({ outputKey: z.string() });

/** A section that passed validation. */
export const ValidOutput = z.object({ valid: z.literal(true), sectionId: z.string(), outputKey: z.string(), round: z.number().int() });

/**
 * Validates a section's raw output: schema, then rules (cross-references, ranges, prohibited
 * terms, citations of real source paragraphs). Throws `ValidationFailed` with the precise error
 * list in `details.errors` (for repair), or `SafetyCheckFailed` when the output matches the
 * template's denylist (never retried: a human decides).
 */
export const validate = defineStage({
  name: 'validate',
  version: 1,
  description: 'schema + rules + safety denylist',
  input: ValidateInput,
  output: ValidOutput,
  throws: ['ValidationFailed', 'SafetyCheckFailed'],
  async run(input, ctx) {
    return checkOrThrow(ctx.blobs, input, input.outputKey);
  },
});

/** Checks the raw output at `outputKey`; returns the valid result or throws the typed failure. */
export async function checkOrThrow(blobs: BlobStore, input: SectionContext, outputKey: string): Promise<z.output<typeof ValidOutput>> {
  const raw = RawOutput.parse(JSON.parse(await getText(blobs, outputKey)));
  const { template, section } = sectionTypeOf(input.task);
  const ids = new Set(paragraphIndex(await loadDocuments(blobs, input.sources)).keys());
  const check = checkSection(raw.text, raw.json, { task: input.task, template, section, sectionIndex: input.sectionIndex, paragraphIds: ids });
  const sectionId = input.task.sectionId;
  if (check.safety.length) {
    throw new StageError('SafetyCheckFailed', `section "${sectionId}" matched the off-script denylist (${check.safety.join(', ')}): held for human review`, {
      details: { sectionId, matches: check.safety, outputKey, round: raw.round },
    });
  }
  if (check.errors.length) {
    throw new StageError('ValidationFailed', `section "${sectionId}" failed validation: ${check.errors.slice(0, 3).join('; ')}${check.errors.length > 3 ? ` (+${check.errors.length - 3} more)` : ''}`, {
      details: { sectionId, errors: check.errors, outputKey, round: raw.round },
    });
  }
  return { valid: true, sectionId, outputKey, round: raw.round };
}
