import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { isStageError, StageError } from '../errors.js';
import { createLocalEngine, type LocalEngine } from '../local/engine.js';
import type { ModelClient } from '../ports/model.js';
import { defineStage } from '../stage.js';
import { createMemoryModelLimiter } from './memory-limiter.js';

/** A provider whose own quota is `capacity` calls at once: above it, it throttles. */
function provider(capacity: () => number): ModelClient & { calls: number; throttled: number } {
  let inFlight = 0;
  const p = {
    modelId: 'm',
    calls: 0,
    throttled: 0,
    async complete() {
      p.calls += 1;
      if (inFlight >= capacity()) {
        p.throttled += 1;
        throw new StageError('ThrottlingException', 'slow down');
      }
      inFlight += 1;
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return { text: 'ok', usage: { inputTokens: 200, outputTokens: 50 }, latencyMs: 5, modelId: 'm' };
    },
  };
  return p;
}

const write = defineStage({
  name: 'write',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.string(),
  // no retry budget to spend on waiting: a wait that counted as an attempt or timed out would fail the item
  retry: [],
  timeoutMs: 100,
  async run(input, ctx) {
    const res = await ctx.model.complete({ messages: [{ role: 'user', content: 'x'.repeat(400) }], maxTokens: 64 });
    return `${input.n}:${res.text}`;
  },
});
const retried = defineStage({
  ...write,
  name: 'retried',
  retry: [{ errors: ['ThrottlingException'], intervalMs: 1, backoffRate: 1, maxAttempts: 10 }],
});

const report = (stage: typeof write, name: string) =>
  definePipeline({ name, version: 1, input: z.array(z.object({ n: z.number() })) })
    .map('sections', { items: '$', maxConcurrency: 20 }, (b) => b.task(stage.name, stage))
    .build();

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('model budgets on the local engine', () => {
  it('waits for budget without spending attempts or the stage timeout, and accounts tokens and cost per attempt, section and run', async () => {
    const model = provider(() => 2);
    // 12 calls at 3 per 120 ms window: the last ones wait well beyond the stage's 100 ms timeout
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 3, maxInFlight: 2, windowMs: 120 } } });
    engine = createLocalEngine({ pipelines: [report(write, 'r')], model, limiter, prices: { m: { inputPer1K: 0.003, outputPer1K: 0.015 } } });
    const { runId } = await engine.start(
      'r',
      Array.from({ length: 12 }, (_, n) => ({ n })),
    );
    const outcome = await engine.result(runId);
    expect(outcome.status).toBe('succeeded');
    expect(model.throttled).toBe(0);
    const info = await engine.status(runId);
    expect(info.attempts).toHaveLength(12);
    expect(info.attempts.every((a) => a.attempt === 1 && a.status === 'succeeded')).toBe(true);
    const perCall = (200 * 0.003 + 50 * 0.015) / 1000;
    expect(info.attempts[0]!.metrics).toMatchObject({
      modelCalls: 1,
      inputTokens: 200,
      outputTokens: 50,
      estimatedInputTokens: 100,
      estimatedOutputTokens: 64,
    });
    expect(info.attempts[0]!.metrics!.cost).toBeCloseTo(perCall);
    expect(info.usage).toMatchObject({ attempts: 12, modelCalls: 12, throttledCalls: 0, inputTokens: 2400, outputTokens: 600, estimatedInputTokens: 1200 });
    expect(info.usage!.cost).toBeCloseTo(12 * perCall);
    expect(Object.keys(info.usage!.bySection)).toHaveLength(12);
    expect(info.usage!.bySection['sections[3]']).toMatchObject({ attempts: 1, inputTokens: 200 });
    expect(info.usage!.byStep['sections[3]/write']!.cost).toBeCloseTo(perCall);
    expect(info.usage!.budgetWaitMs).toBeGreaterThan(0);
    expect(info.usage!.unpricedModels).toBeUndefined();
  });

  it('a quota lower than declared: throttled calls wait for budget again within their attempt and the limiter finds the lower limit', async () => {
    const model = provider(() => 2);
    const limiter = createMemoryModelLimiter({ budgets: { m: { maxInFlight: 16 } } });
    engine = createLocalEngine({ pipelines: [report(retried, 'r2')], model, limiter });
    const { runId } = await engine.start(
      'r2',
      Array.from({ length: 30 }, (_, n) => ({ n })),
    );
    expect((await engine.result(runId)).status).toBe('succeeded');
    const info = await engine.status(runId);
    expect(model.throttled).toBeGreaterThan(0);
    // a throttle is not an attempt: each section ran once, its throttled calls sent again after a wait
    expect(info.attempts).toHaveLength(30);
    expect(info.attempts.every((a) => a.attempt === 1 && a.status === 'succeeded')).toBe(true);
    expect(info.usage!.throttledCalls).toBe(model.throttled);
    expect(info.usage!.modelCalls).toBe(model.calls);
    expect(limiter.snapshot('m')!.factor).toBeLessThan(1);
  });
});

