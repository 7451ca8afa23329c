/**
 * `@baton/core`: what a pipeline author and an engine user need, and nothing else. Stages and
 * the pipeline builder, the engine interface and its run, review and event types, typed errors,
 * the ports (blobs, clock, logger, model) with their embedded implementations, model budgets,
 * and the in-process local engine.
 *
 * Other entries: `@baton/core/engine` (what an engine author needs: journal, run-info, retry
 * maths, claim check, review tokens, limits), `@baton/core/interpreter` (the interpreter; no Node
 * built-in, so workflow sandboxes can bundle it), `@baton/core/logging` (pino and Powertools
 * loggers as Baton loggers), `@baton/core/otel` (OpenTelemetry spans), `@baton/core/testkit`
 * (the conformance kit).
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createLocalEngine, definePipeline, defineStage } from '@baton/core';
 *
 * const greet = defineStage({
 *   name: 'greet',
 *   version: 1,
 *   input: z.object({ name: z.string() }),
 *   output: z.object({ greeting: z.string() }),
 *   async run({ name }) {
 *     return { greeting: `hello ${name}` };
 *   },
 * });
 * const hello = definePipeline({ name: 'hello', version: 1, input: z.object({ name: z.string() }) })
 *   .task('greet', greet, { resultPath: '$.greet' })
 *   .build();
 * const engine = createLocalEngine({ pipelines: [hello] });
 * const { runId } = await engine.start('hello', { name: 'Ada' });
 * console.log(await engine.result(runId)); // { status: 'succeeded', output: { name: 'Ada', greet: { greeting: 'hello Ada' } } }
 * ```
 *
 * @packageDocumentation
 */
// errors
export { ALL_ERRORS, ERROR_CODES, StageError, isStageError, type ErrorClass, type ErrorCode, type SerializedError } from './errors.js';
// pipelines and stages
export { definePipeline, type AnyPipeline, type ApprovalOptions, type CatchOptions, type MapOptions, type Pipeline, type TaskOptions } from './builder.js';
export { PipelineValidationError, type PipelineIssue } from './validate.js';
export { defineStage, type AnyStage, type Stage, type StageContext, type StageDefinition } from './stage.js';
export type { RetryPolicy } from './retry.js';
export type { DataPath } from './paths.js';
export type { PipelineIR, Predicate } from './ir.js';
// blobs and run outputs
export { isBlobRef, type BlobRef } from './blob-ref.js';
export { resolveOutcome } from './run-output.js';
export { createFsBlobStore, createMemoryBlobStore, type BlobStore } from './ports/blob-store.js';
// ports
export { realClock, type Clock } from './ports/clock.js';
export { createJsonLogger, silentLogger, type Logger } from './ports/logger.js';
export type { ModelClient, ModelMessage, ModelRequest, ModelResponse, TokenUsage } from './ports/model.js';
// engines, runs and reviews
export type {
  Engine,
  PendingReview,
  ReviewDecision,
  ReviewNotice,
  ReviewNotifier,
  RunInfo,
  RunState,
  RunSummary,
  SectionVerdict,
  StartOptions,
} from './engine.js';
export type { RunOutcome } from './interpreter/index.js';
export type { RunEvent, RunObserver } from './observer.js';
export { createLocalEngine, type LocalEngine, type LocalEngineOptions } from './local/engine.js';
// model budgets and cost
export type { ModelBudgets } from './quota/budget.js';
export { createMemoryModelLimiter } from './quota/memory-limiter.js';
export type { PriceTable } from './quota/cost.js';
