import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePipeline, defineStage } from '../index.js';
import { createLocalEngine } from './engine.js';

const echo = defineStage({ name: 'echo', version: 1, input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), run: async (i) => i });
const pipeline = definePipeline({ name: 'dispose', version: 1, input: z.object({ n: z.number() }) })
  .task('echo', echo)
  .build();

describe('await using', () => {
  it('closes the local engine at the end of the block', async () => {
    const engine = createLocalEngine({ pipelines: [pipeline] });
    const close = vi.spyOn(engine, 'close');
    {
      await using e = engine;
      const { runId } = await e.start(pipeline, { n: 1 });
      expect(await e.result(runId)).toMatchObject({ status: 'succeeded', output: { n: 1 } });
      expect(close).not.toHaveBeenCalled();
    }
    expect(close).toHaveBeenCalledTimes(1);
  });
});
