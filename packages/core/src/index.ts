export {
  ALL_ERRORS,
  API_ERROR_CODES,
  ERROR_CODES,
  FATAL_CODES,
  NEVER_RETRIED,
  StageError,
  defaultRetryable,
  deserializeError,
  errorClassOf,
  isErrorCode,
  isFatalCode,
  isSerializedError,
  isStageError,
  serializeError,
  toStageError,
  type ApiErrorCode,
  type ErrorClass,
  type ErrorCode,
  type ErrorCodeInfo,
  type SerializedError,
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
  type RetryPolicy,
} from './retry.js';
export { hasPath, isValidPath, parsePath, readPath, select, selectionPaths, writePath, type DataPath, type PathContext, type Selection } from './paths.js';
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
  type PipelineIR,
  type Predicate,
  type StepIR,
  type SucceedIR,
  type TaskIR,
  type WaitIR,
} from './ir.js';
export {
  PipelineBuilder,
  StepsBuilder,
  definePipeline,
  pipelineFromIR,
  type AnyPipeline,
  type ApprovalOptions,
  type CatchOptions,
  type GuardOptions,
  type MapOptions,
  type Pipeline,
  type TaskOptions,
} from './builder.js';
export { PipelineValidationError, throwable, validatePipelineIR, type PipelineIssue, type ValidateOptions } from './validate.js';
export {
  DEFAULT_STAGE_TIMEOUT_MS,
  defineStage,
  invokeStage,
  summarizeIssues,
  type AnyStage,
  type InvocationMetrics,
  type InvocationResult,
  type InvokeOptions,
  type Stage,
  type StageContext,
  type StageDefinition,
} from './stage.js';
export { isBlobRef, type BlobRef } from './blob-ref.js';
export { resolveOutcome } from './run-output.js';
export { DEFAULT_CLAIM_CHECK_THRESHOLD, containsRef, jsonBytes, loadRef, offloadLarge, resolveRefs, storeValue, type OffloadOptions } from './claim-check.js';
export {
  createFsBlobStore,
  createMemoryBlobStore,
  getText,
  sha256Hex,
  type BlobStore,
  type FsBlobStoreOptions,
  type PutResult,
} from './ports/blob-store.js';
export { createTestClock, realClock, type Clock, type TestClock } from './ports/clock.js';
export { SCRUBBED, scrubSecrets, scrubValue } from './scrub.js';
export { createJsonLogger, redact, silentLogger, type JsonLoggerOptions, type LogBindings, type LogLevel, type Logger } from './ports/logger.js';
export { fromPino, type PinoLike } from './logging/pino.js';
export { fromPowertools, type PowertoolsLoggerLike } from './logging/powertools.js';
export type { ModelClient, ModelMessage, ModelRequest, ModelResponse, TokenUsage } from './ports/model.js';
export type {
  AttemptRecord,
  Engine,
  PendingReview,
  RetryRecord,
  ReviewDecision,
  ReviewNotice,
  ReviewNotifier,
  RunInfo,
  RunState,
  RunSummary,
  StartOptions,
} from './engine.js';
export {
  createReviewToken,
  hashReviewToken,
  newRunId,
  resolvePipeline,
  stageMetaOf,
  validateRunInput,
  verifyReviewToken,
} from './engine-support.js';
export { MAX_REVIEW_NOTE_CHARS, type SectionVerdict, type SectionVerdictKind } from './engine.js';
export { SECTION_VERDICT_KINDS, checkReviewDecision, findOpenReview, matchOpenReview, sectionVerdictsOf, type OpenReview } from './review-decision.js';
export { apiError, approvalGatesOf, assertGateOf, type NotRedrivableReason } from './api-errors.js';
export { RUN_ID_PATTERN, RUN_ID_RULE, assertRunId, pathUnder, startRunId } from './run-id.js';
export { reviewLink } from './review-link.js';
export { createPipelineSet, irDigest, pinOf, type PipelinePin, type PipelineSet } from './pipeline-versions.js';
export { interpret, inputHash, type Effects, type RunOutcome, type StageMeta } from './interpreter/index.js';
export { STEP_FUNCTIONS_PAYLOAD_LIMIT, createLocalEngine, type LocalEngine, type LocalEngineOptions } from './local/engine.js';
export { LEASE_RENEW_MS, LEASE_TTL_MS, createLeaseKeeper, isProcessAlive, readRunLease, type LeaseKeeper, type LeaseState, type RunLease } from './local/lease.js';
export { apply as applyJournalEntry, createFileJournalStore, createMemoryJournalStore, foldJournal, type JournalEntry, type JournalState, type JournalStore } from './local/journal.js';
export { safeObserver, type RunEvent, type RunObserver } from './observer.js';
export { decisionEntryFor, pendingReviewOf, runInfoFromJournal, type LiveRunView } from './local/run-info.js';
export {
  DEFAULT_BUDGET_WINDOW_MS,
  DEFAULT_ESTIMATED_OUTPUT_TOKENS,
  estimateUsage,
  validateBudgets,
  type ModelBudget,
  type ModelBudgets,
} from './quota/budget.js';
export { ADAPTIVE_DEFAULTS, DEFAULT_THROTTLE_RETRIES, WINDOW_MARGIN_SHARE, type AcquireOptions, type AdaptiveOptions, type SettleTiming, type ModelLimiter, type ModelPermit } from './quota/limiter.js';
export {
  budgetWaitMs,
  createMemoryModelLimiter,
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
export { costOf, summarizeUsage, validatePrices, type ModelPrice, type PriceTable, type RunUsage, type UsageTotals } from './quota/cost.js';
