import { StageError, defineStage, type RetryPolicy, type StageContext } from '@baton/core';
import { z } from 'zod';
import { promptHash, renderSectionPrompt, SectionContext, type RawOutput } from './report/prompt.js';

/** Retries of model-calling stages: provider throttling, model errors and unavailability. */
export const MODEL_RETRY: RetryPolicy[] = [
  {
    errors: ['ThrottlingException', 'ModelErrorException', 'ServiceUnavailableException', 'States.Timeout'],
    intervalMs: 500,
    backoffRate: 2,
    maxAttempts: 4,
    jitter: 'FULL',
    maxDelayMs: 20_000,
  },
];

/** What generate returns: where the raw output is and the hash of the prompt that produced it. */
export const GenerateOutput = z.object({
  sectionId: z.string(),
  outputKey: z.string(),
  promptSha256: z.string(),
  modelId: z.string().nullable().default(null),
});

/**
 * Renders a section's prompt with its source excerpts, asks the model for JSON matching the
 * section's schema and writes the raw answer to the task's `outputKey` (validation is the next
 * stage's job). Retries provider throttling and errors with jittered backoff. A section a
 * reviewer sent back (`revision`) is written again with the note and the validator's last
 * findings in its prompt (purpose `revise`).
 */
export const generate = defineStage({
  name: 'generate',
  version: 1,
  description: 'section prompt -> model -> raw JSON output',
  input: SectionContext,
  output: GenerateOutput,
  retry: MODEL_RETRY,
  timeoutMs: 120_000,
  throws: ['InvalidInput'],
  usesModel: true,
  async run(input, ctx) {
    const { task } = input;
    if (task.missingSources.length > 0) {
      throw new StageError(
        'InvalidInput',
        `section "${task.sectionId}" needs source(s) ${task.missingSources.join(', ')}, which are missing or were rejected by ingest`,
        {
          details: { sectionId: task.sectionId, missingSources: task.missingSources },
        },
      );
    }
    const request = await renderSectionPrompt(ctx.blobs, input);
    const purpose = input.revision ? 'revise' : 'generate';
    const review = input.revision ? { reviewRound: input.revision.round } : {};
    const raw = await callModel(
      ctx,
      { ...request, metadata: { sectionId: task.sectionId, sectionType: task.type, purpose, attempt: ctx.attempt, round: 0, ...review } },
      purpose,
      0,
    );
    await ctx.blobs.put(task.outputKey, JSON.stringify(raw, null, 2));
    return { sectionId: task.sectionId, outputKey: task.outputKey, promptSha256: raw.promptSha256, modelId: raw.modelId };
  },
});

/** Calls the model and packages the answer as a {@link RawOutput}. */
export async function callModel(
  ctx: StageContext,
  request: Parameters<StageContext['model']['complete']>[0],
  purpose: RawOutput['purpose'],
  round: number,
): Promise<RawOutput> {
  const response = await ctx.model.complete(request, { signal: ctx.signal });
  const raw: RawOutput = {
    modelId: response.modelId,
    text: response.text,
    usage: response.usage,
    latencyMs: response.latencyMs,
    promptSha256: promptHash(request),
    purpose,
    round,
  };
  if (response.json !== undefined) raw.json = response.json;
  return raw;
}
