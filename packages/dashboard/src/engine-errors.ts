import { isStageError, type ErrorCode } from '@baton/core';

/** An HTTP status the dashboard answers an engine's refusal with. */
export type RefusalStatus = 400 | 403 | 404 | 409 | 500 | 503 | 504;

/** How the dashboard answers an engine call that threw a code: the status and the page's title. */
export interface EngineErrorAnswer {
  status: RefusalStatus;
  title: string;
}

/**
 * The HTTP status and page title of each code an engine call (approve, reject, status) may throw.
 * Typed over every code, so a new code does not compile until the dashboard has decided what it
 * answers. The `api` codes are the engine's refusals: 404 for what does not exist (run, gate,
 * pipeline), 403 for a token that is not this review's, 409 for a request that conflicts with the
 * run's state (token used, gate closed or not reached, run not redrivable), 504 for a wait that
 * timed out (the dashboard is a gateway to the engine). A decision whose content is refused is 400.
 * The codes of run failures never come from an API call; if one does, it is the engine's fault (500).
 *
 * @example
 * ```ts
 * ENGINE_ERROR_ANSWERS.ReviewTokenUsed; // { status: 409, title: 'This review link was used' }
 * ```
 */
export const ENGINE_ERROR_ANSWERS: Record<ErrorCode, EngineErrorAnswer> = {
  RunNotFound: { status: 404, title: 'Run not found' },
  PipelineNotFound: { status: 404, title: 'Pipeline not found' },
  GateNotFound: { status: 404, title: 'Review not found' },
  PipelineVersionNotLoaded: { status: 409, title: "This run's pipeline version is not deployed" },
  ReviewTokenRejected: { status: 403, title: 'This review link is not valid' },
  ReviewTokenUsed: { status: 409, title: 'This review link was used' },
  GateNotOpen: { status: 409, title: 'This review is not open' },
  RunNotRedrivable: { status: 409, title: 'This run cannot be redriven' },
  ResultTimedOut: { status: 504, title: 'The engine did not answer in time' },
  InvalidInput: { status: 400, title: 'Decision refused' },
  ServiceUnavailableException: { status: 503, title: 'The engine is unavailable' },
  ThrottlingException: { status: 503, title: 'The engine is busy' },
  ConfigurationError: { status: 500, title: 'The engine is misconfigured' },
  ModelErrorException: { status: 500, title: 'The engine failed' },
  ValidationFailed: { status: 500, title: 'The engine failed' },
  SafetyCheckFailed: { status: 500, title: 'The engine failed' },
  ApprovalRejected: { status: 500, title: 'The engine failed' },
  ApprovalTimedOut: { status: 500, title: 'The engine failed' },
  'States.Timeout': { status: 500, title: 'The engine failed' },
  'States.Runtime': { status: 500, title: 'The engine failed' },
  'States.ExceedToleratedFailureThreshold': { status: 500, title: 'The engine failed' },
  'States.NoChoiceMatched': { status: 500, title: 'The engine failed' },
  'States.DataLimitExceeded': { status: 500, title: 'The engine failed' },
  StageFailed: { status: 500, title: 'The engine failed' },
  ModelAccessDenied: { status: 500, title: 'The engine failed' },
  BatonWorkerStopped: { status: 500, title: 'The engine failed' },
  ModelBudgetUnavailable: { status: 500, title: 'The engine failed' },
  ModelQuotaExhausted: { status: 500, title: 'The engine failed' },
};

const NOT_SHOWN = 'The engine could not decide this review; try again, or see the run.';

/**
 * The answer to an error an engine call threw: its code's entry in {@link ENGINE_ERROR_ANSWERS}
 * with the engine's message; a 500, or anything without a Baton code, keeps its text to the logs
 * (it can carry engine internals).
 *
 * @example
 * ```ts
 * engineErrorAnswer(apiError.runNotFound('r1')); // { status: 404, title: 'Run not found', message: 'unknown run "r1"', code: 'RunNotFound' }
 * ```
 */
export function engineErrorAnswer(error: unknown): EngineErrorAnswer & { message: string; code: string } {
  if (isStageError(error) && Object.prototype.hasOwnProperty.call(ENGINE_ERROR_ANSWERS, error.code)) {
    const answer = ENGINE_ERROR_ANSWERS[error.code as ErrorCode];
    return { ...answer, message: answer.status === 500 ? NOT_SHOWN : error.message, code: error.code };
  }
  return { status: 500, title: 'The engine failed', message: NOT_SHOWN, code: isStageError(error) ? error.code : 'Error' };
}
