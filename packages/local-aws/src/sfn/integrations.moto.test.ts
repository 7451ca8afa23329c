import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateStateMachineCommand, RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { definePipeline, type AnyPipeline } from '@baton/core';
import { conformancePipelines, createProbeDir } from '@baton/core/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROLE_ARN, startHarness, type Harness } from '../test-support/harness.js';

const credentials = { accessKeyId: 'AKIDSQS', secretAccessKey: 'x' };
let h: Harness;
let sqs: SQSClient;

beforeAll(async () => {
  h = await startHarness({ endpoints: { sqs: inject('motoEndpoint') } });
  sqs = new SQSClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials });
});
afterAll(async () => {
  await h?.close();
});

const receive = async (queueUrl: string) => {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
};

describe('sqs:sendMessage on moto', () => {
  it('sends a failed run to the dead-letter queue of a compiled machine, then fails with the original error', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'baton-dead-letters' }));
    const exhausted = conformancePipelines.find((p) => p.name === 'kit-retry')!;
    const flaky = [...exhausted.stages.values()][0]!;
    const pipeline: AnyPipeline = definePipeline({ name: 'always-throttled', version: 1, ...(exhausted.input ? { input: exhausted.input } : {}) })
      .task('flaky', flaky, {
        input: { 'probe.$': '$.probe', failTimes: 99, code: 'ThrottlingException' },
        retry: [{ errors: ['ThrottlingException'], intervalMs: 1000, maxAttempts: 1 }],
        resultPath: '$.flaky',
      })
      .build();
    const sm = await h.deploy(pipeline, { deadLetter: { queueUrl: QueueUrl! } });
    const input = { probe: createProbeDir() };
    const arn = await h.start(sm, input, 'throttled-1');
    const done = await h.settled(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ThrottlingException' });
    const [message] = await receive(QueueUrl!);
    expect(message).toMatchObject({ runId: 'throttled-1', executionArn: arn, failedStep: 'flaky', error: 'ThrottlingException', input });
    const sent = (await h.history(arn)).find((e) => e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.resourceType === 'sqs')!;
    expect(sent.taskSucceededEventDetails).toMatchObject({ resource: 'sendMessage' });
    expect(JSON.parse(sent.taskSucceededEventDetails!.output!)).toMatchObject({
      MessageId: expect.any(String),
      MD5OfMessageBody: expect.any(String),
      SdkHttpMetadata: { HttpStatusCode: 200 },
    });
    // a redrive restarts from the failed state, the Fail state after the dead-letter route: the
    // message is not sent again, and the execution fails again with the same error
    const before = (await h.history(arn)).length;
    await h.client.send(new RedriveExecutionCommand({ executionArn: arn }));
    expect(await h.settled(arn)).toMatchObject({ status: 'FAILED', error: 'ThrottlingException', redriveCount: 1 });
    expect((await h.history(arn)).slice(before).map((e) => e.type)).toEqual(['ExecutionRedriven', 'FailStateEntered', 'ExecutionFailed']);
    expect(await receive(QueueUrl!)).toEqual([]);
  });

  it("reports a queue that does not exist as the integration's error", async () => {
    const definition = {
      StartAt: 'send',
      States: {
        send: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage',
          Parameters: { QueueUrl: `${inject('motoEndpoint')}/000000000000/missing`, MessageBody: 'hi' },
          End: true,
        },
      },
    };
    const { stateMachineArn } = await h.client.send(
      new CreateStateMachineCommand({ name: 'send-to-nowhere', definition: JSON.stringify(definition), roleArn: ROLE_ARN }),
    );
    const done = await h.settled(await h.start(stateMachineArn!, {}));
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('SQS.QueueDoesNotExistException');
    expect(done.cause).toMatch(/\(Service: AmazonSQS; Status Code: 400; Error Code: .*QueueDoesNotExist.*; Request ID: .*\)$/);
  });
});
