import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePipeline, defineStage } from '@baton/core';
import { createStepFunctionsLocalEngine } from './engine.js';

const echo = defineStage({ name: 'echo', version: 1, input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), run: async (i) => i });
const pipeline = definePipeline({ name: 'dispose', version: 1, input: z.object({ n: z.number() }) })
  .task('echo', echo)
  .build();

describe('await using', () => {
  it('closes the stepfunctions-local engine at the end of the block', async () => {
    const engine = createStepFunctionsLocalEngine({ pipelines: [pipeline] });
    const close = vi.spyOn(engine, 'close');
    {
      await using e = engine;
      const { runId } = await e.start(pipeline, { n: 4 });
      expect(await e.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { n: 4 } });
    }
    expect(close).toHaveBeenCalledTimes(1);
  });
});
