import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  createStepFunctionsLocalEngine,
  deployedCompileOptions,
  type DeadLetterMessage,
  type StageHandler,
  type StepFunctionsLocalEngine,
} from '@baton/adapter-stepfunctions';
import { createJsonLogger, type RunOutcome } from '@baton/core';
import { isFatalCode } from '@baton/core/engine';
import { reportPipeline } from '@baton/example-report';
import { auditRunRecord, createPostgresRegistry, createRegistryReviewStore, type RunRegistry } from '@baton/registry';
import { createS3BlobStore } from '@baton/stages';
import { startLocalBedrock, type LocalBedrock } from '@baton/stages/local-bedrock';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Env } from './env.js';
import { createRegistryWriterLambda } from './registry-writer-lambda.js';
import { createReviewGateLambda } from './review-gate-lambda.js';
import { createStageLambda } from './stage-lambda.js';
import { motoAccount, reviewLinkIn } from './test-support/aws.js';
import { createBudgetTable } from './test-support/dynamo.js';

// The proof that the deployed functions work together: the reference report runs on the
// stepfunctions-local engine (the compiled, deployed ASL) with @baton/aws-runtime's functions as its
// Lambdas, each built from its environment as the CDK construct sets it: Bedrock through the real
// AWS SDK against the local Bedrock server, claim checks and the DOCX in S3, secrets and the review
// notice (SNS -> SQS) on moto, the registry on a real PostgreSQL, fed by the stage functions and by
// the registry writer from the execution status-change events.

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const DASHBOARD = 'https://baton.example.com';
const SOURCES_DIR = join(import.meta.dirname, '../../../examples/report-generation/sources');
const moto = motoAccount(inject('motoEndpoint'));
const postgresUrl = inject('postgresUrl');

let bedrock: LocalBedrock;
let registry: RunRegistry;
let bucket: string;
let secretArn: string;
let notices: { topicArn: string; queueUrl: string };
let sources: { key: string; name: string }[];
const lines: Record<string, unknown>[] = [];
const metrics: Record<string, unknown>[] = [];
const engines: StepFunctionsLocalEngine[] = [];

/** The deployment: one function per stage, the review gate and the registry writer, each from its own environment. */
function deploy(overrides: { model?: Env; gate?: Env } = {}): { engine: StepFunctionsLocalEngine; deadLetters: DeadLetterMessage[] } {
  const logger = createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const writeMetric = (l: string): void => void metrics.push(JSON.parse(l) as Record<string, unknown>);
  const base: Env = { ...moto.env, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url, BATON_PIPELINE: 'report' };
  const model = overrides.model ?? { BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: MODEL };
  const functions = new Map(
    [...reportPipeline.stages.values()].map((s) => [
      s.name,
      createStageLambda({
        pipeline: reportPipeline,
        env: { ...base, BATON_STAGE: s.name, BATON_BUCKET: bucket, BATON_DATABASE_SECRET_ARN: secretArn, ...(s.usesModel ? model : {}) },
        logger,
        writeMetric,
      }),
    ]),
  );
  // Rehearsal shim, named as such: Step Functions starts no Task of an execution that a fatal error
  // has failed, but aws-local-stepfunctions' Map keeps starting queued items after one failed, and
  // their starts would reopen the failed run in the registry. The dispatcher refuses them.
  const doomed = new Set<string>();
  const stage: StageHandler = async (event, context) => {
    if (doomed.has(event.executionId)) throw Object.assign(new Error('the execution has failed'), { name: 'States.Runtime' });
    try {
      return await functions.get(event.stage)!(event, context);
    } catch (e) {
      if (isFatalCode((e as Error).name)) doomed.add(event.executionId);
      throw e;
    }
  };
  const reviewGate = createReviewGateLambda({
    env: {
      ...base,
      BATON_DATABASE_SECRET_ARN: secretArn,
      BATON_REVIEW_NOTIFIER: 'sns',
      BATON_REVIEW_TOPIC_ARN: notices.topicArn,
      BATON_DASHBOARD_URL: DASHBOARD,
      ...overrides.gate,
    },
    logger,
  });
  const writer = createRegistryWriterLambda({ env: { ...base, BATON_DATABASE_SECRET_ARN: secretArn }, engine: 'stepfunctions-local', logger, writeMetric });
  const compile = deployedCompileOptions(reportPipeline, { type: 'STANDARD' });
  const deadLetters: DeadLetterMessage[] = [];
  const engine = createStepFunctionsLocalEngine({
    pipelines: [reportPipeline],
    blobs: createS3BlobStore({ bucket, client: moto.s3 }),
    lambdas: { stage, reviewGate },
    statusEvents: async (e) => void (await writer(e)),
    reviews: createRegistryReviewStore(registry),
    compile,
    deadLetters: (m) => void deadLetters.push(m),
  });
  engines.push(engine);
  return { engine, deadLetters };
}

