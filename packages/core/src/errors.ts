import { scrubSecrets, scrubValue } from './scrub.js';

/**
 * The error taxonomy shared by every engine: the one table of codes, each with its class and how
 * retriers treat it; every list or map over codes is derived from it or typed over it
 * (`Record<ErrorCode, …>`), so a new code does not compile until each mapping has decided what it
 * means. A code is the string that Retry and Catch match: the ASL error name on Step Functions, the
 * ApplicationFailure type on Temporal, the failure reason on BullMQ.
 *
 * - `retryable`: the default of {@link StageError.retryable}: whether a `States.ALL` retrier
 *   retries it (a retrier naming the code retries it either way, unless `retried: 'never'`).
 * - `retried: 'never'`: no retrier retries it, not even one naming it ({@link NEVER_RETRIED}).
 * - `fatal`: fails the run: never retried, a map's tolerated failures do not absorb it, and a
 *   `States.ALL` catcher does not catch it (a catcher naming it does).
 * - `class`: what kind of failure it is ({@link ErrorClass}); `api` codes are refusals of an
 *   engine API call (approve, redrive, status, result, start), thrown by every engine alike, never
 *   the outcome of a run.
 */
export const ERROR_CODES = {
  /** The model provider throttled the call. Retried with jittered backoff. */
  ThrottlingException: { class: 'model', retryable: true },
  /** The model provider failed while producing the answer. Retryable. */
  ModelErrorException: { class: 'model', retryable: true },
  /** The model provider or another dependency was unavailable. Retryable. */
  ServiceUnavailableException: { class: 'infrastructure', retryable: true },
  /** Output did not pass schema or rule validation. Not retried by `States.ALL`: routed to repair. */
  ValidationFailed: { class: 'validation', retryable: false },
  /** Output matched a safety denylist. Never retried automatically: goes to a human. */
  SafetyCheckFailed: { class: 'safety', retryable: false, retried: 'never' },
  /** The input of a run or a stage, or a review decision's content, did not match its schema. Never retried. */
  InvalidInput: { class: 'validation', retryable: false, retried: 'never' },
  /** A reviewer rejected an approval gate. Catchable. */
  ApprovalRejected: { class: 'validation', retryable: false, retried: 'never' },
  /** Nobody decided an approval gate before its timeout. Catchable. */
  ApprovalTimedOut: { class: 'infrastructure', retryable: false, retried: 'never' },
  /** A stage ran longer than its timeout. Same name as the ASL error. */
  'States.Timeout': { class: 'infrastructure', retryable: true },
  /** A data path did not resolve, or the pipeline could not be interpreted. Same name as in ASL. */
  'States.Runtime': { class: 'infrastructure', retryable: false, retried: 'never' },
  /** A map had more failed items than it tolerates. Same name as in ASL. */
  'States.ExceedToleratedFailureThreshold': { class: 'infrastructure', retryable: false, retried: 'never' },
  /** A choice without `otherwise` matched no branch. Same name as in ASL. */
  'States.NoChoiceMatched': { class: 'infrastructure', retryable: false },
  /**
   * A state's payload passed Step Functions' 256 KB limit (on stepfunctions-local, and on the local
   * engine with `emulate: 'stepfunctions'`). Same name as in ASL.
   */
  'States.DataLimitExceeded': { class: 'infrastructure', retryable: false },
  /** Anything a stage threw that is not classified. */
  StageFailed: { class: 'infrastructure', retryable: true },
  /**
   * The model provider refused the credentials or the permission (no IAM permission on the model
   * id, an invalid API key). Every later call would be refused too: fatal.
   */
  ModelAccessDenied: { class: 'model', retryable: false, retried: 'never', fatal: true },
  /**
   * The deployment is misconfigured: no model configured, a secret missing, an essential database
   * unreachable. Nothing in the run can mend it: fatal.
   */
  ConfigurationError: { class: 'infrastructure', retryable: false, retried: 'never', fatal: true },
  /**
   * Temporal: a stage attempt interrupted by its worker's shutdown. The workflow runs the same
   * attempt again (no retry budget spent); it never ends a run.
   */
  BatonWorkerStopped: { class: 'infrastructure', retryable: true },
  /**
   * Step Functions: a stage function could not get model budget (the shared limiter) before its
   * Lambda's time ran out. Deployed machines retry it under a retrier of its own, so it spends none
   * of the model retry policy's attempts; the next invocation waits for budget again.
   */
  ModelBudgetUnavailable: { class: 'model', retryable: true },
  /**
   * The model throttled one call every time it was sent, through the limiter's bounded waits
   * (`ModelLimiter.throttleRetries`): its quota is taken by others or is zero. The section fails in
   * bounded time rather than waiting for ever; not retried by `States.ALL` (a retrier naming it may
   * try again later), and a map's tolerated failures absorb it like any section's failure.
   */
  ModelQuotaExhausted: { class: 'model', retryable: false },
  /** No run of this id is known to the engine. */
  RunNotFound: { class: 'api', retryable: false },
  /** The engine knows no pipeline of this name (or, on Step Functions, has no state machine for it). */
  PipelineNotFound: { class: 'api', retryable: false },
  /**
   * The run's pipeline version (or its IR digest) is not loaded in this engine: the run is pinned
   * to the version it started on and is never replayed on another one. Load that version too.
   */
  PipelineVersionNotLoaded: { class: 'api', retryable: false },
  /** The run's pipeline has no approval gate of this name. */
  GateNotFound: { class: 'api', retryable: false },
  /** The gate has no open review: the run has not reached it yet, it was decided, it timed out, or the run ended. */
  GateNotOpen: { class: 'api', retryable: false },
  /** The review token matches no review of this gate (wrong, altered, or issued for another gate or run), or the gate is assigned to another reviewer. */
  ReviewTokenRejected: { class: 'api', retryable: false },
  /** The review token was already used: its decision was recorded; a token decides once. */
  ReviewTokenUsed: { class: 'api', retryable: false },
  /** Only a failed run can be redriven: this one is running, waiting, succeeded, or failed on its input. */
  RunNotRedrivable: { class: 'api', retryable: false },
  /** `result(runId, { timeoutMs })` gave up waiting; the run goes on. Waiting again may succeed. */
  ResultTimedOut: { class: 'api', retryable: true },
} as const satisfies Record<string, ErrorCodeInfo>;

