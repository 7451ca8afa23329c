import { StageError, createJsonLogger, createMemoryBlobStore, defineStage, type ReviewNotice, type RunEvent } from '@baton/core';
import { hashReviewToken } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorFromCause, lambdaCause } from './errors.js';
import { stageInputOf } from './event.js';
import { createStageHandler, isFinalFailure } from './handler.js';
import { createReviewGateHandler } from './review-gate.js';
import { createMemoryReviewStore } from './reviews.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:report:run-42';
const echo = defineStage({
  name: 'echo',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  async run(input, ctx) {
    ctx.log.info('echoing');
    if (input.text === 'throttle') throw new StageError('ThrottlingException', 'slow down', { details: { quota: 3 } });
    return { text: input.text.toUpperCase() };
  },
});

describe('createStageHandler', () => {
  it('returns the stage output; logs carry the execution ARN, step and attempt', async () => {
    const lines: Record<string, unknown>[] = [];
    const handler = createStageHandler({
      stages: echo,
      blobs: createMemoryBlobStore(),
      logger: createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });
    const out = await handler({ stage: 'echo', stepPath: 'sections[2]/echo', executionId: ARN, retryCount: 1, input: { text: 'hi' } });
    expect(out).toEqual({ text: 'HI' });
    const line = lines.find((l) => l.msg === 'echoing')!;
    expect(line).toMatchObject({ executionArn: ARN, step: 'sections[2]/echo', attempt: 2, runId: 'run-42' });
  });

  it('throws with name = StageError code and the serialized error as message, which the machine parses back', async () => {
    const handler = createStageHandler({ stages: [echo], blobs: createMemoryBlobStore() });
    const err: Error = await handler({ stage: 'echo', stepPath: 'echo', executionId: ARN, retryCount: 0, input: { text: 'throttle' } }).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ThrottlingException');
    expect(JSON.parse(err.message)).toEqual({ code: 'ThrottlingException', message: 'slow down', retryable: true, details: { quota: 3 } });
    // what Step Functions reports as Cause for a Lambda error, and what the compiled Pass states recover
    expect(errorFromCause(err.name, lambdaCause(err))).toEqual({ code: 'ThrottlingException', message: 'slow down', retryable: true, details: { quota: 3 } });
    const bad: Error = await handler({ stage: 'echo', stepPath: 'echo', executionId: ARN, retryCount: 0, input: { text: 3 } }).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(bad.name).toBe('InvalidInput');
    const unknown: Error = await handler({ stage: 'nope', stepPath: 'x', executionId: ARN, retryCount: 0, input: {} }).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(unknown.name).toBe('StageFailed');
    expect(unknown.message).toMatch(/does not run stage \\"nope\\"/);
  });
});

