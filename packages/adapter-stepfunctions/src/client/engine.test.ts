import { SFNClient } from '@aws-sdk/client-sfn';
import { definePipeline, defineStage, type RunEvent } from '@baton/core';
import { createReviewToken } from '@baton/core/engine';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryReviewStore, type ReviewRecord, type ReviewStore } from '../lambda/reviews.js';
import { createStepFunctionsEngine } from './engine.js';
import { fakeMachineArn, startFakeSfn, type FakeExecution, type FakeSfn } from './test-support/fake-sfn.js';
import { HistoryWriter, lambdaFailure } from './test-support/history.js';

const RETRY = { errors: ['ThrottlingException'], intervalMs: 1500, backoffRate: 2, maxAttempts: 3, jitter: 'FULL' as const, maxDelayMs: 60_000 };
const step = defineStage({
  name: 'write',
  version: 1,
  input: z.unknown(),
  output: z.unknown(),
  retry: [RETRY],
  async run(i) {
    return i;
  },
});
const report = definePipeline({ name: 'report', version: 1, input: z.object({ topic: z.string(), pages: z.number().default(3) }) })
  .task('plan', step, { resultPath: '$.plan' })
  .approval('review', { gate: 'review', timeoutSeconds: 86_400 })
  .build();
const triage = definePipeline({ name: 'triage', version: 1 }).task('plan', step).build();

const SM = fakeMachineArn('report');
const arnOf = (runId: string): string => `arn:aws:states:eu-west-1:123456789012:execution:report:${runId}`;