describe('two runs sharing a budget on the local engine', () => {
  it('started together, they get turns alike: each has half the calls made while both had calls left, the first window included', async () => {
    const calls: string[] = [];
    const model: ModelClient = {
      modelId: 'm',
      async complete(request) {
        calls.push(request.messages[0]!.content.slice(0, 1));
        await new Promise((r) => setTimeout(r, 1));
        return { text: 'ok', usage: { inputTokens: 10, outputTokens: 5 }, latencyMs: 1, modelId: 'm' };
      },
    };
    const tagged = defineStage({
      name: 'tagged',
      version: 1,
      input: z.object({ run: z.string(), n: z.number() }),
      output: z.string(),
      async run(input, ctx) {
        return (await ctx.model.complete({ messages: [{ role: 'user', content: `${input.run} section ${input.n}` }], maxTokens: 16 })).text;
      },
    });
    const shared = definePipeline({ name: 'shared', version: 1, input: z.array(z.object({ run: z.string(), n: z.number() })) })
      .map('sections', { items: '$', maxConcurrency: 50 }, (b) => b.task('tagged', tagged))
      .build();
    // 8 calls a window, 12 a run: a run whose callers took the free budget first would have 8 calls before the other's first
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 8, windowMs: 50 } } });
    engine = createLocalEngine({ pipelines: [shared], model, limiter });
    const items = (run: string) => Array.from({ length: 12 }, (_, n) => ({ run, n }));
    const runs = await Promise.all([engine.start('shared', items('a')), engine.start('shared', items('b'))]);
    for (const { runId } of runs) expect((await engine.result(runId)).status).toBe('succeeded');
    expect(calls).toHaveLength(24);
    // the calls made until one run had made all of its own
    const count = (prefix: string[], run: string): number => prefix.filter((c) => c === run).length;
    const end = calls.findIndex((_, i) => count(calls.slice(0, i + 1), 'a') === 12 || count(calls.slice(0, i + 1), 'b') === 12) + 1;
    const both = calls.slice(0, end);
    for (const run of ['a', 'b']) {
      expect(count(both, run) / both.length).toBeGreaterThanOrEqual(0.4);
      expect(count(both, run) / both.length).toBeLessThanOrEqual(0.6);
    }
    expect(count(calls.slice(0, 8), 'a')).toBe(4);
  });
});

describe('model quota faults on the local engine', () => {
  /** Throttles every call of section 1 for ever; answers the others. */
  const stubborn = (): ModelClient & { calls: Map<string, number> } => {
    const calls = new Map<string, number>();
    return {
      modelId: 'm',
      calls,
      async complete(request) {
        const key = request.messages[0]!.content;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        if (key.startsWith('section 1:')) throw new StageError('ThrottlingException', 'Too many requests');
        if (key.startsWith('section 2:')) throw new StageError('ModelErrorException', 'the model failed');
        return { text: 'ok', usage: { inputTokens: 10, outputTokens: 5 }, latencyMs: 1, modelId: 'm' };
      },
    };
  };
  const section = defineStage({
    name: 'section',
    version: 1,
    input: z.object({ n: z.number() }),
    output: z.string(),
    // the policy names throttles: the exhausted quota is another code, so it is not retried
    retry: [{ errors: ['ThrottlingException'], intervalMs: 1, backoffRate: 1, maxAttempts: 5 }],
    async run(input, ctx) {
      return (await ctx.model.complete({ messages: [{ role: 'user', content: `section ${input.n}: ${'x'.repeat(396)}` }], maxTokens: 64 })).text;
    },
  });
  const tolerant = definePipeline({ name: 'tolerant', version: 1, input: z.array(z.object({ n: z.number() })) })
    .map('sections', { items: '$', maxConcurrency: 4, toleratedFailurePercentage: 100 }, (b) => b.task('section', section))
    .build();

  it('a model that throttles one section for ever fails that section with ModelQuotaExhausted after throttleRetries + 1 calls, in one attempt; the other sections complete', async () => {
    const model = stubborn();
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 100, windowMs: 50 } }, throttleRetries: 3 });
    engine = createLocalEngine({ pipelines: [tolerant], model, limiter, prices: { m: { inputPer1K: 1, outputPer1K: 2 } } });
    const { runId } = await engine.start('tolerant', [{ n: 0 }, { n: 1 }, { n: 3 }]);
    const outcome = await engine.result(runId, { timeoutMs: 30_000 });
    if (outcome.status !== 'succeeded') throw new Error(`run failed: ${outcome.error.code}`);
    const items = outcome.output as { status: string; error?: { code: string } }[];
    expect(items.map((i) => i.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(items[1]!.error!.code).toBe('ModelQuotaExhausted');
    expect(model.calls.get(`section 1: ${'x'.repeat(396)}`)).toBe(4);
    const info = await engine.status(runId);
    const failed = info.attempts.filter((a) => a.stepPath === 'sections[1]/section');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.metrics).toMatchObject({ modelCalls: 4, throttledCalls: 4, inputTokens: 0 });
    // throttled calls cost nothing
    expect(info.usage!.bySection['sections[1]']!.cost).toBe(0);
  });

  it('a call the model failed on is charged its estimated input; a throttled one nothing', async () => {
    const model = stubborn();
    engine = createLocalEngine({ pipelines: [tolerant], model, prices: { m: { inputPer1K: 1, outputPer1K: 2 } } });
    const { runId } = await engine.start('tolerant', [{ n: 2 }]);
    await engine.result(runId);
    const info = await engine.status(runId);
    // the policy does not name ModelErrorException: one attempt, one call
    expect(info.usage).toMatchObject({ modelCalls: 1, inputTokens: 0, failedInputTokens: 102 }); // 407 characters, 4 a token
    expect(info.usage!.cost).toBeCloseTo(102 / 1000);
  });

  it('refuses, when the engine is created, a price table without the engine model, and a negative price', () => {
    const errorOf = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const model = stubborn();
    const missing = errorOf(() => createLocalEngine({ pipelines: [tolerant], model, prices: { other: { inputPer1K: 1, outputPer1K: 1 } } }));
    expect(isStageError(missing) && missing.code).toBe('ConfigurationError');
    expect((missing as Error).message).toContain('no price for model "m"');
    const negative = errorOf(() => createLocalEngine({ pipelines: [tolerant], model, prices: { m: { inputPer1K: -1, outputPer1K: 1 } } }));
    expect(isStageError(negative) && negative.code).toBe('ConfigurationError');
  });
});