/**
 * The class of a failure: model, validation, safety, assembly (a report could not be assembled),
 * infrastructure, or `api` (an engine API call refused: unknown run, token refused, …).
 */
export type ErrorClass = 'model' | 'validation' | 'safety' | 'assembly' | 'infrastructure' | 'api';

/** What the code table says of a code. */
export interface ErrorCodeInfo {
  /** What kind of failure the code is. */
  class: ErrorClass;
  /** Whether a `States.ALL` retrier may retry it unless the thrower says otherwise. */
  retryable: boolean;
  /** `'never'`: no retrier retries it, not even one naming it (see {@link NEVER_RETRIED}). */
  retried?: 'never';
  /** Whether it fails the run whatever catches or tolerates failures (see {@link isFatalCode}). */
  fatal?: boolean;
}

/** A built-in error code. Stages may also throw codes of their own (any string). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of the `api` class: refusals of an engine API call, the same on every engine. */
export type ApiErrorCode = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['class'] extends 'api' ? K : never }[ErrorCode];

/** Matches every error code in a retrier or catcher (ASL's `States.ALL`). */
export const ALL_ERRORS = 'States.ALL';

const TABLE = Object.entries(ERROR_CODES) as [ErrorCode, ErrorCodeInfo][];

/**
 * The fatal codes of the table: a failure with one of them fails the run. A map's tolerated
 * failure threshold does not absorb it (the map fails with the item's own error), a `States.ALL`
 * catcher does not catch it (a catcher naming the code does) and no retrier retries it.
 */
export const FATAL_CODES: readonly ErrorCode[] = TABLE.filter(([, info]) => info.fatal === true).map(([code]) => code);

/**
 * The `api` codes of the table, in table order (see {@link ApiErrorCode}).
 *
 * @example
 * ```ts
 * API_ERROR_CODES.includes('RunNotFound'); // true
 * ```
 */
