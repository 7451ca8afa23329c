/**
 * An error of the Step Functions API, answered as awsJson1.0 clients read it: HTTP 400 and
 * `{ "__type": "com.amazonaws.swf.service.v2.model#<code>", "message" }`, so the SDK throws an
 * error named `<code>` (ExecutionAlreadyExists, TaskTimedOut, InvalidToken...).
 */
export class SfnApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }

  /** The JSON body of the error response. */
  body(): { __type: string; message: string } {
    return { __type: `com.amazonaws.swf.service.v2.model#${this.code}`, message: this.message };
  }
}

/** A Task failure as the state machine sees it: `name` is the ASL error, `message` its cause. */
export function taskError(error: string, cause: string, options: { retryable?: boolean } = {}): Error {
  const e = new Error(cause);
  e.name = error;
  // aws-local-stepfunctions reads these (RuntimeError's getters) to decide Retry and Catch
  if (options.retryable === false) Object.defineProperty(e, 'isRetryable', { value: false });
  return e;
}