describe('createStageHandler, state event shape (lambda:invoke Tasks writing below the root)', () => {
  const handler = createStageHandler({ stages: echo, blobs: createMemoryBlobStore() });
  const base = { stage: 'echo', stepPath: 'items[1]/echo', executionId: ARN, retryCount: 0 };

  it('selects the input from the state at its root and returns the state with the output at the result path', async () => {
    const state = { path: 'items[1]/', output: { draft: { text: 'hi' }, keep: [1, 2] } };
    const out = await handler({ ...base, state, root: '$.output', select: JSON.stringify({ 'text.$': '$.draft.text' }), resultPath: '$.output.echoed' });
    expect(out).toEqual({ path: 'items[1]/', output: { draft: { text: 'hi' }, keep: [1, 2], echoed: { text: 'HI' } } });
    // a discarded result returns the state as it was
    expect(await handler({ ...base, state, root: '$.output', select: JSON.stringify({ 'text.$': '$.draft.text' }), resultPath: null })).toEqual(state);
    // no selection: the whole Baton state is the input; $$.Execution.Id is the execution ARN as in Step Functions
    const whole = await handler({ ...base, state: { text: 'x' }, resultPath: '$.r' });
    expect(whole).toEqual({ text: 'x', r: { text: 'X' } });
    const ctx = await handler({ ...base, state: { t: 1 }, select: JSON.stringify({ 'text.$': '$$.Execution.Id' }), resultPath: '$.r' });
    expect(ctx).toEqual({ t: 1, r: { text: ARN.toUpperCase() } });
  });

  it("decodes a caught { Error, Cause } at the given paths into Baton's error, before selecting and in the state it returns", async () => {
    const thrown = await handler({ ...base, input: { text: 'throttle' } }).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    const caught = { Error: thrown.name, Cause: lambdaCause(thrown) };
    const seen: unknown[] = [];
    const spy = defineStage({
      ...echo,
      name: 'spy',
      async run(input) {
        seen.push(input);
        return { text: 'ok' };
      },
      input: z.object({ text: z.string(), error: z.unknown() }),
    });
    const h = createStageHandler({ stages: spy, blobs: createMemoryBlobStore() });
    const out = await h({
      ...base,
      stage: 'spy',
      state: { text: 'a', caught, other: { Error: 'X', Cause: 'y' } },
      select: JSON.stringify({ 'text.$': '$.text', 'error.$': '$.caught' }),
      resultPath: '$.r',
      errors: ['$.caught', '$.absent'],
    });
    const baton = { code: 'ThrottlingException', message: 'slow down', retryable: true, details: { quota: 3 } };
    expect(seen).toEqual([{ text: 'a', error: baton }]);
    // only the listed paths are decoded
    expect(out).toEqual({ text: 'a', caught: baton, other: { Error: 'X', Cause: 'y' }, r: { text: 'ok' } });
    // a cause that is not Baton's (a Step Functions error) still becomes { code, message }
    const plain = await h({
      ...base,
      stage: 'spy',
      state: { text: 'b', caught: { Error: 'States.Timeout', Cause: 'Task timed out' } },
      select: JSON.stringify({ 'text.$': '$.text', 'error.$': '$.caught' }),
      resultPath: '$.r',
      errors: ['$.caught'],
    });
    expect(plain).toMatchObject({ caught: { code: 'States.Timeout', message: 'Task timed out' } });
  });

  it('a selection that does not match the state fails as States.Runtime, like a bad Parameters path', async () => {
    const err: Error = await handler({ ...base, state: {}, select: JSON.stringify({ 'text.$': '$.missing' }), resultPath: '$.r' }).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('States.Runtime');
    expect(JSON.parse(err.message)).toMatchObject({ code: 'States.Runtime', message: expect.stringMatching(/\$\.missing/) });
  });
});

describe('input event shape with caught errors (Tasks picking their output fields)', () => {
  it('decodes a raw { Error, Cause } at the listed input paths and leaves other values alone', () => {
    const thrown = new Error(JSON.stringify({ code: 'ValidationFailed', message: 'no citation', retryable: false, details: { errors: ['e1'] } }));
    thrown.name = 'ValidationFailed';
    const raw = { Error: 'ValidationFailed', Cause: lambdaCause(thrown) };
    const event = {
      stage: 'echo',
      stepPath: 's',
      executionId: ARN,
      retryCount: 0,
      input: { text: 'a', check: raw, other: { Error: 'x', extra: 1 } },
      errors: ['$.check', '$.other', '$.missing'],
    };
    expect(stageInputOf(event)).toEqual({
      text: 'a',
      check: { code: 'ValidationFailed', message: 'no citation', retryable: false, details: { errors: ['e1'] } },
      other: { Error: 'x', extra: 1 },
    });
    // a previous round's decoded value is not touched (counted loops run the task again)
    expect(stageInputOf({ ...event, input: { check: { valid: false } } })).toEqual({ check: { valid: false } });
  });
});

