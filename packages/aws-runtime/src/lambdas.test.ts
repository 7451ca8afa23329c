import type { ExecutionStatusChangeEvent, StageEvent } from '@baton/adapter-stepfunctions';
import { StageError, createJsonLogger, definePipeline, defineStage } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRegistryWriterLambda } from './registry-writer-lambda.js';
import { createReviewGateLambda } from './review-gate-lambda.js';
import { createStageLambda } from './stage-lambda.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:tiny:run-1';
const shout = defineStage({
  name: 'shout',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  async run(input) {
    if (input.text === 'fail') throw new StageError('SafetyCheckFailed', 'no shouting');
    return { text: input.text.toUpperCase() };
  },
});
const ask = defineStage({
  name: 'ask',
  version: 1,
  usesModel: true,
  input: z.object({}),
  output: z.object({ text: z.string() }),
  run: async (_i, ctx) => ({ text: (await ctx.model.complete({ messages: [{ role: 'user', content: 'hi' }] })).text }),
});
const pipeline = definePipeline({ name: 'tiny', version: 1, input: z.object({ text: z.string() }) })
  .task('shout', shout)
  .task('ask', ask, { input: {}, resultPath: '$.asked' })
  .build();

function capture() {
  const lines: Record<string, unknown>[] = [];
  const metrics: Record<string, unknown>[] = [];
  return {
    lines,
    metrics,
    logger: createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    writeMetric: (l: string) => void metrics.push(JSON.parse(l) as Record<string, unknown>),
  };
}
const event = (stage: string, input: unknown, retryCount = 0): StageEvent => ({ stage, stepPath: stage, executionId: ARN, retryCount, input });
const thrown = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => new Error('no throw'),
    (e: unknown) => e as Error,
  );

describe('createStageLambda (env objects, no services)', () => {
  const env = { BATON_PIPELINE: 'tiny', BATON_STAGE: 'shout', BATON_BUCKET: 'claims', AWS_REGION: 'eu-west-1' };

  it('runs the stage BATON_STAGE names; log lines carry executionArn, step and attempt', async () => {
    const c = capture();
    const handler = createStageLambda({ pipeline, env, logger: c.logger, writeMetric: c.writeMetric });
    expect(await handler(event('shout', { text: 'hi' }, 1))).toEqual({ text: 'HI' });
    expect(c.lines.length).toBeGreaterThan(0);
    for (const l of c.lines) expect(l).toMatchObject({ executionArn: ARN, step: 'shout', attempt: 2 });
    expect(c.metrics).toEqual([]);
  });

  it("an unknown or missing stage, or no bucket, is a ConfigurationError naming what to set (and the pipeline's stages)", async () => {
    const c = capture();
    const unknown = await thrown(
      createStageLambda({ pipeline, env: { ...env, BATON_STAGE: 'whisper' }, logger: c.logger, writeMetric: c.writeMetric })(event('whisper', {})),
    );
    expect(unknown.name).toBe('ConfigurationError');
    expect(JSON.parse(unknown.message)).toMatchObject({
      code: 'ConfigurationError',
      retryable: false,
      message: 'BATON_STAGE is "whisper", which pipeline "tiny" does not have (its stages: shout, ask)',
    });
    expect(c.lines.at(-1)).toMatchObject({ level: 'error', executionArn: ARN, step: 'whisper', attempt: 1, code: 'ConfigurationError' });
    // the failed attempt is final: counted as a failed step
    expect(c.metrics).toMatchObject([{ FailedSteps: 1, FailureClass: 'infrastructure', Pipeline: 'tiny', errorCode: 'ConfigurationError' }]);
    const { BATON_STAGE: _s, ...noStage } = env;
    expect((await thrown(createStageLambda({ pipeline, env: noStage, writeMetric: () => undefined, logger: c.logger })(event('shout', {})))).message).toMatch(
      /BATON_STAGE is not set/,
    );
    const { BATON_BUCKET: _b, ...noBucket } = env;
    expect((await thrown(createStageLambda({ pipeline, env: noBucket, writeMetric: () => undefined, logger: c.logger })(event('shout', {})))).message).toMatch(
      /BATON_BUCKET is not set/,
    );
  });

  it('a step that ends failed prints one FailedSteps EMF line (Pipeline, FailureClass)', async () => {
    const c = capture();
    const handler = createStageLambda({ pipeline, env, logger: c.logger, writeMetric: c.writeMetric });
    expect((await thrown(handler(event('shout', { text: 'fail' })))).name).toBe('SafetyCheckFailed');
    expect(c.metrics).toMatchObject([
      { Pipeline: 'tiny', FailureClass: 'safety', FailedSteps: 1, runId: 'run-1', stepPath: 'shout', errorCode: 'SafetyCheckFailed' },
    ]);
  });

  it("a model stage without model configuration fails with the model client's ConfigurationError (logged at cold start)", async () => {
    const c = capture();
    const handler = createStageLambda({ pipeline, env: { ...env, BATON_STAGE: 'ask' }, logger: c.logger, writeMetric: c.writeMetric });
    const err = await thrown(handler(event('ask', {})));
    expect(err.name).toBe('ConfigurationError');
    expect(JSON.parse(err.message).message).toMatch(/BATON_MODEL_PROVIDER is not set/);
    // the cold-start line too carries the invocation's bindings
    expect(c.lines).toContainEqual(
      expect.objectContaining({ msg: 'model is not configured: every call of this stage will fail', executionArn: ARN, step: 'ask', attempt: 1 }),
    );
    expect(c.metrics).toMatchObject([{ FailedSteps: 1, errorCode: 'ConfigurationError' }]);
  });
});

describe('createReviewGateLambda and createRegistryWriterLambda need the registry', () => {
  it('the review gate without BATON_DATABASE_SECRET_ARN fails with a ConfigurationError, logged with the execution and step', async () => {
    const c = capture();
    const gate = createReviewGateLambda({ env: { BATON_REVIEW_NOTIFIER: 'none' }, logger: c.logger });
    const err = await thrown(gate({ taskToken: 'TT', executionId: ARN, gate: 'review', stepPath: 'review', timeoutSeconds: 60, reviewer: null, payload: {} }));
    expect(err.name).toBe('ConfigurationError');
    expect(JSON.parse(err.message).message).toMatch(/BATON_DATABASE_SECRET_ARN is not set/);
    expect(c.lines.at(-1)).toMatchObject({ level: 'error', executionArn: ARN, step: 'review', attempt: 1, code: 'ConfigurationError' });
  });

  it('the registry writer without it too', async () => {
    const c = capture();
    const writer = createRegistryWriterLambda({ env: {}, logger: c.logger, writeMetric: c.writeMetric });
    const detail = {
      executionArn: ARN,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:tiny',
      name: 'run-1',
      status: 'FAILED',
      startDate: 1,
      stopDate: 2,
      input: null,
      output: null,
      error: 'X',
      cause: 'y',
    } as const;
    const err = await thrown(
      writer({
        version: '0',
        id: '1',
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        account: '1',
        time: '',
        region: 'eu-west-1',
        resources: [],
        detail,
      } as ExecutionStatusChangeEvent),
    );
    expect(err.name).toBe('ConfigurationError');
    expect(c.lines.at(-1)).toMatchObject({ executionArn: ARN, status: 'FAILED', code: 'ConfigurationError' });
    expect(c.metrics).toEqual([]);
  });
});
