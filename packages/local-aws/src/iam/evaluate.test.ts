import { describe, expect, it } from 'vitest';
import { isAllowed, type PolicyStatement } from './evaluate.js';

const fn = 'arn:aws:lambda:us-east-1:123456789012:function:baton-plan';

describe('isAllowed', () => {
  it('denies what no statement allows (implicit deny)', () => {
    expect(isAllowed([], 'lambda:InvokeFunction', fn)).toBe(false);
    expect(isAllowed([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }], 'lambda:InvokeFunction', fn)).toBe(false);
    expect(isAllowed([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `${fn}-other` }], 'lambda:InvokeFunction', fn)).toBe(false);
  });

  it('allows a matching Allow; an explicit Deny wins whatever the order', () => {
    const allow: PolicyStatement = { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [fn] };
    const deny: PolicyStatement = { Effect: 'Deny', Action: 'lambda:*', Resource: '*' };
    expect(isAllowed([allow], 'lambda:InvokeFunction', fn)).toBe(true);
    expect(isAllowed([allow, deny], 'lambda:InvokeFunction', fn)).toBe(false);
    expect(isAllowed([deny, allow], 'lambda:InvokeFunction', fn)).toBe(false);
  });

  it('matches action names case-insensitively and resources case-sensitively', () => {
    const s: PolicyStatement[] = [{ Effect: 'Allow', Action: 'Lambda:invokefunction', Resource: fn }];
    expect(isAllowed(s, 'lambda:InvokeFunction', fn)).toBe(true);
    expect(isAllowed(s, 'LAMBDA:INVOKEFUNCTION', fn)).toBe(true);
    expect(isAllowed(s, 'lambda:InvokeFunction', fn.toUpperCase())).toBe(false);
  });

  it('takes * and ? in actions and resources, and * crosses : and /', () => {
    const s: PolicyStatement[] = [
      { Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::blobs/*' },
      { Effect: 'Allow', Action: 'bedrock:InvokeModel?', Resource: 'arn:aws:bedrock:*::foundation-model/anthropic.*' },
    ];
    expect(isAllowed(s, 's3:GetObject', 'arn:aws:s3:::blobs/runs/r1/a.json')).toBe(true);
    expect(isAllowed(s, 's3:PutObject', 'arn:aws:s3:::blobs/a')).toBe(false);
    expect(isAllowed(s, 's3:GetObject', 'arn:aws:s3:::other/a')).toBe(false);
    expect(isAllowed(s, 'bedrock:InvokeModelX', 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude')).toBe(true);
    expect(isAllowed(s, 'bedrock:InvokeModel', 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude')).toBe(false);
    expect(isAllowed(s, 'bedrock:InvokeModelWithResponseStream', 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude')).toBe(false);
  });

  it('treats regular-expression characters in patterns literally', () => {
    const s: PolicyStatement[] = [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:1:q.fifo' }];
    expect(isAllowed(s, 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:1:q.fifo')).toBe(true);
    expect(isAllowed(s, 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:1:qxfifo')).toBe(false);
  });

  it('counts a statement with a Condition as if the condition held', () => {
    const s: PolicyStatement[] = [
      { Effect: 'Allow', Action: 'sns:Publish', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } },
    ];
    expect(isAllowed(s, 'sns:Publish', 'arn:aws:sns:us-east-1:1:t')).toBe(true);
  });
});
