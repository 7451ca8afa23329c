import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { FORBIDDEN, sampleNotice } from '../test-support/review-notice.js';
import { stageErrorOf } from '../test-support/stage-error.js';
import { createEventBridgeReviewNotifier } from './eventbridge.js';
import { createReviewNotifierFromEnv } from './from-env.js';
import { createSnsReviewNotifier } from './sns.js';

// Runs in the `moto` project: moto serves SNS, SQS and EventBridge on the same endpoint as S3.
const endpoint = inject('s3Endpoint');
const config = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const sns = new SNSClient(config);
const sqs = new SQSClient(config);
const events = new EventBridgeClient(config);
const dashboardUrl = 'https://baton.example.com';
const env = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: endpoint,
  BATON_DASHBOARD_URL: dashboardUrl,
  BATON_PIPELINE: 'report',
};
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const link = `${dashboardUrl}/reviews/${sampleNotice.runId}/${sampleNotice.gate}?token=${encodeURIComponent(sampleNotice.token)}`;

async function queue(): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: unique('reviews') }))).QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes!.QueueArn! };
}

/** Every message body on the queue (one long-poll round; moto delivers synchronously). */
async function bodies(url: string): Promise<string[]> {
  const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (res.Messages ?? []).map((m) => m.Body!);
}

describe('SNS review notifier on moto (topic -> SQS subscription)', () => {
  it('publishes a subject and a plain-text message with the link, and attributes that filter policies select on', async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: unique('baton-reviews') }))).TopicArn!;
    const [all, bobOnly] = [await queue(), await queue()];
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: all.arn }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: bobOnly.arn,
        Attributes: { FilterPolicy: JSON.stringify({ reviewer: ['bob@example.com'] }) },
      }),
    );

    const notifier = createReviewNotifierFromEnv({ env: { ...env, BATON_REVIEW_NOTIFIER: 'sns', BATON_REVIEW_TOPIC_ARN: topicArn } });
    expect(notifier.target).toBe(`SNS topic ${topicArn}`);
    await notifier(sampleNotice);

    const received = await bodies(all.url);
    expect(received).toHaveLength(1);
    const envelope = JSON.parse(received[0]!) as { Subject: string; Message: string; MessageAttributes: Record<string, { Type: string; Value: string }> };
    expect(envelope.Subject).toBe(`Review requested: medical-review of report run ${sampleNotice.runId}`);
    expect(envelope.Message).toContain('Assigned to:  alice@example.com');
    expect(envelope.Message).toContain(`Expires:      ${sampleNotice.expiresAt}`);
    expect(envelope.Message).toContain(link);
    expect(envelope.MessageAttributes).toEqual({
      runId: { Type: 'String', Value: sampleNotice.runId },
      gate: { Type: 'String', Value: 'medical-review' },
      reviewer: { Type: 'String', Value: 'alice@example.com' },
      pipeline: { Type: 'String', Value: 'report' },
    });
    for (const f of FORBIDDEN) expect(received[0]).not.toContain(f);
    expect(await bodies(bobOnly.url)).toEqual([]);
  });

  it('a topic that does not exist is a fatal ConfigurationError naming sns:Publish', async () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:no-such-topic';
    const e = await stageErrorOf(createSnsReviewNotifier({ topicArn, dashboardUrl, client: sns })(sampleNotice));
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { target: `SNS topic ${topicArn}`, action: 'sns:Publish' } });
  });

  it('an unreachable SNS is a retryable ServiceUnavailableException naming the topic', async () => {
    const dead = new SNSClient({ ...config, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const e = await stageErrorOf(createSnsReviewNotifier({ topicArn: 'arn:aws:sns:us-east-1:123456789012:t', dashboardUrl, client: dead })(sampleNotice));
    expect(e).toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    expect(e.message).toContain('was not delivered to SNS topic arn:aws:sns:us-east-1:123456789012:t');
  });
});

describe('EventBridge review notifier on moto (bus -> rule -> SQS target)', () => {
  it('puts a "Baton Review Requested" event that a rule routes to a queue', async () => {
    const bus = unique('baton-reviews');
    await events.send(new CreateEventBusCommand({ Name: bus }));
    const target = await queue();
    const rule = unique('to-queue');
    await events.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: bus,
        EventPattern: JSON.stringify({ source: ['baton'], 'detail-type': ['Baton Review Requested'], detail: { reviewer: ['alice@example.com'] } }),
      }),
    );
    await events.send(new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: 'queue', Arn: target.arn }] }));

    const notifier = createReviewNotifierFromEnv({ env: { ...env, BATON_REVIEW_NOTIFIER: 'eventbridge', BATON_REVIEW_EVENT_BUS: bus } });
    await notifier(sampleNotice);
    await createEventBridgeReviewNotifier({ eventBusName: bus, dashboardUrl, client: events })({ ...sampleNotice, reviewer: 'bob@example.com' });

    const received = await bodies(target.url);
    expect(received).toHaveLength(1);
    const event = JSON.parse(received[0]!) as { source: string; 'detail-type': string; detail: Record<string, unknown> };
    expect(event.source).toBe('baton');
    expect(event['detail-type']).toBe('Baton Review Requested');
    expect(event.detail).toEqual({
      pipeline: 'report',
      runId: sampleNotice.runId,
      gate: 'medical-review',
      stepPath: 'review',
      reviewer: 'alice@example.com',
      createdAt: sampleNotice.createdAt,
      expiresAt: sampleNotice.expiresAt,
      reviewUrl: link,
    });
    for (const f of FORBIDDEN) expect(received[0]).not.toContain(f);
  });

  it('an unreachable EventBridge is a retryable ServiceUnavailableException naming the bus', async () => {
    const dead = new EventBridgeClient({ ...config, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const e = await stageErrorOf(createEventBridgeReviewNotifier({ eventBusName: 'reviews', dashboardUrl, client: dead })(sampleNotice));
    expect(e).toMatchObject({ code: 'ServiceUnavailableException', retryable: true, details: { target: 'EventBridge bus reviews' } });
  });
});
