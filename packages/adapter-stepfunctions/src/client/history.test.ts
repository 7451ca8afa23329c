import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { readHistory } from './history.js';

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:report-generate';

describe('readHistory', () => {
  it('reads function-ARN Tasks (LambdaFunction* events), timeouts, and attempts abandoned when the execution ended', () => {
    const payload = (retryCount: number): string => JSON.stringify({ stage: 'generate', stepPath: 'generate', executionId: 'x', retryCount, input: {} });
    const events: HistoryEvent[] = [
      { id: 1, timestamp: at(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
      { id: 2, previousEventId: 1, timestamp: at(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'generate' } },
      {
        id: 3,
        previousEventId: 2,
        timestamp: at(1),
        type: 'LambdaFunctionScheduled',
        lambdaFunctionScheduledEventDetails: { resource: FN, input: payload(0), timeoutInSeconds: 130 },
      },
      { id: 4, previousEventId: 3, timestamp: at(1), type: 'LambdaFunctionStarted' },
      { id: 5, previousEventId: 4, timestamp: at(131), type: 'LambdaFunctionTimedOut', lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout' } },
      {
        id: 6,
        previousEventId: 5,
        timestamp: at(133),
        type: 'LambdaFunctionScheduled',
        lambdaFunctionScheduledEventDetails: { resource: FN, input: payload(1), timeoutInSeconds: 130 },
      },
      { id: 7, previousEventId: 6, timestamp: at(134), type: 'LambdaFunctionStarted' },
      { id: 8, previousEventId: 1, timestamp: at(135), type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Stopped', cause: 'by an operator' } },
    ];
    const running = readHistory(events.slice(0, 7), { ended: false, retryOf: () => [{ errors: ['States.Timeout'], intervalMs: 2000, maxAttempts: 2 }] });
    expect(running.attempts).toEqual([
      {
        stepPath: 'generate',
        attempt: 1,
        status: 'failed',
        startedAt: at(1).toISOString(),
        finishedAt: at(131).toISOString(),
        error: { code: 'States.Timeout', message: 'the task timed out', retryable: true },
      },
      { stepPath: 'generate', attempt: 2, status: 'running', startedAt: at(134).toISOString() },
    ]);
    expect(running.retries).toEqual([{ stepPath: 'generate', attempt: 1, code: 'States.Timeout', delayMs: 2000, maxDelayMs: 2000 }]);
    expect(running.currentSteps).toEqual(['generate']);
    // redriven: the attempt cut short by the end of the first execution attempt stays failed, the new one runs
    const redriven = readHistory(
      [
        ...events,
        { id: 9, previousEventId: 8, timestamp: at(200), type: 'ExecutionRedriven', executionRedrivenEventDetails: { redriveCount: 1 } },
        {
          id: 10,
          previousEventId: 9,
          timestamp: at(201),
          type: 'LambdaFunctionScheduled',
          lambdaFunctionScheduledEventDetails: { resource: FN, input: payload(0) },
        },
      ],
      { ended: false, retryOf: () => [] },
    );
    expect(redriven.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'States.Timeout'],
      [2, 'failed', 'States.Aborted'],
      [1, 'running', undefined],
    ]);
    expect(redriven.currentSteps).toEqual(['generate']);
    const ended = readHistory(events, { ended: true, retryOf: () => [] });
    expect(ended.currentSteps).toEqual([]);
    expect(ended.attempts[1]).toMatchObject({ status: 'failed', error: { code: 'States.Aborted' } });
    expect(ended.lastEventAt).toBe(at(135).toISOString());
  });

  it('ignores Tasks Baton did not compile (the dead-letter sqs:sendMessage) and counts a Lambda service retry by its own retrier', () => {
    const invoke = (id: number, prev: number, s: number, retryCount: number): HistoryEvent => ({
      id,
      previousEventId: prev,
      timestamp: at(s),
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        region: 'eu-west-1',
        parameters: JSON.stringify({ FunctionName: FN, Payload: { stage: 'plan', stepPath: 'plan', retryCount } }),
      },
    });
    const events: HistoryEvent[] = [
      invoke(1, 0, 0, 0),
      {
        id: 2,
        previousEventId: 1,
        timestamp: at(0),
        type: 'TaskStartFailed',
        taskStartFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'Lambda.ServiceException', cause: 'Rate exceeded' },
      },
      invoke(3, 2, 1, 1),
      {
        id: 4,
        previousEventId: 3,
        timestamp: at(2),
        type: 'TaskSucceeded',
        taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: '{"Payload":{}}' },
      },
      {
        id: 5,
        previousEventId: 4,
        timestamp: at(3),
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'sqs',
          resource: 'sendMessage',
          region: 'eu-west-1',
          parameters: '{"QueueUrl":"q","MessageBody":{"stepPath":"x","stage":"y"}}',
        },
      },
    ];
    const view = readHistory(events, { ended: false, retryOf: () => [] });
    expect(view.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'Lambda.ServiceException'],
      [2, 'succeeded', undefined],
    ]);
    expect(view.retries).toEqual([{ stepPath: 'plan', attempt: 1, code: 'Lambda.ServiceException', delayMs: 1000, maxDelayMs: 1000 }]);
    expect(view.currentSteps).toEqual([]);
  });
});
