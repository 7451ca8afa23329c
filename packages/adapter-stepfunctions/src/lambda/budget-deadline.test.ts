import { createMemoryBlobStore, defineStage, type ModelClient, type RunEvent } from '@baton/core';
import { createMemoryModelLimiter } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStageHandler } from './handler.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:report:run-7';
const MODEL = 'm';
const ask = defineStage({
  name: 'ask',
  version: 1,
  usesModel: true,
  timeoutMs: 1000,
  input: z.object({ q: z.string() }),
  output: z.object({ a: z.string() }),
  async run(input, ctx) {
    return { a: (await ctx.model.complete({ messages: [{ role: 'user', content: input.q }], maxTokens: 10 })).text };
  },
});
const calls: string[] = [];
const model: ModelClient = {
  modelId: MODEL,
  async complete(req) {
    calls.push(req.messages[0]!.content);
    return { text: 'ok', modelId: MODEL, usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1 };
  },
};
/** A Lambda context whose invocation ends `ms` from now. */
const lambdaContext = (ms: number) => {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now() };
};

describe('waits for model budget inside a Lambda invocation', () => {
  it('budget that comes within the invocation is waited for; none in time fails with ModelBudgetUnavailable, no model call made', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { [MODEL]: { maxInFlight: 1 } } });
    const handler = createStageHandler({ stages: ask, blobs: createMemoryBlobStore(), model, limiter });
    const held = await limiter.acquire(MODEL, { inputTokens: 1, outputTokens: 1 });
    calls.length = 0;

    // freed after 300 ms: the invocation (1 s stage, 5 s left) waits and succeeds
    setTimeout(() => held.settle({ inputTokens: 1, outputTokens: 1 }), 300);
    await expect(handler({ stage: 'ask', stepPath: 'ask', executionId: ARN, retryCount: 0, input: { q: 'first' } }, lambdaContext(5000))).resolves.toEqual({
      a: 'ok',
    });
    expect(calls).toEqual(['first']);

    // never freed: the wait ends while the stage still has its timeout left, as a retryable error
    const blocker = await limiter.acquire(MODEL, { inputTokens: 1, outputTokens: 1 });
    const failure = await handler({ stage: 'ask', stepPath: 'ask', executionId: ARN, retryCount: 0, input: { q: 'second' } }, lambdaContext(3500)).catch(
      (e: unknown) => e as Error,
    );
    expect(failure).toMatchObject({ name: 'ModelBudgetUnavailable' });
    expect(JSON.parse((failure as Error).message)).toMatchObject({ code: 'ModelBudgetUnavailable', retryable: true });
    expect(calls).toEqual(['first']);
    // the limiter was left as it was: nobody queued behind the blocker
    expect(limiter.snapshot(MODEL)).toMatchObject({ inFlight: 1, waiting: 0 });
    blocker.settle({ inputTokens: 1, outputTokens: 1 });
  });

  it("a stage stopped at the invocation's end after waiting for budget is States.Timeout, in its events and its error", async () => {
    const limiter = createMemoryModelLimiter({ budgets: { [MODEL]: { maxInFlight: 1 } } });
    // asks the model, then works until stopped
    const hang = defineStage({
      ...ask,
      name: 'hang',
      async run(input, ctx) {
        await ctx.model.complete({ messages: [{ role: 'user', content: input.q }], maxTokens: 10 });
        return new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      },
    });
    const events: RunEvent[] = [];
    const handler = createStageHandler({ stages: hang, blobs: createMemoryBlobStore(), model, limiter, observer: (e) => void events.push(e) });
    const held = await limiter.acquire(MODEL, { inputTokens: 1, outputTokens: 1 });
    // the 600 ms wait pauses the stage's 1 s timeout, so the invocation's end (1.3 s from now) comes first
    setTimeout(() => held.settle({ inputTokens: 1, outputTokens: 1 }), 600);
    const failure = await handler({ stage: 'hang', stepPath: 'hang', executionId: ARN, retryCount: 0, input: { q: 'third' } }, lambdaContext(2300)).catch(
      (e: unknown) => e as Error,
    );
    expect(failure).toMatchObject({ name: 'States.Timeout' });
    expect(JSON.parse((failure as Error).message).message).toMatch(/ran out of its Lambda invocation's time/);
    expect(events.map((e) => e.type)).toEqual(['step-started', 'attempt-started', 'attempt-finished', 'step-finished']);
    expect(events[2]).toMatchObject({ type: 'attempt-finished', status: 'failed', error: { code: 'States.Timeout' }, metrics: { modelCalls: 1 } });
    expect(events[3]).toMatchObject({ type: 'step-finished', status: 'failed', error: { code: 'States.Timeout' } });
    expect(events[3]!.at).toBe(events[2]!.at);
  });
});
