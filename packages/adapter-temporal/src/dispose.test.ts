import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { definePipeline, defineStage } from '@baton/core';
import { createTemporalEngine } from './engine.js';
import { createTemporalWorker } from './worker.js';
import { quietTemporalRuntime } from './test-support/quiet.js';

const address = inject('temporalAddress');
const echo = defineStage({ name: 'echo', version: 1, input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), run: async (i) => i });
const pipeline = definePipeline({ name: 'dispose', version: 1, input: z.object({ n: z.number() }) })
  .task('echo', echo)
  .build();

describe('await using (Temporal dev server)', () => {
  beforeAll(() => quietTemporalRuntime());

  it('shuts a worker down and closes a client engine at the end of the block', async () => {
    const taskQueue = `dispose-${randomUUID()}`;
    const worker = await createTemporalWorker({ pipelines: [pipeline], address, taskQueue });
    const engine = createTemporalEngine({ pipelines: [pipeline], address, taskQueue, worker: false });
    const shutdown = vi.spyOn(worker, 'shutdown');
    const close = vi.spyOn(engine, 'close');
    {
      await using w = worker;
      await using e = engine;
      const { runId } = await e.start(pipeline, { n: 2 });
      expect(await e.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { n: 2 } });
      expect(w.taskQueue).toBe(taskQueue);
    }
    // disposed in reverse order: the engine, then the worker
    expect(close).toHaveBeenCalledTimes(1);
    expect(shutdown).toHaveBeenCalledTimes(1);
    await worker.running;
  });
});
