import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StageError } from './errors.js';
import { createMemoryBlobStore } from './ports/blob-store.js';
import type { ModelClient } from './ports/model.js';
import { defineStage, invokeStage } from './stage.js';

/** A provider that throttles the first call of every pair and answers the second. */
function flakyModel(): ModelClient & { received: number } {
  const m = {
    modelId: 'flaky',
    received: 0,
    async complete() {
      m.received += 1;
      if (m.received % 2 === 1) throw new StageError('ThrottlingException', 'slow down');
      return { text: 'ok', usage: { inputTokens: 3, outputTokens: 1 }, latencyMs: 1, modelId: 'flaky' };
    },
  };
  return m;
}

const ask = defineStage({
  name: 'ask',
  version: 1,
  input: z.object({ retryInside: z.boolean() }),
  output: z.object({ text: z.string() }),
  async run(input, ctx) {
    try {
      return { text: (await ctx.model.complete({ messages: [{ role: 'user', content: 'q' }] })).text };
    } catch (e) {
      if (!input.retryInside) throw e;
      return { text: (await ctx.model.complete({ messages: [{ role: 'user', content: 'q' }] })).text };
    }
  },
});

describe('model-call metrics are the calls the provider received', () => {
  it('counts a call that failed, in a failed attempt and in one that retried inside the stage', async () => {
    const model = flakyModel();
    const opts = { blobs: createMemoryBlobStore(), runId: 'r', stepPath: 'ask', attempt: 1, model };
    const failed = await invokeStage(ask, { retryInside: false }, opts);
    expect(failed.ok).toBe(false);
    expect(failed.metrics.modelCalls).toBe(1);
    const recovered = await invokeStage(ask, { retryInside: false }, opts);
    expect(recovered).toMatchObject({ ok: true, metrics: { modelCalls: 1, inputTokens: 3 } });
    const inside = await invokeStage(ask, { retryInside: true }, opts);
    expect(inside).toMatchObject({ ok: true, metrics: { modelCalls: 2, inputTokens: 3, outputTokens: 1 } });
    expect(failed.metrics.modelCalls + recovered.metrics.modelCalls + inside.metrics.modelCalls).toBe(model.received);
  });
});
