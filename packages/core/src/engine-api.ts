/**
 * `@baton/core/engine`: what an engine author needs beyond the root entry (which holds what a
 * pipeline author and an engine user need). The journal and its folding, run-info helpers,
 * retry maths, claim-check helpers, review-token and review-decision checks, run ids, pipeline
 * versions, leases, the error table's helpers and the model-quota internals. The interpreter
 * itself is at `@baton/core/interpreter` (its import graph holds no Node built-in, so workflow
 * sandboxes can bundle it); the conformance kit is at `@baton/core/testkit`.
 *
 * @packageDocumentation
 */
export type { EngineBaseOptions, StageRunnerOptions } from './engine-options.js';
export {
  API_ERROR_CODES,
  FATAL_CODES,
  NEVER_RETRIED,
  defaultRetryable,
  deserializeError,
  errorClassOf,
  isErrorCode,
  isFatalCode,
  isSerializedError,
  serializeError,
  toStageError,
  type ApiErrorCode,
  type ErrorCodeInfo,
} from './errors.js';
export {
  RETRY_DEFAULTS,
  baseDelayMs,
  decideRetry,
  hashString,
  matchRetrier,
  maxDelayBoundMs,
  retryDelayMs,
  seededRandom,
  type RandomSource,
  type RetryDecision,
} from './retry.js';
export { hasPath, isValidPath, parsePath, readPath, select, selectionPaths, writePath, type PathContext, type Selection } from './paths.js';
export { evaluatePredicate } from './predicate.js';
export { NOT_CAUGHT_BY_ALL, catches } from './catching.js';
export {
  IR_VERSION,
  childBlocks,
  walkSteps,
  type ApprovalIR,
  type CatchIR,
  type ChoiceIR,
  type FailIR,
  type LoopIR,
  type MapIR,
  type ParallelIR,
  type StepIR,
  type SucceedIR,
  type TaskIR,
  type WaitIR,
} from './ir.js';
export { PipelineBuilder, StepsBuilder, pipelineFromIR, type GuardOptions } from './builder.js';
export { throwable, validatePipelineIR, type ValidateOptions } from './validate.js';
export {
  DEFAULT_STAGE_TIMEOUT_MS,
  invokeStage,
  summarizeIssues,
  type AttemptReport,
  type InvocationMetrics,
  type InvocationResult,
  type InvokeOptions,
  type ReportedInvocation,
} from './stage.js';
export { DEFAULT_CLAIM_CHECK_THRESHOLD, containsRef, jsonBytes, loadRef, offloadLarge, resolveRefs, storeValue, type OffloadOptions } from './claim-check.js';
export { getText, sha256Hex, type FsBlobStoreOptions, type PutResult } from './ports/blob-store.js';
export { createTestClock, type TestClock } from './ports/clock.js';
export { SCRUBBED, scrubSecrets, scrubValue } from './scrub.js';
export { redact, type JsonLoggerOptions, type LogBindings, type LogLevel } from './ports/logger.js';
export type { AttemptRecord, RetryRecord } from './engine.js';
export { createReviewToken, hashReviewToken, newRunId, resolvePipeline, stageMetaOf, validateRunInput, verifyReviewToken } from './engine-support.js';
export { MAX_REVIEW_NOTE_CHARS, type SectionVerdictKind } from './engine.js';
export { SECTION_VERDICT_KINDS, checkReviewDecision, findOpenReview, matchOpenReview, sectionVerdictsOf, type OpenReview } from './review-decision.js';
export { apiError, approvalGatesOf, assertGateOf, resultWithin, type NotRedrivableReason } from './api-errors.js';
export { RUN_ID_PATTERN, RUN_ID_RULE, assertRunId, pathUnder, startRunId } from './run-id.js';
export { reviewLink } from './review-link.js';
export { createPipelineSet, irDigest, pinOf, type PipelinePin, type PipelineSet } from './pipeline-versions.js';
export { STEP_FUNCTIONS_PAYLOAD_LIMIT } from './local/engine.js';
export { STEP_FUNCTIONS_LIMITS, stateLimitMessage, type EngineLimits } from './engine-limits.js';
export {
  DEFAULT_ITEM_CLAIM_CHECK_THRESHOLD,
  MAP_AGGREGATE_SHARE,
  MAP_ITEM_ENVELOPE_CHARS,
  MIN_ITEM_CLAIM_CHECK_THRESHOLD,
  mapItemBounds,
  mapItemClaimCheckThresholds,
  maxJsonChars,
  type MapItemThresholdOptions,
} from './map-item-thresholds.js';
export {
  LEASE_RENEW_MS,
  LEASE_TTL_MS,
  createLeaseKeeper,
  isProcessAlive,
  readRunLease,
  type LeaseKeeper,
  type LeaseState,
  type RunLease,
} from './local/lease.js';
export {
  apply as applyJournalEntry,
  createFileJournalStore,
  createMemoryJournalStore,
  foldJournal,
  type JournalEntry,
  type JournalState,
  type JournalStore,
} from './local/journal.js';
export { attemptFinishedEvent, attemptStartedEvent, safeObserver, type AttemptOutcome, type AttemptRef } from './observer.js';
export { decisionEntryFor, pendingReviewOf, reviewEntryFor, runInfoFromJournal, type LiveRunView } from './local/run-info.js';
export { DEFAULT_BUDGET_WINDOW_MS, DEFAULT_ESTIMATED_OUTPUT_TOKENS, estimateUsage, validateBudgets, type ModelBudget } from './quota/budget.js';
export {
  ADAPTIVE_DEFAULTS,
  DEFAULT_THROTTLE_RETRIES,
  receivedEntryAt,
  WINDOW_MARGIN_SHARE,
  type AcquireOptions,
  type AdaptiveOptions,
  type SettleTiming,
  type ModelLimiter,
  type ModelPermit,
} from './quota/limiter.js';
export {
  budgetWaitMs,
  adaptAfterSuccess,
  adaptAfterThrottle,
  factorAfterSuccess,
  factorAfterThrottle,
  INITIAL_ADAPTIVE_STATE,
  shareOfBudget,
  type AdaptiveState,
  type LimiterSnapshot,
  type MemoryModelLimiter,
  type MemoryModelLimiterOptions,
  type ModelWindow,
  type WindowEntry,
  type WindowUse,
} from './quota/memory-limiter.js';
export { costOf, summarizeUsage, validatePrices, type ModelPrice, type RunUsage, type UsageTotals } from './quota/cost.js';
export { createStoreQueue, type StoreQueue, type StoreWaiter } from './quota/store-queue.js';
