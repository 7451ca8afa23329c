import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ExecutionStatusChangeEvent } from '@baton/adapter-stepfunctions';
import { createJsonLogger } from '@baton/core';
import { describe, expect, inject, it } from 'vitest';
import { createDeadLetterLambda } from './dead-letter-lambda.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:report:run-7';
const endpoint = inject('motoEndpoint');
const aws = { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
const sqs = new SQSClient({ region: 'eu-west-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

const statusEvent = (status: ExecutionStatusChangeEvent['detail']['status'], error: string | null, cause: string | null): ExecutionStatusChangeEvent => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '123456789012',
  time: '2026-12-04T10:00:00Z',
  region: 'eu-west-1',
  resources: [ARN],
  detail: {
    executionArn: ARN,
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:report',
    name: 'run-7',
    status,
    startDate: Date.parse('2026-12-04T09:59:00Z'),
    stopDate: Date.parse('2026-12-04T10:00:00Z'),
    input: JSON.stringify({ reportId: 'R-7' }),
    output: null,
    error,
    cause,
  },
});

/** The history of a run whose section 3 ran out of retries in generate (the map then failed). */
const at = (s: number) => new Date(Date.parse('2026-12-04T09:59:00Z') + s * 1000);
const scheduled = (id: number, attempt: number): HistoryEvent => ({
  id,
  previousEventId: id - 1,
  timestamp: at(id),
  type: 'TaskScheduled',
  taskScheduledEventDetails: {
    resource: 'invoke',
    resourceType: 'lambda',
    region: 'eu-west-1',
    parameters: JSON.stringify({
      FunctionName: 'fn-generate',
      Payload: { stage: 'generate', stepPath: 'sections[3]/generate', executionId: ARN, retryCount: attempt - 1 },
    }),
  },
});
const history: HistoryEvent[] = [
  { id: 1, timestamp: at(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
  { id: 2, previousEventId: 1, timestamp: at(1), type: 'MapStateEntered', stateEnteredEventDetails: { name: 'sections' } },
  { id: 3, previousEventId: 2, timestamp: at(2), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'generate' } },
  scheduled(4, 1),
  { id: 5, previousEventId: 4, timestamp: at(5), type: 'TaskStarted', taskStartedEventDetails: { resource: 'invoke', resourceType: 'lambda' } },
  {
    id: 6,
    previousEventId: 5,
    timestamp: at(6),
    type: 'TaskFailed',
    taskFailedEventDetails: {
      resource: 'invoke',
      resourceType: 'lambda',
      error: 'ThrottlingException',
      cause: '{"errorType":"ThrottlingException","errorMessage":"{\\"code\\":\\"ThrottlingException\\",\\"message\\":\\"slow down\\",\\"retryable\\":true}"}',
    },
  },
  { id: 7, previousEventId: 6, timestamp: at(7), type: 'MapStateFailed' },
  { id: 8, previousEventId: 7, timestamp: at(8), type: 'ExecutionFailed', executionFailedEventDetails: { error: 'ThrottlingException', cause: 'slow down' } },
];

describe('createDeadLetterLambda', () => {
  it("sends a failed run's context, with the step path of its last failed attempt, to the queue on moto", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `dead-letters-${Date.now()}` }));
    const lines: Record<string, unknown>[] = [];
    const handler = createDeadLetterLambda({
      env: { ...aws, BATON_PIPELINE: 'report', BATON_DEAD_LETTER_QUEUE_URL: QueueUrl! },
      history: async (arn) => (arn === ARN ? history : []),
      logger: createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });
    expect(await handler(statusEvent('RUNNING', null, null))).toBeNull();
    await handler(statusEvent('FAILED', 'ThrottlingException', 'slow down'));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages![0]!.Body!)).toEqual({
      runId: 'run-7',
      executionArn: ARN,
      failedStep: 'sections[3]/generate',
      error: 'ThrottlingException',
      cause: 'slow down',
      input: { reportId: 'R-7' },
      startedAt: '2026-12-04T09:59:00.000Z',
      status: 'FAILED',
      redriveCount: 0,
    });
    for (const l of lines) expect(l).toMatchObject({ executionArn: ARN, attempt: 1 });
  });

  it('a timed-out execution names the timeout; no queue configured is a ConfigurationError, thrown so EventBridge retries', async () => {
    const sent: string[] = [];
    const handler = createDeadLetterLambda({
      env: { BATON_DEAD_LETTER_QUEUE_URL: 'q' },
      history: async () => history.slice(0, 3),
      send: async (_q, body) => void sent.push(body),
    });
    expect(await handler(statusEvent('TIMED_OUT', null, null))).toMatchObject({ error: 'States.Timeout', failedStep: 'generate' });
    const broken = createDeadLetterLambda({
      env: {},
      history: async () => history,
      send: async () => undefined,
      logger: createJsonLogger({ write: () => undefined }),
    });
    const e = await broken(statusEvent('FAILED', 'X', 'y')).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(e?.name).toBe('ConfigurationError');
    expect(e?.message).toMatch(/BATON_DEAD_LETTER_QUEUE_URL is not set/);
  });
});
