import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EXECUTION_STATUS_CHANGE, lambdaCause, toLambdaError, type ExecutionStatusChangeEvent, type ReviewGateEvent } from '@baton/adapter-stepfunctions';
import { createJsonLogger, definePipeline, defineStage } from '@baton/core';
import { createPostgresRegistry, createRegistryReviewStore, type RunRegistry } from '@baton/registry';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { readSecret } from './secrets.js';
import { createRegistryWriterLambda } from './registry-writer-lambda.js';
import { createReviewGateLambda } from './review-gate-lambda.js';
import { createStageLambda } from './stage-lambda.js';
import { motoAccount, reviewLinkIn } from './test-support/aws.js';

const moto = motoAccount(inject('motoEndpoint'));
const postgresUrl = inject('postgresUrl');
const UNREACHABLE = 'postgres://baton@127.0.0.1:1/postgres';

const shout = defineStage({
  name: 'shout',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  run: async (i) => ({ text: i.text.toUpperCase() }),
});
const pipeline = definePipeline({ name: 'tiny', version: 1, input: z.object({ text: z.string() }) })
  .task('shout', shout)
  .build();

let registry: RunRegistry;
let bucket: string;
beforeAll(async () => {
  registry = await createPostgresRegistry({ connectionString: postgresUrl });
  bucket = await moto.createBucket();
});
afterAll(async () => registry?.close());

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
const arnOf = (runId: string): string => `arn:aws:states:us-east-1:123456789012:execution:tiny:${runId}`;

