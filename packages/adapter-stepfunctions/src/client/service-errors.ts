import { StageError, type ErrorCode } from '@baton/core';

/**
 * The Baton code each Step Functions API error becomes when the engine cannot say more at the
 * call site (where it can, it throws core's `apiError`: `RunNotFound`, `GateNotOpen`, …, as every
 * engine does). An unknown execution is `RunNotFound`, one that cannot be redriven
 * `RunNotRedrivable`, a task token no longer awaited `GateNotOpen`, any other refused request
 * `InvalidInput`; what the deployment must fix
 * (the machine is gone, IAM refuses the caller) is `ConfigurationError`; what passes with time is
 * `ServiceUnavailableException`. The AWS error name stays in `details.awsError`.
 *
 * @example
 * ```ts
 * SFN_API_ERRORS.ExecutionNotRedrivable; // 'RunNotRedrivable'
 * ```
 */
export const SFN_API_ERRORS = {
  ExecutionDoesNotExist: 'RunNotFound',
  ExecutionAlreadyExists: 'InvalidInput',
  ExecutionNotRedrivable: 'RunNotRedrivable',
  InvalidArn: 'InvalidInput',
  InvalidName: 'InvalidInput',
  InvalidExecutionInput: 'InvalidInput',
  InvalidOutput: 'InvalidInput',
  InvalidToken: 'InvalidInput',
  TaskDoesNotExist: 'GateNotOpen',
  TaskTimedOut: 'GateNotOpen',
  ValidationException: 'InvalidInput',
  MissingRequiredParameter: 'InvalidInput',
  StateMachineDoesNotExist: 'ConfigurationError',
  StateMachineDeleting: 'ConfigurationError',
  AccessDeniedException: 'ConfigurationError',
  UnrecognizedClientException: 'ConfigurationError',
  InvalidSignatureException: 'ConfigurationError',
  KmsAccessDeniedException: 'ConfigurationError',
  KmsInvalidStateException: 'ConfigurationError',
  ExecutionLimitExceeded: 'ServiceUnavailableException',
  ThrottlingException: 'ServiceUnavailableException',
  KmsThrottlingException: 'ServiceUnavailableException',
  CredentialsProviderError: 'ConfigurationError',
} as const satisfies Record<string, ErrorCode>;

/** Node's socket errors: the endpoint (AWS or `AWS_ENDPOINT_URL_SFN`) did not answer. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** The AWS error name of a thrown SDK error (`ExecutionDoesNotExist`), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string' ? (error as { name: string }).name : undefined;
}

/**
 * A Step Functions API failure as a Baton error: coded by {@link SFN_API_ERRORS}, an unreachable
 * endpoint or a server fault `ServiceUnavailableException`, anything else `StageFailed`; the
 * message says what was being done.
 *
 * @example
 * ```ts
 * await client.send(new DescribeExecutionCommand({ executionArn })).catch((e: unknown) => {
 *   throw sfnApiError(e, `DescribeExecution of ${executionArn}`);
 * });
 * ```
 */
export function sfnApiError(error: unknown, doing: string): StageError {
  const name = awsErrorName(error) ?? 'Error';
  const message = (error as Error | undefined)?.message ?? String(error);
  const known = (SFN_API_ERRORS as Record<string, ErrorCode>)[name];
  const errno = (error as { code?: unknown } | undefined)?.code;
  const fault = (error as { $fault?: unknown } | undefined)?.$fault;
  const noRegion = /region is missing/i.test(message);
  const code: ErrorCode =
    known ??
    (noRegion
      ? 'ConfigurationError'
      : typeof errno === 'string' && UNREACHABLE.has(errno)
        ? 'ServiceUnavailableException'
        : fault === 'server'
          ? 'ServiceUnavailableException'
          : 'StageFailed');
  const hint = noRegion
    ? ' (set AWS_REGION)'
    : name === 'CredentialsProviderError'
      ? ' (no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)'
      : code === 'ServiceUnavailableException' && !known
        ? ' (Step Functions did not answer: check the region, the network and AWS_ENDPOINT_URL_SFN)'
        : '';
  return new StageError(code, `${doing} failed: ${name}: ${message}${hint}`, { details: { awsError: name }, cause: error });
}

/**
 * Why a run id cannot be a Step Functions execution name, or undefined when it can: 1 to 80
 * characters, none of whitespace, the backtick, `< > { } [ ] ? * " # % \ ^ | ~ $ & , ; : /` or control
 * characters (AWS's rules for StartExecution's `name`).
 *
 * @example
 * ```ts
 * executionNameProblem('report-2026-01'); // undefined
 * executionNameProblem('a b');            // 'contains whitespace'
 * ```
 */
export function executionNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 80) return `is ${name.length} characters long (1 to 80)`;
  if (/\s/.test(name)) return 'contains whitespace';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains a control character';
  const bad = /[<>{}[\]?*"#%\\^|~`$&,;:/]/.exec(name);
  return bad ? `contains "${bad[0]}"` : undefined;
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>` → the ARN of its execution `<runId>`. */
export function executionArnOf(stateMachineArn: string, runId: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length < 7 || parts[5] !== 'stateMachine')
    throw new StageError('ConfigurationError', `"${stateMachineArn}" is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
  return [...parts.slice(0, 5), 'execution', parts[6], runId].join(':');
}

/** The name of a state machine (the last part of its ARN, before any version or alias). */
export function stateMachineNameOf(stateMachineArn: string): string {
  return stateMachineArn.split(':')[6] ?? stateMachineArn;
}
