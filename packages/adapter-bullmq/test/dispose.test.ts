import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { definePipeline, defineStage } from '@baton/core';
import { createBullmqEngine } from '../src/engine.js';
import { createBullmqWorker } from '../src/worker.js';

const echo = defineStage({ name: 'echo', version: 1, input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), run: async (i) => i });
const pipeline = definePipeline({ name: 'dispose', version: 1, input: z.object({ n: z.number() }) })
  .task('echo', echo)
  .build();

describe('await using (real Redis)', () => {
  it('closes a worker and an engine without a worker at the end of the block', async () => {
    const prefix = `disp-${randomBytes(3).toString('hex')}`;
    const connection = inject('redisUrl');
    const worker = createBullmqWorker({ pipelines: [pipeline], connection, prefix });
    const engine = createBullmqEngine({ pipelines: [pipeline], connection, prefix, worker: false });
    const closeWorker = vi.spyOn(worker, 'close');
    const closeEngine = vi.spyOn(engine, 'close');
    {
      await using w = worker;
      await using e = engine;
      await w.ready;
      const { runId } = await e.start(pipeline, { n: 3 });
      expect(await e.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { n: 3 } });
    }
    expect(closeEngine).toHaveBeenCalledTimes(1);
    expect(closeWorker).toHaveBeenCalledTimes(1);
  });
});
