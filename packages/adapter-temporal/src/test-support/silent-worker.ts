/*
 * An engine with an in-process worker and Baton's silent logger, in a process of its own (the
 * Temporal Runtime is one per process): it runs one pipeline to its end and closes. The test reads
 * this process's stderr, which must stay empty. Configured by TEMPORAL_ADDRESS and BATON_TASK_QUEUE.
 */
import { z } from 'zod';
import { definePipeline, defineStage, silentLogger } from '@baton/core';
import { createTemporalEngine } from '../engine.js';

const address = process.env.TEMPORAL_ADDRESS;
const taskQueue = process.env.BATON_TASK_QUEUE;
if (!address || !taskQueue) throw new Error('silent-worker: TEMPORAL_ADDRESS and BATON_TASK_QUEUE must be set');

const echo = defineStage({
  name: 'echo',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  async run(input) {
    return input;
  },
});
const pipeline = definePipeline({ name: 'silent-echo', version: 1 }).task('echo', echo).build();

const engine = createTemporalEngine({ address, taskQueue, pipelines: [pipeline], logger: silentLogger });
const { runId } = await engine.start('silent-echo', { text: 'hi' });
const outcome = await engine.result(runId, { timeoutMs: 30_000 });
await engine.close();
process.stdout.write(JSON.stringify(outcome) + '\n');