/**
 * Waits until no attempt of the run is in flight. A fatal failure ends the run while other map items
 * are still running (Step Functions too lets their Lambda invocations finish); the audit compares
 * records once those stragglers have written theirs.
 */
async function settled(engine: StepFunctionsLocalEngine, runId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await engine.status(runId)).attempts.some((a) => a.status === 'running')) {
    if (Date.now() > deadline) throw new Error(`attempts of ${runId} still running after 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const input = (extra: Record<string, unknown> = {}) => ({ sources, reportId: 'RPT-2026-001', reviewerId: 'alice@example.com', ...extra });

beforeAll(async () => {
  bedrock = await startLocalBedrock({ models: [MODEL] });
  registry = await createPostgresRegistry({ connectionString: postgresUrl });
  [bucket, secretArn, notices] = await Promise.all([moto.createBucket(), moto.createSecret(postgresUrl), moto.createTopicWithQueue()]);
  const blobs = createS3BlobStore({ bucket, client: moto.s3 });
  sources = [];
  for (const name of readdirSync(SOURCES_DIR).sort()) {
    await blobs.put(`sources/${name}`, new Uint8Array(readFileSync(join(SOURCES_DIR, name))));
    sources.push({ key: `sources/${name}`, name });
  }
});

afterAll(async () => {
  for (const e of engines) await e.close();
  await registry?.close();
  await bedrock?.close();
});

describe('the deployed functions run the reference report end to end (stepfunctions-local, moto, PostgreSQL, local Bedrock)', () => {
  it("9 of 9 sections from Bedrock, the reviewer's SNS notice approves through its link, the DOCX in S3, a complete registry record", async () => {
    const started = Date.now();
    const { engine } = deploy();
    bedrock.requests.length = 0;
    const { runId } = await engine.start(reportPipeline, input());

    // the reviewer's notice, read back from the queue subscribed to the review topic
    const notice = await moto.receiveNotice(notices.queueUrl, 40_000);
    expect(notice.attributes).toMatchObject({ runId, gate: 'review', reviewer: 'alice@example.com', pipeline: 'report' });
    const { url, token } = reviewLinkIn(notice.message);
    expect(url.origin + url.pathname).toBe(`${DASHBOARD}/reviews/${runId}/review`);
    expect(await engine.status(runId)).toMatchObject({ status: 'waiting' });
    expect(await registry.getRun(runId)).toMatchObject({ status: 'waiting', reviewerId: 'alice@example.com' });

    // the link's token approves the run; the same token a second time is refused
    await engine.approve(runId, 'review', { token, reviewer: 'alice@example.com', comment: 'ship it' });
    await expect(engine.approve(runId, 'review', { token, reviewer: 'alice@example.com' })).rejects.toThrow(/no open review|already used/);
    const outcome: RunOutcome = await engine.result(runId, { timeoutMs: 40_000 });
    expect(outcome.status).toBe('succeeded');
    const report = (outcome as { output: { report: { docxKey: string; markdownKey: string; sections: Record<string, number> } } }).output.report;
    expect(report.sections).toMatchObject({ total: 9, ok: 9, failed: 0, held: 0 });

    // every section came from the model, through the SDK to the local Bedrock server
    const calls = bedrock.requests.filter((r) => r.modelId === MODEL);
    expect(calls.length).toBeGreaterThanOrEqual(9);
    expect(calls.every((r) => r.status === 200)).toBe(true);
    const markdown = Buffer.from(await createS3BlobStore({ bucket, client: moto.s3 }).get(report.markdownKey)).toString();
    expect(markdown).not.toMatch(/placeholder/i);

    // the DOCX is in the bucket (a zip: "PK")
    const docx = await moto.s3.send(new GetObjectCommand({ Bucket: bucket, Key: report.docxKey }));
    const bytes = await docx.Body!.transformToByteArray();
    expect(Buffer.from(bytes.subarray(0, 2)).toString()).toBe('PK');
    expect(bytes.byteLength).toBeGreaterThan(5_000);

    // the registry: the run with its labels, every attempt, the decided review; nothing missing
    expect((await auditRunRecord(registry, engine, runId)).problems).toEqual([]);
    const run = (await registry.getRun(runId))!;
    expect(run).toMatchObject({
      status: 'succeeded',
      pipeline: 'report',
      engine: 'stepfunctions-local',
      reportId: 'RPT-2026-001',
      reviewerId: 'alice@example.com',
      modelCalls: calls.length,
    });
    expect(run.executionId).toMatch(/:execution:report:/);
    expect(run.reviews).toMatchObject([{ gate: 'review', decision: 'approved', decidedBy: 'alice@example.com', comment: 'ship it' }]);
    expect(run.attempts.filter((a) => a.stage === 'generate' && a.status === 'succeeded')).toHaveLength(9);
    // every line of every function carries the execution, the step (null: the whole run) and the attempt
    expect(lines.filter((l) => l.msg === 'attempt succeeded' && String(l.executionArn).endsWith(runId)).length).toBeGreaterThanOrEqual(12);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(['executionArn', 'step', 'attempt']));
    console.info(`deployed-handlers e2e: happy run ${((Date.now() - started) / 1000).toFixed(1)} s, ${calls.length} Bedrock calls`);
  });

  it('a model the role may not invoke fails the run with ModelAccessDenied (not 9 placeholders), recorded and counted', async () => {
    const { engine, deadLetters } = deploy({ model: { BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: 'anthropic.claude-not-granted-v1:0' } });
    metrics.length = 0;
    const { runId } = await engine.start(reportPipeline, input());
    const outcome = await engine.result(runId, { timeoutMs: 40_000 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ModelAccessDenied' } });
    expect(bedrock.requests.some((r) => r.modelId === 'anthropic.claude-not-granted-v1:0' && r.status === 403)).toBe(true);
    const run = (await registry.getRun(runId))!;
    expect(run).toMatchObject({ status: 'failed', error: { code: 'ModelAccessDenied', errorClass: 'model' } });
    expect(run.attempts.some((a) => a.stage === 'generate' && a.error?.code === 'ModelAccessDenied')).toBe(true);
    await settled(engine, runId);
    expect(await registry.getRun(runId)).toMatchObject({ status: 'failed', finishedAt: expect.any(String) });
    expect(metrics).toContainEqual(expect.objectContaining({ FailedSteps: 1, FailureClass: 'model', errorCode: 'ModelAccessDenied' }));
    expect(metrics).toContainEqual(expect.objectContaining({ FailedRuns: 1, FailureClass: 'model', runId }));
    expect(deadLetters).toMatchObject([{ runId, error: 'ModelAccessDenied' }]);
  });

  it('a model stage without model configuration fails the run with ConfigurationError', async () => {
    const { engine } = deploy({ model: {} });
    const { runId } = await engine.start(reportPipeline, input());
    const outcome = await engine.result(runId, { timeoutMs: 40_000 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', message: expect.stringContaining('BATON_MODEL_PROVIDER') } });
    await settled(engine, runId);
    const run = (await registry.getRun(runId))!;
    expect(run).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', errorClass: 'infrastructure' } });
    expect(run.attempts.filter((a) => a.stage === 'generate').every((a) => a.status === 'failed' && a.error?.code === 'ConfigurationError')).toBe(true);
  });

  it("with BATON_MODEL_PRICES the run's cost is in the registry: every generate attempt priced, the run the sum; a price table without the model fails ConfigurationError", async () => {
    const price = { inputPer1M: 0.8, outputPer1M: 4 };
    const { engine } = deploy({ model: { BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: MODEL, BATON_MODEL_PRICES: JSON.stringify({ [MODEL]: price }) } });
    const { runId } = await engine.start(reportPipeline, input({ reportId: 'RPT-2026-PRICED' }));
    const notice = await moto.receiveNotice(notices.queueUrl, 60_000);
    await engine.approve(runId, 'review', { token: reviewLinkIn(notice.message).token, reviewer: 'alice@example.com' });
    expect((await engine.result(runId, { timeoutMs: 60_000 })).status).toBe('succeeded');
    await settled(engine, runId);
    const run = (await registry.getRun(runId))!;
    const generated = run.attempts.filter((a) => a.stage === 'generate' && a.status === 'succeeded');
    expect(generated).toHaveLength(9);
    for (const a of generated) expect(a.cost).toBeCloseTo((a.inputTokens * price.inputPer1M + a.outputTokens * price.outputPer1M) / 1e6, 12);
    expect(run.inputTokens).toBeGreaterThan(0);
    expect(run.cost).toBeCloseTo((run.inputTokens * price.inputPer1M + run.outputTokens * price.outputPer1M) / 1e6, 12);

    const { engine: mispriced } = deploy({
      model: { BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: MODEL, BATON_MODEL_PRICES: JSON.stringify({ 'another-model': price }) },
    });
    const bad = await mispriced.start(reportPipeline, input({ reportId: 'RPT-2026-MISPRICED' }));
    const outcome = await mispriced.result(bad.runId, { timeoutMs: 40_000 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', message: expect.stringContaining('BATON_MODEL_PRICES') } });
  });

  it('a review gate without its database secret fails the run with ConfigurationError instead of waiting unheard', async () => {
    const { engine } = deploy({ gate: { BATON_DATABASE_SECRET_ARN: '' } });
    const { runId } = await engine.start(reportPipeline, input());
    const outcome = await engine.result(runId, { timeoutMs: 40_000 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', message: expect.stringContaining('BATON_DATABASE_SECRET_ARN') } });
    expect(await registry.getRun(runId)).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError' } });
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'review gate cannot record reviews', executionArn: expect.stringContaining(runId), step: 'review' }),
    );
  });

  it('with the shared model limiter on (DynamoDB on moto): every Bedrock call draws on the table and the budget holds', async () => {
    const dynamo = new DynamoDBClient({
      endpoint: moto.env.AWS_ENDPOINT_URL!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const table = await createBudgetTable(dynamo);
    const budget = { requestsPerMinute: 4, maxInFlight: 2, windowMs: 1000 };
    const { engine } = deploy({
      model: {
        BATON_MODEL_PROVIDER: 'bedrock',
        BATON_MODEL_ID: MODEL,
        BATON_MODEL_BUDGETS_TABLE: table,
        BATON_MODEL_BUDGETS: JSON.stringify({ [MODEL]: budget }),
      },
    });
    bedrock.requests.length = 0;
    const { runId } = await engine.start(reportPipeline, input({ reportId: 'RPT-2026-BUDGET' }));
    const notice = await moto.receiveNotice(notices.queueUrl, 60_000);
    expect(notice.attributes).toMatchObject({ runId });
    await engine.approve(runId, 'review', { token: reviewLinkIn(notice.message).token, reviewer: 'alice@example.com' });
    const outcome = await engine.result(runId, { timeoutMs: 60_000 });
    expect(outcome.status).toBe('succeeded');
    expect((outcome as { output: { report: { sections: Record<string, number> } } }).output.report.sections).toMatchObject({ total: 9, ok: 9 });

    const calls = bedrock.requests
      .filter((r) => r.modelId === MODEL)
      .map((r) => Date.parse(r.time))
      .sort((a, b) => a - b);
    expect(calls.length).toBeGreaterThanOrEqual(9);
    // each call arrives a little after its grant: windows 10 % shorter than the budget's absorb that
    const busiest = Math.max(...calls.map((t) => calls.filter((o) => o >= t && o < t + budget.windowMs * 0.9).length));
    expect(busiest).toBeLessThanOrEqual(budget.requestsPerMinute);
    // every call was granted by the table (one permit each), none by a fallback
    const item = await dynamo.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `model#${MODEL}` } }, ConsistentRead: true }));
    expect(Number(item.Item?.seq?.N)).toBe(calls.length);
    expect(JSON.parse(item.Item!.fl!.S!)).toEqual({});
    expect(lines.filter((l) => String(l.msg).startsWith('model limiter:'))).toEqual([]);
    const run = (await registry.getRun(runId))!;
    expect(run.attempts.filter((a) => a.stage === 'generate' && a.status === 'succeeded')).toHaveLength(9);
    console.info(
      `deployed-handlers e2e: ${calls.length} Bedrock calls under ${budget.requestsPerMinute} per ${budget.windowMs} ms, busiest window ${busiest}, first to last ${calls.at(-1)! - calls[0]!} ms`,
    );
  });
});
