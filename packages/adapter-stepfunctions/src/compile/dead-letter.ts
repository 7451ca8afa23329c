import { ALL_ERRORS } from '@baton/core';
import type { AslState } from './types.js';

/** Name of the state that sends a failed run's context to the dead-letter queue. */
export const DEAD_LETTER_STATE = 'Baton.DeadLetter';
/** Name of the state that ends a dead-lettered run, failed with its original error. */
export const FAILED_STATE = 'Baton.Failed';

/** The message a failed run leaves on the dead-letter queue (the SQS message body, as JSON). */
export interface DeadLetterMessage {
  runId: string;
  executionArn: string;
  /** The top-level state that failed (a map or parallel for a failure inside it). */
  failedStep: string;
  /** Step Functions' error name: the Baton error code. */
  error: string;
  /** Step Functions' cause: for a stage Lambda, the runtime's envelope (decode with `errorFromCause(error, cause)`). */
  cause: string;
  /** The run input. */
  input: unknown;
  startedAt: string;
}

/** Options of {@link routeFailuresToDeadLetter}. */
export interface DeadLetterOptions {
  /** URL of the SQS queue (or a `${…}` definition substitution) that receives failed runs. */
  queueUrl: string;
}

/**
 * Routes every way a run can fail at the top level through one SQS `sendMessage` before the
 * execution ends failed, so an operator finds each failed run's context on the dead-letter queue:
 * run id, execution ARN, the top-level step that failed, Step Functions' error and cause (for a
 * stage Lambda the cause is the runtime's envelope, decoded by `errorFromCause`), the run input
 * and its start time.
 *
 * - A top-level Task, Map or Parallel without a final `States.ALL` catcher gets one, to a Pass
 *   naming the step; errors inside maps and branches reach it through their parent state.
 * - A top-level Fail state (an IR `fail`, a map over its tolerated failures, an approval that timed
 *   out) becomes a Pass carrying its error and cause, then the same route.
 * - The run then ends in one Fail state with `ErrorPath`/`CausePath`: the execution fails with the
 *   original error, as without the queue. A failure to send is retried three times; if it still
 *   fails the run ends failed with its own error all the same.
 *
 * Successful runs cross none of these states (no transitions added); a failed run pays three.
 */
export function routeFailuresToDeadLetter(states: Record<string, AslState>, options: DeadLetterOptions): Record<string, AslState> {
  const out: Record<string, AslState> = {};
  const routeOf = (name: string): string => `${name}.deadLetter`;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Fail') {
      out[name] = failureAsPass(name, state);
      continue;
    }
    out[name] = state;
    if (!['Task', 'Map', 'Parallel'].includes(state.Type)) continue;
    const catchers = (state.Catch as { ErrorEquals: string[] }[] | undefined) ?? [];
    if (catchers.some((c) => c.ErrorEquals.includes(ALL_ERRORS))) continue;
    out[name] = { ...state, Catch: [...catchers, { ErrorEquals: [ALL_ERRORS], Next: routeOf(name) }] };
    out[routeOf(name)] = { Type: 'Pass', Parameters: { step: name, 'Error.$': '$.Error', 'Cause.$': '$.Cause' }, Next: DEAD_LETTER_STATE };
  }
  out[DEAD_LETTER_STATE] = {
    Type: 'Task',
    Resource: 'arn:aws:states:::sqs:sendMessage',
    Parameters: {
      QueueUrl: options.queueUrl,
      MessageBody: {
        'runId.$': '$$.Execution.Name',
        'executionArn.$': '$$.Execution.Id',
        'failedStep.$': '$.step',
        'error.$': '$.Error',
        'cause.$': '$.Cause',
        'input.$': '$$.Execution.Input',
        'startedAt.$': '$$.Execution.StartTime',
      },
    },
    ResultPath: null,
    Retry: [{ ErrorEquals: [ALL_ERRORS], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' }],
    Catch: [{ ErrorEquals: [ALL_ERRORS], ResultPath: '$.deadLetterError', Next: FAILED_STATE }],
    Next: FAILED_STATE,
  };
  out[FAILED_STATE] = { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' };
  return out;
}

/** A top-level Fail state as a Pass that carries its error and cause to the dead-letter route. */
function failureAsPass(name: string, fail: AslState): AslState {
  // `<step>.fatal` re-raises the step's own fatal error: the step is what failed
  const step = name.endsWith('.fatal') ? name.slice(0, -'.fatal'.length) : name;
  const error = fail.ErrorPath === undefined ? { Error: fail.Error ?? 'States.Failed' } : { 'Error.$': fail.ErrorPath };
  const cause = fail.CausePath === undefined ? { Cause: fail.Cause ?? '' } : { 'Cause.$': fail.CausePath };
  return { Type: 'Pass', ...(fail.Comment === undefined ? {} : { Comment: fail.Comment }), Parameters: { step, ...error, ...cause }, Next: DEAD_LETTER_STATE };
}
