import type { FakeExecution, WireEvent } from './fake-sfn.js';

const REGION = 'eu-west-1';
const FUNCTION = (stage: string): string => `arn:aws:lambda:${REGION}:123456789012:function:report-${stage}`;

/** How a scripted Lambda task ends. */
export type TaskEnd = { output: unknown } | { error: string; cause: string } | { timedOut: true } | 'open';

/**
 * Writes Step Functions history events, in AWS's shapes, into a fake execution: one chain per
 * branch (`previousEventId` follows the branch, as the service records it), a clock in seconds.
 */
export class HistoryWriter {
  constructor(
    readonly execution: FakeExecution,
    public clock = execution.startDate,
  ) {}

  /** Appends an event after `prev` and returns its id. */
  add(type: string, details: Record<string, unknown>, prev?: number): number {
    const id = this.execution.events.length + 1;
    this.execution.events.push({
      id,
      ...(prev === undefined ? { previousEventId: id - 1 } : { previousEventId: prev }),
      timestamp: this.clock,
      type,
      ...details,
    } as WireEvent);
    return id;
  }

  /** Advances the clock by `seconds`. */
  tick(seconds: number): this {
    this.clock += seconds;
    return this;
  }

  started(): number {
    return this.add(
      'ExecutionStarted',
      {
        executionStartedEventDetails: {
          input: this.execution.input,
          inputDetails: { truncated: false },
          roleArn: 'arn:aws:iam::123456789012:role/report-machine',
        },
      },
      0,
    );
  }

  /**
   * One attempt of a `lambda:invoke` Task of a stage (TaskScheduled with the Lambda Payload as
   * Baton compiles it, TaskStarted, and its end): returns the last event id of the chain.
   */
  stageAttempt(
    prev: number,
    p: { state: string; stage: string; stepPath: string; retryCount?: number; retry?: unknown; end: TaskEnd; enter?: boolean },
  ): number {
    let last =
      p.enter === false
        ? prev
        : this.add('TaskStateEntered', { stateEnteredEventDetails: { name: p.state, input: '{}', inputDetails: { truncated: false } } }, prev);
    const payload = {
      stage: p.stage,
      stepPath: p.stepPath,
      executionId: this.execution.executionArn,
      retryCount: p.retryCount ?? 0,
      ...(p.retry ? { retry: p.retry } : {}),
      input: {},
    };
    last = this.add(
      'TaskScheduled',
      {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: REGION,
          parameters: JSON.stringify({ FunctionName: FUNCTION(p.stage), Payload: payload }),
          timeoutInSeconds: 130,
        },
      },
      last,
    );
    last = this.add('TaskStarted', { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' } }, last);
    return this.end(last, p.end);
  }

  /** Ends a started task (`prev` is its TaskStarted or a later event of its chain). */
  end(prev: number, end: TaskEnd): number {
    if (end === 'open') return prev;
    if ('output' in end) {
      const output = JSON.stringify({ ExecutedVersion: '$LATEST', Payload: end.output, SdkHttpMetadata: { httpStatusCode: 200 }, StatusCode: 200 });
      return this.add(
        'TaskSucceeded',
        { taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output, outputDetails: { truncated: false } } },
        prev,
      );
    }
    if ('timedOut' in end)
      return this.add('TaskTimedOut', { taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout' } }, prev);
    return this.add('TaskFailed', { taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: end.error, cause: end.cause } }, prev);
  }

  /** An approval gate's `lambda:invoke.waitForTaskToken` Task, left waiting: returns its TaskStarted id. */
  gate(prev: number, p: { state: string; gate: string; stepPath: string; taskToken: string }): number {
    const entered = this.add('TaskStateEntered', { stateEnteredEventDetails: { name: p.state, input: '{}', inputDetails: { truncated: false } } }, prev);
    const payload = {
      taskToken: p.taskToken,
      executionId: this.execution.executionArn,
      gate: p.gate,
      stepPath: p.stepPath,
      timeoutSeconds: 86400,
      payload: {},
    };
    const scheduled = this.add(
      'TaskScheduled',
      {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          region: REGION,
          parameters: JSON.stringify({ FunctionName: FUNCTION('review-gate'), Payload: payload }),
          timeoutInSeconds: 86400,
        },
      },
      entered,
    );
    return this.add('TaskStarted', { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' } }, scheduled);
  }

  exited(prev: number, state: string, type = 'TaskStateExited'): number {
    return this.add(type, { stateExitedEventDetails: { name: state, output: '{}', outputDetails: { truncated: false } } }, prev);
  }

  succeed(prev: number, output: unknown): void {
    this.execution.status = 'SUCCEEDED';
    this.execution.output = JSON.stringify(output);
    this.execution.stopDate = this.clock;
    this.add('ExecutionSucceeded', { executionSucceededEventDetails: { output: this.execution.output, outputDetails: { truncated: false } } }, prev);
  }

  fail(prev: number, error: string, cause: string): void {
    this.execution.status = 'FAILED';
    this.execution.error = error;
    this.execution.cause = cause;
    this.execution.stopDate = this.clock;
    this.add('ExecutionFailed', { executionFailedEventDetails: { error, cause } }, prev);
  }
}

/** The Lambda runtime's cause for a Baton stage error, as Step Functions reports it in TaskFailed. */
export function lambdaFailure(code: string, message: string, retryable: boolean): { error: string; cause: string } {
  return {
    error: code,
    cause: JSON.stringify({
      errorType: code,
      errorMessage: JSON.stringify({ code, message, retryable }),
      trace: ['Error: ...', '    at handler (/var/task/index.mjs:1:1)'],
    }),
  };
}
