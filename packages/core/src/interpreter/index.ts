export { interpret, type InterpretOptions } from './interpret.js';
export { inputHash } from './hash.js';
export { apiError, approvalGatesOf, assertGateOf } from '../api-errors.js';
export { SECTION_VERDICT_KINDS, checkReviewDecision, matchOpenReview, sectionVerdictsOf, type OpenReview } from '../review-check.js';
export type { ApprovalOutcome, ApprovalRequest, Effects, InterpreterEvent, RunOutcome, StageMeta, TaskOutcome, TaskRequest } from './types.js';
