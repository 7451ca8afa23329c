import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { Env } from '../env.js';

/** The AWS side of a rehearsal on moto: an environment for the functions and the set-up calls. */
export interface MotoAccount {
  /** Region, credentials and `AWS_ENDPOINT_URL` of moto: what every function's environment starts with. */
  env: Env;
  s3: S3Client;
  createBucket(): Promise<string>;
  createSecret(value: string): Promise<string>;
  /** An SNS topic with an SQS queue subscribed (raw delivery off: the body is SNS's envelope). */
  createTopicWithQueue(): Promise<{ topicArn: string; queueUrl: string }>;
  /** Waits up to `timeoutMs` for the queue's next message and returns the SNS message it carries. */
  receiveNotice(queueUrl: string, timeoutMs?: number): Promise<{ subject?: string; message: string; attributes: Record<string, string> }>;
}

/** Clients on a moto server with fixed test credentials (moto accepts any). */
export function motoAccount(endpoint: string): MotoAccount {
  const config = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const secrets = new SecretsManagerClient(config);
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  const name = (kind: string): string => `baton-${kind}-${randomUUID().slice(0, 8)}`;
  return {
    env: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL: endpoint },
    s3,
    async createBucket() {
      const bucket = name('claims');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async createSecret(value) {
      return (await secrets.send(new CreateSecretCommand({ Name: name('db'), SecretString: value }))).ARN!;
    },
    async createTopicWithQueue() {
      const topicArn = (await sns.send(new CreateTopicCommand({ Name: name('reviews') }))).TopicArn!;
      const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name('reviewer') }))).QueueUrl!;
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
      await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attrs.Attributes!.QueueArn! }));
      return { topicArn, queueUrl };
    },
    async receiveNotice(queueUrl, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
        const m = Messages?.[0];
        if (!m) continue;
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        const envelope = JSON.parse(m.Body!) as { Subject?: string; Message: string; MessageAttributes?: Record<string, { Value: string }> };
        const attributes = Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]));
        return { ...(envelope.Subject ? { subject: envelope.Subject } : {}), message: envelope.Message, attributes };
      }
      throw new Error(`no message on ${queueUrl} within ${timeoutMs} ms`);
    },
  };
}

/** The review link in a notice's text, and the token in it. */
export function reviewLinkIn(message: string): { url: URL; token: string } {
  const match = /https?:\/\/\S+\/reviews\/\S+/.exec(message);
  if (!match) throw new Error(`no review link in: ${message}`);
  const url = new URL(match[0]);
  return { url, token: url.searchParams.get('token') ?? '' };
}