describe('readSecret on moto', () => {
  it('reads a SecretString; a missing secret is a ConfigurationError naming the ARN and secretsmanager:GetSecretValue', async () => {
    const arn = await moto.createSecret('the value');
    expect(await readSecret(arn, { env: moto.env })).toBe('the value');
    const missing = arn.replace(/baton-db-\w+/, 'baton-db-missing');
    const err = await readSecret(missing, { env: moto.env, variable: 'BATON_DATABASE_SECRET_ARN' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ConfigurationError', message: expect.stringContaining(missing) });
    expect((err as Error).message).toContain('secretsmanager:GetSecretValue');
  });
});

describe('createStageLambda writes the registry named by its secret', () => {
  const rdsJson = (): string => {
    const u = new URL(postgresUrl);
    return JSON.stringify({
      engine: 'postgres',
      host: u.hostname,
      port: Number(u.port),
      username: decodeURIComponent(u.username),
      password: '',
      dbname: u.pathname.slice(1),
      sslmode: 'disable',
    });
  };

  it.each([
    ['a postgres:// URL', () => postgresUrl],
    ['the RDS JSON', rdsJson],
  ])('with %s: attempt and step rows, written before the handler returns; the secret is read once per sandbox', async (_what, secret) => {
    const secretArn = await moto.createSecret(secret());
    const c = capture();
    const handler = createStageLambda({
      pipeline,
      env: { ...moto.env, BATON_STAGE: 'shout', BATON_BUCKET: bucket, BATON_DATABASE_SECRET_ARN: secretArn },
      logger: c.logger,
      writeMetric: c.writeMetric,
    });
    const runId = `run-${randomUUID().slice(0, 8)}`;
    expect(await handler({ stage: 'shout', stepPath: 'shout', executionId: arnOf(runId), retryCount: 0, input: { text: 'hi' } })).toEqual({ text: 'HI' });
    expect(await registry.getRun(runId)).toMatchObject({
      attempts: [{ stepPath: 'shout', attempt: 1, status: 'succeeded', stage: 'shout' }],
      steps: [{ stepPath: 'shout', status: 'succeeded' }],
    });
    // the secret is gone: a warm sandbox does not read it again
    await new SecretsManagerClient({
      endpoint: moto.env.AWS_ENDPOINT_URL!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }).send(new DeleteSecretCommand({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }));
    await handler({ stage: 'shout', stepPath: 'again', executionId: arnOf(runId), retryCount: 0, input: { text: 'x' } });
    expect((await registry.getRun(runId))!.steps.map((s) => s.stepPath).sort()).toEqual(['again', 'shout']);
    expect(c.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('an unreachable registry is logged and the stage result stands', async () => {
    const secretArn = await moto.createSecret(UNREACHABLE);
    const c = capture();
    const handler = createStageLambda({
      pipeline,
      env: { ...moto.env, BATON_STAGE: 'shout', BATON_BUCKET: bucket, BATON_DATABASE_SECRET_ARN: secretArn },
      logger: c.logger,
      writeMetric: c.writeMetric,
    });
    expect(await handler({ stage: 'shout', stepPath: 'shout', executionId: arnOf('run-unrecorded'), retryCount: 2, input: { text: 'ok' } })).toEqual({
      text: 'OK',
    });
    expect(c.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'run registry unavailable: this invocation goes unrecorded',
        code: 'ServiceUnavailableException',
        executionArn: arnOf('run-unrecorded'),
        step: 'shout',
        attempt: 3,
      }),
    );
  });
});

describe('createReviewGateLambda on the registry and SNS', () => {
  const gateEvent = (runId: string): ReviewGateEvent => ({
    taskToken: `TT-${runId}`,
    executionId: arnOf(runId),
    gate: 'review',
    stepPath: 'review',
    timeoutSeconds: 3600,
    reviewer: 'bo@example.com',
    payload: { title: 'Q3' },
  });

  it('records the review with the task token, then publishes the notice whose link carries the token', async () => {
    const secretArn = await moto.createSecret(postgresUrl);
    const { topicArn, queueUrl } = await moto.createTopicWithQueue();
    const gate = createReviewGateLambda({
      env: {
        ...moto.env,
        BATON_PIPELINE: 'tiny',
        BATON_DATABASE_SECRET_ARN: secretArn,
        BATON_REVIEW_NOTIFIER: 'sns',
        BATON_REVIEW_TOPIC_ARN: topicArn,
        BATON_DASHBOARD_URL: 'https://dash.example.com',
      },
      logger: capture().logger,
    });
    const runId = `run-${randomUUID().slice(0, 8)}`;
    expect(await gate(gateEvent(runId))).toMatchObject({ recorded: true });
    const [open] = await createRegistryReviewStore(registry).open(arnOf(runId), 'review');
    expect(open).toMatchObject({ runId, taskToken: `TT-${runId}`, reviewer: 'bo@example.com', status: 'open' });
    const notice = await moto.receiveNotice(queueUrl);
    expect(notice.message).not.toContain('Q3');
    expect(reviewLinkIn(notice.message).url.pathname).toBe(`/reviews/${runId}/review`);
    expect(await registry.getRun(runId)).toMatchObject({ status: 'waiting' });
  });

  it("an unreachable database fails the gate with the registry's retryable error, and nobody is notified", async () => {
    const secretArn = await moto.createSecret(UNREACHABLE);
    let notified = 0;
    const gate = createReviewGateLambda({
      env: { ...moto.env, BATON_DATABASE_SECRET_ARN: secretArn },
      notifier: () => void notified++,
      logger: capture().logger,
    });
    const err: Error = await gate(gateEvent('run-nodb')).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('ServiceUnavailableException');
    expect(JSON.parse(err.message)).toMatchObject({ retryable: true, message: expect.stringContaining('127.0.0.1:1') });
    expect(notified).toBe(0);
  });
});

describe('createRegistryWriterLambda', () => {
  const statusEvent = (
    runId: string,
    status: ExecutionStatusChangeEvent['detail']['status'],
    detail: Partial<ExecutionStatusChangeEvent['detail']> = {},
  ): ExecutionStatusChangeEvent => ({
    version: '0',
    id: randomUUID(),
    'detail-type': EXECUTION_STATUS_CHANGE,
    source: 'aws.states',
    account: '123456789012',
    time: '2026-05-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      executionArn: arnOf(runId),
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:tiny-sm',
      name: runId,
      status,
      startDate: Date.parse('2026-05-01T00:00:00Z'),
      stopDate: status === 'RUNNING' ? null : Date.parse('2026-05-01T00:05:00Z'),
      input: '{"text":"hi","reportId":"R-1"}',
      output: null,
      error: null,
      cause: null,
      ...detail,
    },
  });

  it('records the run (pipeline from BATON_PIPELINE, input from DescribeExecution when left out) and counts a failed run once written', async () => {
    const secretArn = await moto.createSecret(postgresUrl);
    const c = capture();
    const described: string[] = [];
    const writer = createRegistryWriterLambda({
      env: { ...moto.env, BATON_PIPELINE: 'tiny', BATON_DATABASE_SECRET_ARN: secretArn },
      logger: c.logger,
      writeMetric: c.writeMetric,
      describeExecution: async (arn) => (described.push(arn), { input: '{"text":"big","reportId":"R-2"}' }),
    });
    const runId = `run-${randomUUID().slice(0, 8)}`;
    await writer(statusEvent(runId, 'RUNNING', { input: null, inputDetails: { included: false } }));
    const thrown = toLambdaError({ code: 'SafetyCheckFailed', message: 'denylisted', retryable: false });
    await writer(statusEvent(runId, 'FAILED', { error: thrown.name, cause: lambdaCause(thrown) }));
    expect(described).toEqual([arnOf(runId)]);
    expect(await registry.getRun(runId)).toMatchObject({
      pipeline: 'tiny',
      engine: 'stepfunctions',
      status: 'failed',
      reportId: 'R-2',
      error: { code: 'SafetyCheckFailed', errorClass: 'safety' },
    });
    expect(c.metrics).toMatchObject([{ FailedRuns: 1, Pipeline: 'tiny', FailureClass: 'safety', runId }]);
    expect(c.lines.every((l) => l.executionArn === arnOf(runId))).toBe(true);
  });

  it('a registry it cannot reach makes it throw (EventBridge retries the event), with no metric', async () => {
    const secretArn = await moto.createSecret(UNREACHABLE);
    const c = capture();
    const writer = createRegistryWriterLambda({ env: { ...moto.env, BATON_DATABASE_SECRET_ARN: secretArn }, logger: c.logger, writeMetric: c.writeMetric });
    const err: Error = await writer(statusEvent('run-lost', 'TIMED_OUT')).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('ServiceUnavailableException');
    expect(c.metrics).toEqual([]);
  });
});
