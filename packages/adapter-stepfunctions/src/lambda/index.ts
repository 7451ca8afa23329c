/**
 * `@baton/adapter-stepfunctions/lambda`: what a deployed Lambda imports, and nothing else. The
 * package root also holds the compiler, the local engine (aws-local-stepfunctions, asl-validator)
 * and the app writer; importing them from a handler would put local-emulation code into every
 * stage function's bundle (`@baton/aws-runtime` imports from here).
 */
export { errorFromCause, lambdaCause, toLambdaError } from './errors.js';
export { createStageHandler, isFinalFailure, runIdOf, type StageHandler, type StageHandlerOptions } from './handler.js';
export { stageInputOf, stageOutputOf, stageResultOf, type StageEvent } from './event.js';
export { createReviewGateHandler, type ReviewGateEvent, type ReviewGateOptions } from './review-gate.js';
export { createMemoryReviewStore, decideReview, type ReviewClose, type ReviewRecord, type ReviewStore, type TaskAnswer } from './reviews.js';
export { createBlobReviewStore } from './blob-reviews.js';
export { ABORTED_CODE, createRegistryWriterHandler, runError, type ExecutionPayloads, type RegistryWriterOptions } from './registry-writer.js';
export { EXECUTION_STATUS_CHANGE, type ExecutionStatus, type ExecutionStatusChangeEvent } from './status-event.js';
export { readHistory, type HistoryView, type ReadHistoryOptions } from '../client/history.js';
export type { DeadLetterMessage } from '../compile/dead-letter.js';