describe('createStageHandler with a run observer (the registry of deployed runs)', () => {
  it('reports each attempt and its step, awaited before it returns; a failure a retrier takes leaves the step open', async () => {
    const events: RunEvent[] = [];
    const handler = createStageHandler({ stages: echo, blobs: createMemoryBlobStore(), observer: async (e) => void events.push(e) });
    const retry = [{ errors: ['ThrottlingException'] }];
    await handler({ stage: 'echo', stepPath: 'sections[0]/echo', executionId: ARN, retryCount: 0, retry, input: { text: 'throttle' } }).catch(() => undefined);
    await handler({ stage: 'echo', stepPath: 'sections[0]/echo', executionId: ARN, retryCount: 1, input: { text: 'ok' } });
    const seen = events.map((e) => `${e.type}${'attempt' in e ? `#${e.attempt}` : ''}${'status' in e ? `:${e.status}` : ''}`);
    expect(seen).toEqual([
      'step-started',
      'attempt-started#1',
      'attempt-finished#1:failed',
      'attempt-started#2',
      'attempt-finished#2:succeeded',
      'step-finished:succeeded',
    ]);
    expect(events.every((e) => e.runId === 'run-42')).toBe(true);
    const failed = events.find((e) => e.type === 'attempt-finished' && e.status === 'failed');
    expect(failed).toMatchObject({ error: { code: 'ThrottlingException' }, metrics: { modelCalls: 0 } });
  });
});

describe('createStageHandler under the Lambda deadline', () => {
  it('times the stage out before the function would be killed, as a catchable States.Timeout', async () => {
    const slow = defineStage({
      name: 'slow',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      async run(_input, ctx) {
        await new Promise((resolve, reject) => {
          const t = setTimeout(resolve, 30_000);
          ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))));
        });
        return {};
      },
    });
    const handler = createStageHandler({ stages: slow, blobs: createMemoryBlobStore() });
    const err: Error = await handler(
      { stage: 'slow', stepPath: 'slow', executionId: ARN, retryCount: 0, input: {} },
      { getRemainingTimeInMillis: () => 1200 },
    ).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('States.Timeout');
    expect(JSON.parse(err.message)).toMatchObject({ code: 'States.Timeout', details: { timeoutMs: 200 } });
  });
});

describe('createReviewGateHandler', () => {
  it('records the pending review with a hashed review token and the task token, notifies, and returns', async () => {
    const store = createMemoryReviewStore();
    const notices: ReviewNotice[] = [];
    const gate = createReviewGateHandler({ store, notifier: (n) => void notices.push(n) });
    const out = await gate({
      taskToken: 'TT',
      executionId: ARN,
      gate: 'review',
      stepPath: 'review',
      timeoutSeconds: 60,
      reviewer: 'alice',
      payload: { title: 'Q3' },
    });
    expect(out.recorded).toBe(true);
    const [row] = await store.list(ARN);
    expect(notices).toHaveLength(1);
    const token = notices[0]!.token;
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(row).toMatchObject({
      runId: 'run-42',
      gate: 'review',
      reviewer: 'alice',
      taskToken: 'TT',
      status: 'open',
      tokenHash: hashReviewToken(token),
      payload: { title: 'Q3' },
    });
    expect(JSON.stringify(row)).not.toContain(token);
    expect(notices[0]).not.toHaveProperty('taskToken');
  });
});