export const API_ERROR_CODES: readonly ApiErrorCode[] = TABLE.filter(([, info]) => info.class === 'api').map(([code]) => code as ApiErrorCode);

/**
 * Whether a failure with this code fails the run (see {@link FATAL_CODES}).
 *
 * @example
 * ```ts
 * isFatalCode('ModelAccessDenied'); // true
 * isFatalCode('ThrottlingException'); // false
 * ```
 */
export function isFatalCode(code: string): boolean {
  return (FATAL_CODES as readonly string[]).includes(code);
}

/**
 * Codes that no retrier may retry, not even one naming them: the table's `retried: 'never'`
 * codes, the {@link FATAL_CODES} among them.
 */
export const NEVER_RETRIED: readonly string[] = TABLE.filter(([, info]) => info.retried === 'never' || info.fatal === true).map(([code]) => code);

/**
 * The class of a code from the table, or undefined for a code of a stage's own.
 *
 * @example
 * ```ts
 * errorClassOf('RunNotFound'); // 'api'
 * errorClassOf('ReportIncomplete'); // undefined
 * ```
 */
export function errorClassOf(code: string): ErrorClass | undefined {
  return (ERROR_CODES as Record<string, ErrorCodeInfo>)[code]?.class;
}

/**
 * Whether a code is one of the table's (a built-in code), narrowing it to {@link ErrorCode}.
 *
 * @example
 * ```ts
 * isErrorCode('GateNotOpen'); // true
 * ```
 */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

const BRAND = Symbol.for('baton.StageError');

/** The plain-data form of a {@link StageError} that crosses engine boundaries as JSON. */
export interface SerializedError {
  code: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

/**
 * The one error class of Baton. Throw it from a stage to choose how engines route the failure.
 *
 * @example
 * ```ts
 * throw new StageError('ValidationFailed', 'section has no citations', { details: issues });
 * ```
 */
export class StageError extends Error {
  /** The code that Retry and Catch match. */
  readonly code: string;
  /** Whether a retrier may retry this failure. */
  readonly retryable: boolean;
  /** Structured detail (zod issues, provider response), carried across engines untouched. */
  readonly details: unknown;
  declare readonly [BRAND]: true;

  constructor(code: string, message: string, options: { details?: unknown; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.retryable = options.retryable ?? defaultRetryable(code);
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }
}

/** Whether a code is retryable unless the thrower says otherwise. */
export function defaultRetryable(code: string): boolean {
  const known = (ERROR_CODES as Record<string, ErrorCodeInfo>)[code];
  return known ? known.retryable : !NEVER_RETRIED.includes(code);
}

/** Brand check that works across bundles, workers and realms (unlike `instanceof`). */
export function isStageError(value: unknown): value is StageError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Maps anything thrown to a {@link StageError}: a StageError stays, anything else is `StageFailed`. */
export function toStageError(error: unknown): StageError {
  if (isStageError(error)) return error;
  if (error instanceof Error) {
    if (error.name === 'AbortError' || error.name === 'TimeoutError') {
      return new StageError('States.Timeout', error.message, { cause: error });
    }
    return new StageError('StageFailed', `${error.name}: ${error.message}`, { cause: error });
  }
  return new StageError('StageFailed', `non-error thrown: ${safeString(error)}`);
}

/** Turns an error into plain JSON data with code, message, retryable and details intact. */
export function serializeError(error: unknown): SerializedError {
  const e = toStageError(error);
  // what is serialized is recorded (journal, registry, logs, dashboard, report): credentials a
  // provider or proxy echoed into its error text stop here
  const out: SerializedError = { code: e.code, message: scrubSecrets(e.message), retryable: e.retryable };
  if (e.details !== undefined) out.details = scrubValue(jsonSafe(e.details));
  return out;
}

/** Rebuilds a {@link StageError} from its serialized form. */
export function deserializeError(data: SerializedError): StageError {
  return new StageError(data.code, data.message, { details: data.details, retryable: data.retryable });
}

/** Whether a value has the shape of a {@link SerializedError}. */
export function isSerializedError(value: unknown): value is SerializedError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string' && typeof v.retryable === 'boolean';
}

function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return safeString(value);
  }
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
