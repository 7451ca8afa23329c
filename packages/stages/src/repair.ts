import { StageError, defineStage } from '@baton/core';
import { getText } from '@baton/core/engine';
import { z } from 'zod';
import { callModel, MODEL_RETRY } from './generate.js';
import { RawOutput, promptHash, renderSectionPrompt, SectionContext } from './report/prompt.js';
import { checkOrThrow } from './validate.js';
import { isStageError } from '@baton/core';

const FailedCheck = z.object({
  code: z.literal('ValidationFailed'),
  message: z.string(),
  details: z.object({ errors: z.array(z.string()), outputKey: z.string(), round: z.number().int().default(0) }),
});

/** What repair returns; the loop around it ends when `valid` is true. */
export const RepairOutput = z.object({
  valid: z.boolean(),
  sectionId: z.string(),
  outputKey: z.string(),
  round: z.number().int(),
  errors: z.array(z.string()),
  promptSha256: z.string(),
  /** The model that wrote the repaired text (the review audit records it); null when unknown. Always present, so a Step Functions ResultSelector can pick it. */
  modelId: z.string().nullable().default(null),
});

/** Input of {@link repair}: the section context, the last check, and the number of rounds allowed. */
export const RepairInput = SectionContext.extend({
  /** The `ValidationFailed` error from validate, or the previous repair's output. */
  check: z.union([FailedCheck, RepairOutput]),
  /** After this many rounds a still-invalid section fails with `ValidationFailed`. @default 2 */
  maxRounds: z.number().int().positive().default(2),
});

/**
 * One repair round: a new prompt made of the original context plus the validator's specific
 * errors and the rejected answer ("you made these mistakes"), never the identical prompt; the
 * answer is re-validated. Returns `valid: false` with the new errors while rounds remain, throws
 * `ValidationFailed` after the last round and `SafetyCheckFailed` if the answer goes off-script.
 */
export const repair = defineStage({
  name: 'repair',
  version: 1,
  description: 'original prompt + validator errors -> model -> re-validate',
  input: RepairInput,
  output: RepairOutput,
  retry: MODEL_RETRY,
  timeoutMs: 120_000,
  throws: ['ValidationFailed', 'SafetyCheckFailed'],
  usesModel: true,
  async run(input, ctx) {
    const last = 'code' in input.check ? { ...input.check.details } : input.check;
    const round = last.round + 1;
    const previous = RawOutput.parse(JSON.parse(await getText(ctx.blobs, last.outputKey)));
    const original = await renderSectionPrompt(ctx.blobs, input);
    const request = {
      ...original,
      messages: [
        ...original.messages,
        { role: 'assistant' as const, content: previous.text.slice(0, 8000) },
        { role: 'user' as const, content: repairInstructions(last.errors, round) },
      ],
      metadata: { sectionId: input.task.sectionId, sectionType: input.task.type, purpose: 'repair', attempt: ctx.attempt, round, errors: last.errors },
    };
    const hash = promptHash(request);
    if (hash === previous.promptSha256) throw new StageError('StageFailed', 'repair prompt is identical to the previous prompt', { retryable: false });
    const base = input.task.outputKey.replace(/[^/]+$/, '');
    const outputKey = `${base}repair-${round}.json`;
    await ctx.blobs.put(`${base}repair-${round}.prompt.txt`, request.messages.map((m) => `## ${m.role}\n${m.content}`).join('\n\n'));
    const raw = await callModel(ctx, request, 'repair', round);
    await ctx.blobs.put(outputKey, JSON.stringify(raw, null, 2));
    try {
      await checkOrThrow(ctx.blobs, input, outputKey);
      return { valid: true, sectionId: input.task.sectionId, outputKey, round, errors: [], promptSha256: hash, modelId: raw.modelId };
    } catch (e) {
      if (!isStageError(e) || e.code !== 'ValidationFailed') throw e;
      const errors = (e.details as { errors: string[] }).errors;
      if (round >= input.maxRounds) {
        throw new StageError(
          'ValidationFailed',
          `section "${input.task.sectionId}" is still invalid after ${round} repair round(s): ${errors.slice(0, 3).join('; ')}`,
          {
            details: { sectionId: input.task.sectionId, errors, outputKey, round },
          },
        );
      }
      return { valid: false, sectionId: input.task.sectionId, outputKey, round, errors, promptSha256: hash, modelId: raw.modelId };
    }
  },
});

/** The repair instruction: the validator's errors, quoted one per line. */
export function repairInstructions(errors: readonly string[], round: number): string {
  return [
    `Your previous answer (shown above) was rejected by the validator (repair round ${round}). You made these mistakes:`,
    ...errors.map((e) => `- ${e}`),
    'Return a corrected JSON object that fixes every one of these errors, cites only the excerpt ids given above, and keeps everything else that was correct.',
  ].join('\n');
}