describe('createStepFunctionsEngine on the Step Functions JSON protocol', () => {
  let fake: FakeSfn;
  let client: SFNClient;
  let reviews: ReviewStore;
  beforeAll(async () => {
    fake = await startFakeSfn();
    client = new SFNClient({ endpoint: fake.url, region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await fake.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
    fake.executions.clear();
    fake.tokens.clear();
    fake.historyPageSize = 1000;
    delete fake.onStart;
    delete fake.onRedrive;
    reviews = createMemoryReviewStore();
  });
  const engineOf = (extra: Partial<Parameters<typeof createStepFunctionsEngine>[0]> = {}): ReturnType<typeof createStepFunctionsEngine> =>
    createStepFunctionsEngine({ client, stateMachineArn: SM, pipelines: [report], reviews, pollIntervalMs: 10, ...extra });

  it('start sends StartExecution named after the run id with the parsed input; the same name and input is the same run', async () => {
    const engine = engineOf();
    expect(await engine.start('report', { topic: 'q3' }, { runId: 'run-1' })).toEqual({ runId: 'run-1' });
    expect(fake.calls[0]).toEqual({ op: 'StartExecution', body: { stateMachineArn: SM, name: 'run-1', input: '{"topic":"q3","pages":3}' } });
    // same input, key order aside, from another engine object: the same run (the service says ExecutionAlreadyExists once closed)
    fake.executions.get(arnOf('run-1'))!.status = 'SUCCEEDED';
    expect(await engineOf().start('report', { pages: 3, topic: 'q3' }, { runId: 'run-1' })).toEqual({ runId: 'run-1' });
    await expect(engineOf().start('report', { topic: 'q4' }, { runId: 'run-1' })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringMatching(/run id "run-1" is already an execution of .* with another input/),
      details: { awsError: 'ExecutionAlreadyExists' },
    });
    expect(fake.executions.size).toBe(1);
    const { runId } = await engine.start(report, { topic: 'x' });
    expect(runId).toMatch(/^report-\d{14}-[0-9a-f]{8}$/);
    await expect(engine.start('report', { topic: 'x' }, { runId: 'has space' })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringMatching(/invalid run id "has space": a run id is 1-64 characters/),
    });
    await expect(engine.start('triage', {})).rejects.toMatchObject({ code: 'PipelineNotFound', message: expect.stringMatching(/unknown pipeline "triage"/) });
  });

  it('invalid input starts no execution: the run is failed with InvalidInput here and in the observer', async () => {
    const events: RunEvent[] = [];
    const engine = engineOf({ observer: (e) => void events.push(e) });
    const { runId } = await engine.start('report', { topic: 7 }, { runId: 'bad-1' });
    expect(fake.calls).toEqual([]);
    const outcome = await engine.result(runId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'InvalidInput', message: expect.stringMatching(/topic/) } });
    expect(await engine.status(runId)).toMatchObject({
      status: 'failed',
      engine: 'stepfunctions',
      pipeline: 'report',
      attempts: [],
      error: { code: 'InvalidInput' },
    });
    expect(events.map((e) => e.type)).toEqual(['run-started', 'run-finished']);
    expect((await engine.list({ status: 'failed' })).map((r) => r.runId)).toEqual(['bad-1']);
    await expect(engine.redrive(runId)).rejects.toThrow(/failed on its input/);
  });

  it('status reads DescribeExecution and every history page: attempts, retries with their bounds, steps in flight, open reviews', async () => {
    fake.historyPageSize = 4; // several GetExecutionHistory pages
    const engine = engineOf();
    let w!: HistoryWriter;
    fake.onStart = (e) => {
      w = new HistoryWriter(e);
      let last = w.started();
      const throttled = lambdaFailure('ThrottlingException', 'slow down', true);
      last = w.stageAttempt(last, { state: 'plan', stage: 'write', stepPath: 'plan', end: throttled });
      w.tick(1.2);
      last = w.stageAttempt(last, { state: 'plan', stage: 'write', stepPath: 'plan', retryCount: 1, end: throttled, enter: false });
      w.tick(2.5);
      last = w.stageAttempt(last, { state: 'plan', stage: 'write', stepPath: 'plan', retryCount: 2, end: { output: { plan: 1 } }, enter: false });
      last = w.exited(last, 'plan');
      w.tick(1);
      w.gate(last, { state: 'review', gate: 'review', stepPath: 'review', taskToken: 'TT-1' });
    };
    const { runId } = await engine.start('report', { topic: 'q3' }, { runId: 'run-2' });
    const { hash } = createReviewToken();
    await reviews.put(review(runId, hash, 'TT-1'));
    const info = await engine.status(runId);
    expect(info).toMatchObject({ runId, pipeline: 'report', engine: 'stepfunctions', status: 'waiting', currentSteps: ['review'] });
    expect(info.attempts.map((a) => [a.stepPath, a.attempt, a.status, a.error?.code])).toEqual([
      ['plan', 1, 'failed', 'ThrottlingException'],
      ['plan', 2, 'failed', 'ThrottlingException'],
      ['plan', 3, 'succeeded', undefined],
    ]);
    expect(info.attempts[0]!.error).toEqual({ code: 'ThrottlingException', message: 'slow down', retryable: true });
    // delays measured between the failure and the next TaskScheduled; bounds from the compiled retrier (1.5 s rounded up to 2 s)
    expect(info.retries).toEqual([
      { stepPath: 'plan', attempt: 1, code: 'ThrottlingException', delayMs: 1200, maxDelayMs: 2000 },
      { stepPath: 'plan', attempt: 2, code: 'ThrottlingException', delayMs: 2500, maxDelayMs: 4000 },
    ]);
    expect(info.pendingReviews).toEqual([
      { runId, gate: 'review', stepPath: 'review', payload: { title: 'Q3' }, createdAt: expect.any(String), expiresAt: expect.any(String) },
    ]);
    expect(JSON.stringify(info)).not.toContain('TT-1');
    expect(fake.calls.filter((c) => c.op === 'GetExecutionHistory').length).toBeGreaterThan(2);

    w.succeed(w.exited(w.end(w.execution.events.length, { output: { approved: true } }), 'review'), { done: true });
    await reviews.close(arnOf(runId), 'review', { status: 'approved', at: new Date().toISOString() });
    const before = fake.calls.length;
    const done = await engine.status(runId);
    expect(done).toMatchObject({ status: 'succeeded', output: { done: true }, currentSteps: [], pendingReviews: [] });
    expect(done.attempts).toEqual(info.attempts);
    // the history read before is kept: only the new events are read, newest first (one page of 4 here)
    const reads = fake.calls.slice(before).filter((c) => c.op === 'GetExecutionHistory');
    expect(reads.map((c) => c.body.reverseOrder)).toEqual([true]);
    expect(done.finishedAt).toBe(new Date(w.execution.stopDate! * 1000).toISOString());
  });

  it('map iterations interleave: each end event is matched to its attempt through previousEventId', async () => {
    const engine = engineOf();
    fake.onStart = (e) => {
      const w = new HistoryWriter(e);
      const start = w.started();
      const map = w.add('MapStateEntered', { stateEnteredEventDetails: { name: 'sections', input: '{}' } }, start);
      const started = w.add('MapStateStarted', { mapStateStartedEventDetails: { length: 2 } }, map);
      const it0 = w.add('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'sections', index: 0 } }, started);
      const it1 = w.add('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'sections', index: 1 } }, started);
      const a0 = w.stageAttempt(it0, { state: 'generate', stage: 'write', stepPath: 'sections[0]/generate', end: 'open' });
      const a1 = w.stageAttempt(it1, { state: 'generate', stage: 'write', stepPath: 'sections[1]/generate', end: 'open' });
      w.tick(3);
      w.end(a1, lambdaFailure('ValidationFailed', 'no citation', false));
      w.tick(1);
      w.end(a0, { output: { text: 'ok' } });
      w.stageAttempt(it1, { state: 'repair', stage: 'write', stepPath: 'sections[1]/repair', end: 'open' });
    };
    const { runId } = await engine.start('report', { topic: 'q3' }, { runId: 'run-map' });
    const info = await engine.status(runId);
    expect(info.status).toBe('running');
    expect(info.attempts.map((a) => [a.stepPath, a.status, a.error?.code])).toEqual([
      ['sections[0]/generate', 'succeeded', undefined],
      ['sections[1]/generate', 'failed', 'ValidationFailed'],
      ['sections[1]/repair', 'running', undefined],
    ]);
    expect(info.currentSteps).toEqual(['sections[1]/repair']);
    expect(info.retries).toEqual([]);
  });

  it('result polls DescribeExecution until the run ends, maps a failure back to the Baton error, and times out typed', async () => {
    const engine = engineOf();
    let execution!: FakeExecution;
    fake.onStart = (e) => (execution = e);
    const { runId } = await engine.start('report', { topic: 'q3' }, { runId: 'run-3' });
    await expect(engine.result(runId, { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'ResultTimedOut',
      message: 'run "run-3" did not end within 50 ms (it goes on; call result() again to wait more)',
    });
    const waiting = engine.result(runId);
    setTimeout(
      () => Object.assign(execution, { status: 'FAILED', stopDate: Date.now() / 1000, ...lambdaFailure('SafetyCheckFailed', 'denylisted', false) }),
      40,
    );
    expect(await waiting).toEqual({ status: 'failed', error: { code: 'SafetyCheckFailed', message: 'denylisted', retryable: false } });
    execution.status = 'TIMED_OUT';
    expect(await engine.result(runId)).toMatchObject({ status: 'failed', error: { code: 'States.Timeout' } });
    await expect(engine.result('nobody')).rejects.toMatchObject({ code: 'RunNotFound', message: 'unknown run "nobody"' });
    await expect(engine.status('nobody')).rejects.toMatchObject({ code: 'RunNotFound', message: 'unknown run "nobody"' });
  });

  it('approve and reject check the token in the review store, then answer the task token', async () => {
    const engine = engineOf();
    const answers: unknown[] = [];
    const { runId } = await engine.start('report', { topic: 'q3' }, { runId: 'run-4' });
    const { token, hash } = createReviewToken();
    await reviews.put({ ...review(runId, hash, 'TT-4'), reviewer: 'ana' });
    fake.tokens.set('TT-4', { executionArn: arnOf(runId), answer: (a) => answers.push(a) });
    await expect(engine.approve(runId, 'review', { token: 'wrong', reviewer: 'ana' })).rejects.toMatchObject({
      code: 'ReviewTokenRejected',
      message: expect.stringMatching(/token rejected/),
    });
    await expect(engine.approve(runId, 'review', { token, reviewer: 'bob' })).rejects.toMatchObject({
      code: 'ReviewTokenRejected',
      message: expect.stringMatching(/assigned to reviewer "ana"/),
    });
    await expect(engine.approve(runId, 'other-gate', { token })).rejects.toMatchObject({
      code: 'GateNotFound',
      message: expect.stringMatching(/has no gate "other-gate"/),
    });
    expect(fake.calls.some((c) => c.op.startsWith('SendTask'))).toBe(false);
    await engine.approve(runId, 'review', { token, reviewer: 'ana', comment: 'fine' });
    expect(answers).toEqual([{ output: JSON.stringify({ approved: true, reviewer: 'ana', comment: 'fine', sections: {} }) }]);
    await expect(engine.approve(runId, 'review', { token, reviewer: 'ana' })).rejects.toMatchObject({
      code: 'ReviewTokenUsed',
      message: expect.stringMatching(/already used/),
    });

    // another run's token is foreign here; a reject answers with ApprovalRejected
    const other = createReviewToken();
    await reviews.put({ ...review(runId, other.hash, 'TT-5'), stepPath: 'review#2' });
    fake.tokens.set('TT-5', { executionArn: arnOf(runId), answer: (a) => answers.push(a) });
    await expect(engine.reject(runId, 'review', { token })).rejects.toMatchObject({ code: 'ReviewTokenUsed' });
    await engine.reject(runId, 'review', { token: other.token, comment: 'numbers wrong' });
    expect(answers[1]).toMatchObject({ error: 'ApprovalRejected' });
    expect(JSON.parse((answers[1] as { cause: string }).cause)).toMatchObject({
      code: 'ApprovalRejected',
      details: { gate: 'review', comment: 'numbers wrong' },
    });
  });

  it('a task token the service no longer awaits is refused typed (TaskTimedOut, TaskDoesNotExist)', async () => {
    const engine = engineOf();
    const { runId } = await engine.start('report', { topic: 'q3' }, { runId: 'run-6' });
    const { token, hash } = createReviewToken();
    await reviews.put(review(runId, hash, 'TT-6'));
    fake.failNext.SendTaskSuccess = { name: 'TaskTimedOut', message: 'Task Timed Out' };
    await expect(engine.approve(runId, 'review', { token })).rejects.toMatchObject({
      code: 'GateNotOpen',
      message: 'run "run-6" has no open review at gate "review" (not reached yet, already decided, timed out, or the run ended)',
      details: { awsError: 'TaskTimedOut' },
    });
    const second = createReviewToken();
    await reviews.put({ ...review(runId, second.hash, 'TT-gone'), stepPath: 'review#2' });
    await expect(engine.reject(runId, 'review', { token: second.token })).rejects.toMatchObject({ details: { awsError: 'TaskDoesNotExist' } });
  });

  it('redrive is RedriveExecution; a run that has not failed, or that the service will not redrive, is refused typed', async () => {
    const engine = engineOf();
    const { runId } = await engine.start('report', { topic: 'q3' }, { runId: 'run-7' });
    const execution = fake.executions.get(arnOf(runId))!;
    await expect(engine.redrive(runId)).rejects.toMatchObject({
      code: 'RunNotRedrivable',
      message: 'run "run-7" is still in progress; only a failed run can be redriven',
    });
    Object.assign(execution, { status: 'FAILED', stopDate: Date.now() / 1000, ...lambdaFailure('StageFailed', 'boom', true) });
    // a stale read right after the redrive still says FAILED: result waits for the redriven execution's end
    fake.onRedrive = (e) => {
      Object.assign(e, { status: 'FAILED', redriveCount: 0 });
      setTimeout(() => Object.assign(e, { status: 'RUNNING', redriveCount: 1 }), 30);
      setTimeout(() => Object.assign(e, { status: 'SUCCEEDED', output: '{"ok":true}', stopDate: Date.now() / 1000 }), 60);
    };
    await engine.redrive(runId);
    expect(fake.calls.filter((c) => c.op === 'RedriveExecution')).toMatchObject([{ body: { executionArn: arnOf(runId), clientToken: expect.any(String) } }]);
    expect(await engine.result(runId)).toEqual({ status: 'succeeded', output: { ok: true } });

    // with replayWhenRefused: false, the service's refusal is the answer
    const strict = engineOf({ replayWhenRefused: false });
    Object.assign(execution, { status: 'FAILED', redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded' });
    await expect(strict.redrive(runId)).rejects.toMatchObject({
      code: 'RunNotRedrivable',
      message: expect.stringMatching(/cannot redrive run "run-7": Execution redrivable period exceeded\..*14 days/),
    });
    delete execution.redriveStatus;
    fake.failNext.RedriveExecution = { name: 'ExecutionNotRedrivable', message: 'Execution has exceeded the max execution time' };
    await expect(strict.redrive(runId)).rejects.toMatchObject({
      details: { awsError: 'ExecutionNotRedrivable' },
      message: expect.stringMatching(/max execution time/),
    });
  });

  it('where the service refuses RedriveExecution, redrive replays the run: a new execution <runId>.r<n> with the same input, which status, result, list and approve follow', async () => {
    const engine = engineOf();
    const { runId } = await engine.start('report', { topic: 'q9' }, { runId: 'run-9' });
    Object.assign(fake.executions.get(arnOf(runId))!, {
      status: 'FAILED',
      stopDate: Date.now() / 1000,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded',
      ...lambdaFailure('StageFailed', 'boom', true),
    });
    fake.calls.length = 0;
    await engine.redrive(runId);
    expect(fake.calls.filter((c) => c.op === 'RedriveExecution')).toEqual([]);
    expect(fake.calls.filter((c) => c.op === 'StartExecution')).toMatchObject([
      { body: { stateMachineArn: SM, name: 'run-9.r1', input: '{"topic":"q9","pages":3}' } },
    ]);
    // another engine object (another process) finds the replay from the run id
    const other = engineOf();
    expect(await other.status(runId)).toMatchObject({ runId, status: 'running' });
    expect((await other.list()).filter((r) => r.runId === runId)).toEqual([expect.objectContaining({ runId, status: 'running' })]);
    // the replay fails too, 15 days ago as well: the next replay is .r2
    Object.assign(fake.executions.get(arnOf('run-9.r1'))!, {
      status: 'FAILED',
      stopDate: Date.now() / 1000,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded',
      ...lambdaFailure('StageFailed', 'again', true),
    });
    expect((await other.list({ status: 'failed' })).filter((r) => r.runId === runId)).toHaveLength(1);
    await other.redrive(runId);
    expect(fake.calls.filter((c) => c.op === 'StartExecution').map((c) => (c.body as { name: string }).name)).toEqual(['run-9.r1', 'run-9.r2']);
    Object.assign(fake.executions.get(arnOf('run-9.r2'))!, { status: 'SUCCEEDED', output: '{"ok":2}', stopDate: Date.now() / 1000 });
    expect(await engine.result(runId)).toEqual({ status: 'succeeded', output: { ok: 2 } });
    expect((await engineOf().list()).filter((r) => r.runId === runId)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
  });

  it('list maps ListExecutions (every page) to run summaries, waiting when a review is open, per pipeline machine', async () => {
    const engine = createStepFunctionsEngine({
      client,
      stateMachines: { report: SM, triage: fakeMachineArn('triage') },
      pipelines: [report, triage],
      reviews,
      pollIntervalMs: 10,
    });
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      await engine.start('report', { topic: id }, { runId: `run-${id}` });
      fake.executions.get(arnOf(`run-${id}`))!.startDate = 1_700_000_000 + i;
    }
    await engine.start('triage', {}, { runId: 'run-t' });
    Object.assign(fake.executions.get(arnOf('run-a'))!, { status: 'ABORTED', stopDate: 1_700_000_100 });
    await reviews.put(review('run-b', 'h', 'TT-b'));
    const rows = await engine.list();
    expect(rows.map((r) => [r.runId, r.pipeline, r.status])).toEqual([
      ['run-t', 'triage', 'running'],
      ['run-c', 'report', 'running'],
      ['run-b', 'report', 'waiting'],
      ['run-a', 'report', 'failed'],
    ]);
    expect(rows.find((r) => r.runId === 'run-a')!.updatedAt).toBe(new Date(1_700_000_100_000).toISOString());
    expect((await engine.list({ status: 'waiting' })).map((r) => r.runId)).toEqual(['run-b']);
    expect((await engine.list({ status: 'running', pipeline: 'report' })).map((r) => r.runId)).toEqual(['run-c']);
    // the run is found on its pipeline's machine
    expect(await engine.status('run-t')).toMatchObject({ pipeline: 'triage' });
  });

  it('service failures become Baton errors that say what was being done', async () => {
    const engine = engineOf();
    fake.failNext.StartExecution = { name: 'StateMachineDoesNotExist', message: 'State Machine Does Not Exist' };
    await expect(engine.start('report', { topic: 'q' }, { runId: 'run-8' })).rejects.toMatchObject({
      code: 'ConfigurationError',
      details: { awsError: 'StateMachineDoesNotExist' },
    });
    fake.failNext.DescribeExecution = { name: 'AccessDeniedException', message: 'not authorized to perform: states:DescribeExecution' };
    await expect(engine.status('run-8')).rejects.toMatchObject({
      code: 'ConfigurationError',
      message: expect.stringMatching(/DescribeExecution of run "run-8" failed: AccessDeniedException/),
    });
    const offline = createStepFunctionsEngine({
      client: new SFNClient({ endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, maxAttempts: 1 }),
      stateMachineArn: SM,
      pipelines: [report],
      reviews,
    });
    await expect(offline.status('run-9')).rejects.toMatchObject({
      code: 'ServiceUnavailableException',
      message: expect.stringMatching(/AWS_ENDPOINT_URL_SFN/),
    });
    // a throttled call is the SDK's to retry (its standard retry strategy); a client that does not retry surfaces it typed
    const retrying = new SFNClient({ endpoint: fake.url, region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    await engine.start('report', { topic: 'q' }, { runId: 'run-throttled' });
    fake.failNext.DescribeExecution = { name: 'ThrottlingException', message: 'Rate exceeded' };
    expect(await createStepFunctionsEngine({ client: retrying, stateMachineArn: SM, pipelines: [report], reviews }).status('run-throttled')).toMatchObject({
      status: 'running',
    });
    expect(fake.calls.filter((c) => c.op === 'DescribeExecution').length).toBeGreaterThanOrEqual(2);
    retrying.destroy();
    fake.failNext.DescribeExecution = { name: 'ThrottlingException', message: 'Rate exceeded' };
    await expect(engine.status('run-throttled')).rejects.toMatchObject({
      code: 'ServiceUnavailableException',
      retryable: true,
      details: { awsError: 'ThrottlingException' },
    });
    expect(() =>
      createStepFunctionsEngine({ client, stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:other', pipelines: [report, triage], reviews }),
    ).toThrow(/not named after any of the pipelines/);
    expect(() => createStepFunctionsEngine({ client, pipelines: [report], reviews })).toThrow(/no state machine/);
  });
});

describe('createStepFunctionsEngine without a client', () => {
  it('builds one from the environment (AWS_REGION, AWS_ENDPOINT_URL_SFN, credentials) and says what is missing', async () => {
    const fake = await startFakeSfn();
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SFN: fake.url, AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' });
      const engine = createStepFunctionsEngine({ stateMachineArn: SM, pipelines: [report], reviews: createMemoryReviewStore() });
      await engine.start('report', { topic: 'env' }, { runId: 'run-env' });
      expect(fake.executions.has(arnOf('run-env'))).toBe(true);
      await engine.close();
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      const noRegion = createStepFunctionsEngine({ stateMachineArn: SM, pipelines: [report], reviews: createMemoryReviewStore() });
      await expect(noRegion.status('run-env')).rejects.toMatchObject({ code: 'ConfigurationError', message: expect.stringMatching(/AWS_REGION/) });
      await noRegion.close();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await fake.close();
    }
  });
});

function review(runId: string, tokenHash: string, taskToken: string): ReviewRecord {
  const now = Date.now();
  return {
    runId,
    executionArn: arnOf(runId),
    gate: 'review',
    stepPath: 'review',
    payload: { title: 'Q3' },
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 86_400_000).toISOString(),
    tokenHash,
    taskToken,
    status: 'open',
  };
}
