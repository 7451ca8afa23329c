import { z } from 'zod';
import {
  StageError,
  createLocalEngine,
  createMemoryModelLimiter,
  definePipeline,
  defineStage,
  type Engine,
  type ModelClient,
  type PriceTable,
  type RunEvent,
  type RunInfo,
} from '@baton/core';
import { isStageError } from '@baton/core';
import { createPgliteRegistry, createRegistryObserver, type RunDetail, type RunRegistry } from '@baton/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStepFunctionsLocalEngine } from './engine.js';

/** Answers every prompt with as many output tokens as its section number calls for: the same usage on every engine. */
const model: ModelClient = {
  modelId: 'm',
  async complete(request) {
    const n = Number(/section (\d+)/.exec(request.messages[0]!.content)![1]);
    return { text: 'ok', usage: { inputTokens: 100 + n, outputTokens: 10 * (n + 1) }, latencyMs: 1, modelId: 'm' };
  },
};

const write = defineStage({
  name: 'write',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.string(),
  retry: [{ errors: ['Flaky'], intervalMs: 1, backoffRate: 1, maxAttempts: 3 }],
  async run(input, ctx) {
    const res = await ctx.model.complete({ messages: [{ role: 'user', content: `section ${input.n}` }], maxTokens: 64 });
    // section 1's first attempt called the model, then failed: a failed attempt has its usage too
    if (input.n === 1 && ctx.attempt === 1) throw new StageError('Flaky', 'failed after the call');
    return res.text;
  },
});

const report = definePipeline({ name: 'priced', version: 1, input: z.array(z.object({ n: z.number() })) })
  .map('sections', { items: '$', maxConcurrency: 2 }, (b) => b.task('write', write))
  .build();

const prices: PriceTable = { m: { inputPer1K: 0.003, outputPer1K: 0.015 } };
const items = [{ n: 0 }, { n: 1 }, { n: 2 }];

let registry: RunRegistry;
beforeAll(async () => {
  registry = await createPgliteRegistry();
}, 60_000); // PGlite starts in seconds on a loaded 2-core machine
afterAll(async () => {
  await registry?.close();
});

/**
 * Runs the report with prices and a limiter, its observer writing the registry too; its status,
 * the attempt-finished events its observer got, and the run as the registry recorded it.
 */
async function priced(make: (observer: (e: RunEvent) => Promise<void>) => Engine): Promise<{ info: RunInfo; finished: RunEvent[]; recorded: RunDetail }> {
  const events: RunEvent[] = [];
  const writer = createRegistryObserver(registry);
  const engine = make(async (e) => {
    events.push(e);
    await writer(e);
  });
  try {
    const { runId } = await engine.start('priced', items);
    expect((await engine.result(runId)).status).toBe('succeeded');
    await writer.flush();
    expect(writer.failures).toBe(0);
    return { info: await engine.status(runId), finished: events.filter((e) => e.type === 'attempt-finished'), recorded: (await registry.getRun(runId))! };
  } finally {
    await engine.close();
  }
}

/** The usage fields every engine must agree on (durations and budget waits are wall-clock). */
const usageOf = (m: Record<string, unknown> | undefined) => ({
  modelCalls: m?.modelCalls,
  inputTokens: m?.inputTokens,
  outputTokens: m?.outputTokens,
  estimatedInputTokens: m?.estimatedInputTokens,
  estimatedOutputTokens: m?.estimatedOutputTokens,
  cost: m?.cost,
});

describe('stepfunctions-local attempt usage', () => {
  it('every attempt carries its tokens and cost, on its record and its event, as on the local engine; the run usage is the same', async () => {
    const budgets = { m: { requestsPerMinute: 100, maxInFlight: 1 } };
    const local = await priced((observer) =>
      createLocalEngine({ pipelines: [report], model, prices, limiter: createMemoryModelLimiter({ budgets }), observer }),
    );
    const sfn = await priced((observer) =>
      createStepFunctionsLocalEngine({
        pipelines: [report],
        model,
        prices,
        limiter: createMemoryModelLimiter({ budgets }),
        observer,
      }),
    );
    // 3 sections, one retried after a failed attempt that called the model
    expect(sfn.info.attempts).toHaveLength(4);
    expect(sfn.finished).toHaveLength(4);
    const byAttempt = (attempts: RunInfo['attempts']) =>
      Object.fromEntries(attempts.map((a) => [`${a.stepPath}#${a.attempt}`, { status: a.status, ...usageOf(a.metrics as never) }]));
    expect(byAttempt(sfn.info.attempts)).toEqual(byAttempt(local.info.attempts));
    for (const e of sfn.finished) {
      if (e.type !== 'attempt-finished') continue;
      expect(e.metrics).toBeDefined();
      expect(e.metrics!.cost).toBeGreaterThan(0);
      const record = sfn.info.attempts.find((a) => a.stepPath === e.stepPath && a.attempt === e.attempt)!;
      expect(usageOf(e.metrics as never)).toEqual(usageOf(record.metrics as never));
    }
    const failed = sfn.info.attempts.find((a) => a.status === 'failed')!;
    expect(failed).toMatchObject({ stepPath: 'sections[1]/write', attempt: 1, metrics: { modelCalls: 1, inputTokens: 101, outputTokens: 20 } });
    // section n: 100 + n input and 10 (n + 1) output tokens a call; section 1 called twice
    const input = 100 + 2 * 101 + 102;
    const output = 10 + 2 * 20 + 30;
    expect(sfn.info.usage).toMatchObject({ attempts: 4, modelCalls: 4, inputTokens: input, outputTokens: output });
    expect(sfn.info.usage!.cost).toBeCloseTo((input * 0.003 + output * 0.015) / 1000, 12);
    const totals = (u: RunInfo['usage']) => ({ ...usageOf(u as never), attempts: u?.attempts, sections: Object.keys(u?.bySection ?? {}).sort() });
    expect(totals(sfn.info.usage)).toEqual(totals(local.info.usage));
    expect(sfn.info.usage!.bySection['sections[1]']).toMatchObject({ attempts: 2, modelCalls: 2, inputTokens: 202 });
    // the registry's cost of the run, from the attempt events, is the engine's, and the local engine's
    const recorded = (r: RunDetail) => ({ ...usageOf(r.usage.total as never), attempts: r.usage.total.attempts, sections: Object.keys(r.usage.bySection) });
    expect(sfn.recorded.engine).toBe('stepfunctions-local');
    expect(sfn.recorded.usage.total.cost).toBeCloseTo(sfn.info.usage!.cost, 12);
    expect(recorded(sfn.recorded)).toEqual(recorded(local.recorded));
    expect(sfn.recorded.usage.total).toMatchObject({ attempts: 4, modelCalls: 4, inputTokens: input, outputTokens: output });
  });

  it('refuses, when the engine is created, a price table without the engine model', () => {
    let error: unknown;
    try {
      createStepFunctionsLocalEngine({ pipelines: [report], model, prices: { other: { inputPer1K: 1, outputPer1K: 1 } } });
    } catch (e) {
      error = e;
    }
    expect(isStageError(error) && error.code).toBe('ConfigurationError');
  });
});
