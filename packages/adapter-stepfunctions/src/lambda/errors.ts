import { type SerializedError } from '@baton/core';
import { defaultRetryable, isErrorCode, isSerializedError } from '@baton/core/engine';

/**
 * The error a Baton Lambda throws: `name` is the StageError code (what Retry and Catch match),
 * `message` the JSON of the serialized error, which the compiled machine parses back into
 * `{ code, message, retryable, details }`.
 */
export function toLambdaError(error: SerializedError): Error {
  const e = new Error(JSON.stringify(error));
  e.name = error.code;
  return e;
}

/**
 * The `Cause` Step Functions reports for a Lambda that threw: the Node.js runtime's
 * `{ errorType, errorMessage, trace }` as a JSON string. The local engine wraps handler errors in
 * it so that the compiled machine parses the same shape locally and in AWS.
 */
export function lambdaCause(error: Error): string {
  return JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: [] });
}

/**
 * Recovers Baton's error from a Step Functions `{ Error, Cause }`: a Lambda envelope, a direct
 * serialized error (SendTaskFailure from Baton's review API), or a bare error and cause (a Fail
 * state's, a task timeout's, a Lambda's crash text). A bare error with a code of the table is
 * retryable as the table says (`States.Timeout`); any other (a `fail` step's own code, as in
 * Baton's interpreter, or `Sandbox.Timedout`) is not retryable.
 */
export function errorFromCause(name: string, cause: unknown): SerializedError {
  const parsed = parse(cause);
  if (isSerializedError(parsed)) return parsed;
  if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) {
    const inner = parse((parsed as { errorMessage: unknown }).errorMessage);
    if (isSerializedError(inner)) return inner;
    return { code: name, message: String((parsed as { errorMessage: unknown }).errorMessage), retryable: false };
  }
  return { code: name, message: typeof cause === 'string' ? cause : JSON.stringify(cause ?? ''), retryable: isErrorCode(name) && defaultRetryable(name) };
}

function parse(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}
