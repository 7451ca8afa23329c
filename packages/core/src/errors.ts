import { scrubSecrets, scrubValue } from './scrub.js';

/**
 * The error taxonomy shared by every engine. A code is the string that Retry and Catch match:
 * the ASL error name on Step Functions, the ApplicationFailure type on Temporal, the failure
 * reason on BullMQ. A `fatal` code fails the run: no retrier retries it, a map's tolerated
 * failures do not absorb it, and a `States.ALL` catcher does not catch it (a catcher naming it does).
 */
export const ERROR_CODES = {
  /** The model provider throttled the call. Retried with jittered backoff. */
  ThrottlingException: { retryable: true },
  /** The model provider failed while producing the answer. Retryable. */
  ModelErrorException: { retryable: true },
  /** The model provider or another dependency was unavailable. Retryable. */
  ServiceUnavailableException: { retryable: true },
  /** Output did not pass schema or rule validation. Not retried as such: routed to repair. */
  ValidationFailed: { retryable: false },
  /** Output matched a safety denylist. Never retried automatically: goes to a human. */
  SafetyCheckFailed: { retryable: false },
  /** The input of a run or a stage did not match its schema. Never retried. */
  InvalidInput: { retryable: false },
  /** A reviewer rejected an approval gate. Catchable. */
  ApprovalRejected: { retryable: false },
  /** Nobody decided an approval gate before its timeout. Catchable. */
  ApprovalTimedOut: { retryable: false },
  /** A stage ran longer than its timeout. Same name as the ASL error. */
  'States.Timeout': { retryable: true },
  /** A data path did not resolve, or the pipeline could not be interpreted. Same name as in ASL. */
  'States.Runtime': { retryable: false },
  /** A map had more failed items than it tolerates. Same name as in ASL. */
  'States.ExceedToleratedFailureThreshold': { retryable: false },
  /** Anything a stage threw that is not classified. */
  StageFailed: { retryable: true },
  /**
   * The model provider refused the credentials or the permission (no IAM permission on the model
   * id, an invalid API key). Every later call would be refused too: fatal.
   */
  ModelAccessDenied: { retryable: false, fatal: true },
  /**
   * The deployment is misconfigured: no model configured, a secret missing, an essential database
   * unreachable. Nothing in the run can mend it: fatal.
   */
  ConfigurationError: { retryable: false, fatal: true },
} as const satisfies Record<string, ErrorCodeInfo>;

/** What the code table says of a code. */
export interface ErrorCodeInfo {
  /** Whether a retrier may retry it unless the thrower says otherwise. */
  retryable: boolean;
  /** Whether it fails the run whatever catches or tolerates failures (see {@link isFatalCode}). */
  fatal?: boolean;
}

/** A built-in error code. Stages may also throw codes of their own (any string). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Matches every error code in a retrier or catcher (ASL's `States.ALL`). */
export const ALL_ERRORS = 'States.ALL';

/**
 * The fatal codes of the table: a failure with one of them fails the run. A map's tolerated
 * failure threshold does not absorb it (the map fails with the item's own error), a `States.ALL`
 * catcher does not catch it (a catcher naming the code does) and no retrier retries it.
 */
export const FATAL_CODES: readonly ErrorCode[] = (Object.entries(ERROR_CODES) as [ErrorCode, ErrorCodeInfo][])
  .filter(([, info]) => info.fatal === true)
  .map(([code]) => code);

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

/** Codes that no retrier may retry, not even one naming them: these and the {@link FATAL_CODES}. */
export const NEVER_RETRIED: readonly string[] = [
  'SafetyCheckFailed',
  'InvalidInput',
  'ApprovalRejected',
  'ApprovalTimedOut',
  'States.Runtime',
  'States.ExceedToleratedFailureThreshold',
  ...FATAL_CODES,
];

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
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
