import { describe, expect, it } from 'vitest';
import { describeCall, type CallRequest } from './describe-call.js';

const base = { region: 'eu-west-1', account: '123456789012', headers: {}, body: Buffer.alloc(0) };
const call = (r: Partial<CallRequest> & { service: string; method: string; url: string }) => describeCall({ ...base, ...r });
const json = (target: string, body: unknown) => ({ headers: { 'x-amz-target': target }, body: Buffer.from(JSON.stringify(body)) });

describe('describeCall: the IAM action and resource of a request, from its wire form', () => {
  it('S3 object and bucket operations (path style)', () => {
    expect(call({ service: 's3', method: 'PUT', url: '/bucket/sections/a.json' })).toEqual({
      action: 's3:PutObject',
      resources: ['arn:aws:s3:::bucket/sections/a.json'],
    });
    expect(call({ service: 's3', method: 'HEAD', url: '/bucket/k' }).action).toBe('s3:GetObject');
    expect(call({ service: 's3', method: 'GET', url: '/bucket?list-type=2&prefix=a' })).toEqual({
      action: 's3:ListBucket',
      resources: ['arn:aws:s3:::bucket'],
    });
  });
  it('JSON protocols: SQS, Secrets Manager (a known secret by name), Step Functions, EventBridge PutEvents', () => {
    expect(call({ service: 'sqs', method: 'POST', url: '/', ...json('AmazonSQS.SendMessage', { QueueUrl: 'http://127.0.0.1:1/123456789012/dlq' }) })).toEqual({
      action: 'sqs:SendMessage',
      resources: ['arn:aws:sqs:eu-west-1:123456789012:dlq'],
    });
    const secretArn = (id: string) => (id === 'db' ? 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' : undefined);
    expect(
      call({ service: 'secretsmanager', method: 'POST', url: '/', secretArn, ...json('secretsmanager.GetSecretValue', { SecretId: 'db' }) }).resources,
    ).toEqual(['arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf']);
    expect(call({ service: 'states', method: 'POST', url: '/', ...json('AWSStepFunctions.DescribeExecution', { executionArn: 'arn:x' }) })).toEqual({
      action: 'states:DescribeExecution',
      resources: ['arn:x'],
    });
    expect(
      call({ service: 'events', method: 'POST', url: '/', ...json('AWSEvents.PutEvents', { Entries: [{}, { EventBusName: 'reviews' }] }) }).resources,
    ).toEqual(['arn:aws:events:eu-west-1:123456789012:event-bus/default', 'arn:aws:events:eu-west-1:123456789012:event-bus/reviews']);
  });
  it('query protocol (SNS), REST (Bedrock Converse on a model or an inference profile, X-Ray, Lambda Invoke)', () => {
    expect(
      call({ service: 'sns', method: 'POST', url: '/', body: Buffer.from('Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3Areviews&Message=x') }),
    ).toEqual({ action: 'sns:Publish', resources: ['arn:aws:sns:eu-west-1:1:reviews'] });
    expect(call({ service: 'bedrock', method: 'POST', url: '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse' })).toEqual({
      action: 'bedrock:InvokeModel',
      resources: ['arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0'],
    });
    expect(call({ service: 'bedrock', method: 'POST', url: '/model/eu.anthropic.claude/converse-stream' })).toEqual({
      action: 'bedrock:InvokeModelWithResponseStream',
      resources: ['arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude'],
    });
    expect(call({ service: 'xray', method: 'POST', url: '/TraceSegments' })).toEqual({ action: 'xray:PutTraceSegments', resources: ['*'] });
    expect(call({ service: 'lambda', method: 'POST', url: '/2015-03-31/functions/writer/invocations' }).resources).toEqual([
      'arn:aws:lambda:eu-west-1:123456789012:function:writer',
    ]);
  });
});
