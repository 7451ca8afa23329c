import { definePipeline, defineStage, type RetryPolicy } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileToAsl } from './compile.js';

const OWN: RetryPolicy[] = [{ errors: ['ThrottlingException'], intervalMs: 2000, maxAttempts: 5 }];
const TASK: RetryPolicy[] = [{ errors: ['States.ALL'], intervalMs: 1000, maxAttempts: 1 }];
const CONFIGURED: RetryPolicy[] = [
  { errors: ['ThrottlingException', 'ModelErrorException'], intervalMs: 3000, backoffRate: 3, maxAttempts: 8, jitter: 'FULL' },
];

const model = defineStage({
  name: 'model',
  version: 1,
  input: z.object({}),
  output: z.object({ text: z.string() }),
  retry: OWN,
  run: async () => ({ text: '' }),
});
const plain = defineStage({ name: 'plain', version: 1, input: z.object({}), output: z.object({ n: z.number() }), run: async () => ({ n: 1 }) });

const pipeline = definePipeline({ name: 'retries', version: 1, input: z.object({}) })
  .task('own', model, { input: {}, resultPath: '$.a' })
  .task('overridden', model, { input: {}, resultPath: '$.b', retry: TASK })
  .task('same', model, { input: {}, resultPath: '$.c', retry: OWN })
  .task('none', plain, { input: {}, resultPath: '$.d' })
  .build();

type Task = { Parameters: { Payload: Record<string, unknown> }; Retry?: { ErrorEquals: string[]; MaxAttempts: number; IntervalSeconds?: number }[] };
const tasks = (options: Parameters<typeof compileToAsl>[1] = {}): Record<string, Task> =>
  compileToAsl(pipeline, options).definition.States as unknown as Record<string, Task>;

describe('compileTask: the effective retry policy in the payload', () => {
  it("the payload carries `retry` only when it is not the stage's own policy", () => {
    const s = tasks();
    expect(s.own!.Parameters.Payload).not.toHaveProperty('retry');
    expect(s.same!.Parameters.Payload).not.toHaveProperty('retry');
    expect(s.none!.Parameters.Payload).not.toHaveProperty('retry');
    expect(s.overridden!.Parameters.Payload.retry).toEqual(TASK);
    expect(s.overridden!.Retry?.map((r) => r.ErrorEquals[0])).toContain('States.ALL');
  });

  it('stageRetry replaces the policy of every task of the stage, in the ASL retriers and in the payload', () => {
    const s = tasks({ stageRetry: { model: CONFIGURED } });
    for (const name of ['own', 'overridden', 'same']) {
      expect(s[name]!.Parameters.Payload.retry).toEqual(CONFIGURED);
      const mine = s[name]!.Retry!.find((r) => r.ErrorEquals.includes('ModelErrorException'));
      expect(mine).toMatchObject({
        ErrorEquals: ['ThrottlingException', 'ModelErrorException'],
        IntervalSeconds: 3,
        BackoffRate: 3,
        MaxAttempts: 8,
        JitterStrategy: 'FULL',
      });
      expect(s[name]!.Retry!.some((r) => r.ErrorEquals.includes('States.ALL'))).toBe(false);
    }
    expect(s.none!.Parameters.Payload).not.toHaveProperty('retry');
    // the function-arn integration sends the same payload as its Parameters
    const arn = compileToAsl(pipeline, { stageRetry: { model: CONFIGURED }, lambdaIntegration: 'function-arn' }).definition.States.own as unknown as {
      Parameters: Record<string, unknown>;
    };
    expect(arn.Parameters.retry).toEqual(CONFIGURED);
  });
});
