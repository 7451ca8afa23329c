import { describe, expect, it } from 'vitest';
import type { RuleSpec } from './context.js';
import { createEventRouter, matchesPattern, transform } from './events.js';

const event = {
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { stateMachineArn: 'arn:sm', status: 'TIMED_OUT', name: 'run-1', executionArn: 'arn:exec', input: '{"a":1}', startDate: 1700000000000 },
};

describe('EventBridge rules as the rehearsal routes them', () => {
  it('matches patterns: lists of values, nested objects, prefix, anything-but, exists, numeric', () => {
    expect(matchesPattern({ source: ['aws.states'], detail: { stateMachineArn: ['arn:sm'], status: ['TIMED_OUT', 'FAILED'] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { status: ['SUCCEEDED'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { name: [{ prefix: 'run-' }], status: [{ 'anything-but': ['RUNNING'] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { error: [{ exists: false }], startDate: [{ numeric: ['>', 0] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { missing: ['x'] } }, event)).toBe(false);
  });

  it('fills an input transformer template as EventBridge does (a value outside quotes is JSON, inside quotes raw)', () => {
    const out = transform(
      {
        Id: 't',
        Arn: 'arn:aws:sqs:eu-west-1:1:q',
        InputTransformer: {
          InputPathsMap: { name: '$.detail.name', input: '$.detail.input', start: '$.detail.startDate' },
          InputTemplate: '{"runId":<name>,"input":<input>,"startedAt":<start>,"text":"run <name> timed out","error":"States.Timeout"}',
        },
      },
      event,
    );
    expect(JSON.parse(out)).toEqual({ runId: 'run-1', input: '{"a":1}', startedAt: 1700000000000, text: 'run run-1 timed out', error: 'States.Timeout' });
  });

  it("delivers only where the target's resource policy lets events.amazonaws.com in for that rule, and dead-letters what keeps failing", async () => {
    const rule: RuleSpec = {
      logicalId: 'R',
      name: 'r',
      arn: 'arn:aws:events:eu-west-1:1:rule/r',
      pattern: { source: ['aws.states'] },
      enabled: true,
      targets: [],
    };
    const fnArn = 'arn:aws:lambda:eu-west-1:1:function:writer';
    const permission = {
      logicalId: 'P',
      resources: [fnArn],
      statements: [
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Principal: { Service: 'events.amazonaws.com' },
          Resource: fnArn,
          Condition: { ArnLike: { 'aws:SourceArn': rule.arn } },
        },
      ],
    };
    const sent: string[] = [];
    const denied: string[] = [];
    let failures = 5;
    const router = createEventRouter({
      rules: [
        {
          ...rule,
          targets: [
            { Id: 'w', Arn: fnArn, DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:1:dlq' } },
            { Id: 'q', Arn: 'arn:aws:sqs:eu-west-1:1:q' },
          ],
        },
      ],
      resourcePolicies: [permission],
      account: '1',
      delivery: {
        invoke: () => (failures-- > 0 ? Promise.reject(new Error('writer down')) : Promise.resolve()),
        sendMessage: (arn) => {
          sent.push(arn);
          return Promise.resolve();
        },
        publish: () => Promise.resolve(),
      },
      onDenied: (_r, action, resource) => void denied.push(`${action} ${resource}`),
      retryDelayMs: 1,
    });
    router.deliver(event);
    await router.idle();
    expect(router.deliveries.map((d) => [d.target.split(':').pop(), d.status, d.attempts])).toEqual([
      ['writer', 'dead-lettered', 3],
      ['q', 'denied', 0],
    ]);
    expect(sent).toEqual(['arn:aws:sqs:eu-west-1:1:dlq']);
    expect(denied).toEqual(['sqs:SendMessage arn:aws:sqs:eu-west-1:1:q']);
  });
});
