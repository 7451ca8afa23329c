import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { apiError } from './api-errors.js';
import type { AnyPipeline } from './builder.js';
import { StageError, serializeError, type SerializedError } from './errors.js';
import type { StageMeta } from './interpreter/types.js';
import { summarizeIssues } from './stage.js';

/** Validates a run's input against the pipeline's schema: the parsed input, or an `InvalidInput` error. */
export function validateRunInput(pipeline: AnyPipeline, input: unknown): { ok: true; input: unknown } | { ok: false; error: SerializedError } {
  if (!pipeline.input) return { ok: true, input };
  const parsed = pipeline.input.safeParse(input);
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    error: serializeError(
      new StageError('InvalidInput', `input of pipeline "${pipeline.name}" is invalid: ${summarizeIssues(parsed.error.issues)}`, {
        details: { issues: parsed.error.issues },
      }),
    ),
  };
}

/** The data the interpreter needs of each stage of a pipeline. */
export function stageMetaOf(pipeline: AnyPipeline): Record<string, StageMeta> {
  const out: Record<string, StageMeta> = {};
  for (const [name, stage] of pipeline.stages) {
    const meta: StageMeta = {};
    if (stage.retry) meta.retry = stage.retry;
    if (stage.timeoutMs !== undefined) meta.timeoutMs = stage.timeoutMs;
    if (stage.usesModel) meta.usesModel = true;
    out[name] = meta;
  }
  return out;
}

/** A new unguessable review token (256 random bits) and the hash to store instead of it. */
export function createReviewToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashReviewToken(token) };
}

/** sha256 of a review token, hex. */
export function hashReviewToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares a presented token with a stored hash in constant time. */
export function verifyReviewToken(token: string, hash: string): boolean {
  const a = Buffer.from(hashReviewToken(token), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export { newRunId } from './run-id.js';

/** Looks a pipeline up by name or returns the given one; throws `PipelineNotFound` when unknown. */
export function resolvePipeline(pipelines: ReadonlyMap<string, AnyPipeline>, pipeline: AnyPipeline | string): AnyPipeline {
  if (typeof pipeline !== 'string') return pipeline;
  const found = pipelines.get(pipeline);
  if (!found) throw apiError.pipelineNotFound(pipeline, [...pipelines.keys()]);
  return found;
}