describe('createStageHandler records a step failed when its failure is final', () => {
  const flaky = defineStage({
    name: 'flaky',
    version: 1,
    input: z.object({ code: z.string() }),
    output: z.object({}),
    retry: [{ errors: ['ThrottlingException'], maxAttempts: 2 }],
    async run(input) {
      throw new StageError(input.code, 'no');
    },
  });
  const finishes = async (event: { retryCount: number; code: string; retry?: { errors: string[]; maxAttempts?: number }[] }): Promise<string[]> => {
    const events: RunEvent[] = [];
    const handler = createStageHandler({ stages: flaky, blobs: createMemoryBlobStore(), observer: async (e) => void events.push(e) });
    await handler({
      stage: 'flaky',
      stepPath: 'flaky',
      executionId: ARN,
      retryCount: event.retryCount,
      input: { code: event.code },
      ...(event.retry ? { retry: event.retry } : {}),
    }).catch(() => undefined);
    return events.filter((e) => e.type === 'step-finished').map((e) => (e.type === 'step-finished' ? `${e.status}:${e.error?.code}` : ''));
  };

  it('retryable with a retry left: the step stays open; at the last retry or without a retrier: failed', async () => {
    expect(await finishes({ retryCount: 0, code: 'ThrottlingException' })).toEqual([]);
    expect(await finishes({ retryCount: 1, code: 'ThrottlingException' })).toEqual([]);
    expect(await finishes({ retryCount: 2, code: 'ThrottlingException' })).toEqual(['failed:ThrottlingException']);
    // retryable, but no retrier of this stage names it
    expect(await finishes({ retryCount: 0, code: 'ServiceUnavailableException' })).toEqual(['failed:ServiceUnavailableException']);
    expect(await finishes({ retryCount: 0, code: 'ValidationFailed' })).toEqual(['failed:ValidationFailed']);
  });

  it("uses the task's own policy when the payload carries one", async () => {
    expect(await finishes({ retryCount: 2, code: 'ThrottlingException', retry: [{ errors: ['ThrottlingException'], maxAttempts: 5 }] })).toEqual([]);
    expect(await finishes({ retryCount: 0, code: 'ThrottlingException', retry: [] })).toEqual(['failed:ThrottlingException']);
  });

  it('isFinalFailure follows the compiled retriers: States.ALL never retries what the error table blocks', () => {
    const all = [{ errors: ['States.ALL'], maxAttempts: 1 }];
    expect(isFinalFailure(all, 'StageFailed', 0)).toBe(false);
    expect(isFinalFailure(all, 'StageFailed', 1)).toBe(true);
    expect(isFinalFailure(all, 'MyOwnCode', 0)).toBe(false);
    expect(isFinalFailure(all, 'ValidationFailed', 0)).toBe(true);
    expect(isFinalFailure(all, 'InvalidInput', 0)).toBe(true);
    expect(isFinalFailure([{ errors: ['InvalidInput'] }], 'InvalidInput', 0)).toBe(true);
    expect(isFinalFailure([], 'ThrottlingException', 0)).toBe(true);
    // default maxAttempts is ASL's 3
    expect(isFinalFailure([{ errors: ['X'] }], 'X', 2)).toBe(false);
    expect(isFinalFailure([{ errors: ['X'] }], 'X', 3)).toBe(true);
  });
});

describe('createReviewGateHandler: unassigned reviews, logs, failures', () => {
  const event = { taskToken: 'TT', executionId: ARN, gate: 'review', stepPath: 'review', timeoutSeconds: 60, payload: {} };

  it('a null reviewer is an unassigned review; every line carries the execution ARN, step and attempt', async () => {
    const store = createMemoryReviewStore();
    const lines: Record<string, unknown>[] = [];
    const gate = createReviewGateHandler({
      store,
      notifier: () => undefined,
      logger: createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });
    await gate({ ...event, reviewer: null, retryCount: 1 });
    const [row] = await store.list(ARN);
    expect(row).not.toHaveProperty('reviewer');
    expect(lines.map((l) => l.msg)).toEqual(['review opened', 'reviewer notified']);
    for (const l of lines) expect(l).toMatchObject({ executionArn: ARN, step: 'review', gate: 'review', attempt: 2 });
  });

  it('records the review before the notice, and throws (named after the code) when the notice fails', async () => {
    const store = createMemoryReviewStore();
    const order: string[] = [];
    const recording = { ...store, put: async (r: Parameters<typeof store.put>[0]) => (order.push('put'), store.put(r)) };
    const lines: Record<string, unknown>[] = [];
    const gate = createReviewGateHandler({
      store: recording,
      notifier: () => {
        order.push('notify');
        throw new StageError('ServiceUnavailableException', 'SNS down');
      },
      logger: createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });
    const err: Error = await gate(event).then(
      () => new Error('no throw'),
      (e: unknown) => e as Error,
    );
    expect(order).toEqual(['put', 'notify']);
    expect(err.name).toBe('ServiceUnavailableException');
    expect(JSON.parse(err.message)).toMatchObject({ code: 'ServiceUnavailableException', message: 'SNS down' });
    expect(lines.at(-1)).toMatchObject({ level: 'error', msg: 'reviewer notice failed', executionArn: ARN, attempt: 1, code: 'ServiceUnavailableException' });
    // a failed write: no notice at all
    const broken = createReviewGateHandler({
      store: { ...store, put: async () => Promise.reject(new Error('db down')) },
      notifier: () => void order.push('notified anyway'),
    });
    await expect(broken(event)).rejects.toMatchObject({ name: 'StageFailed' });
    expect(order).not.toContain('notified anyway');
  });
});
