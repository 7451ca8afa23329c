import { StageError, createLocalEngine, definePipeline, defineStage, type LocalEngine, type ModelClient, type PriceTable } from '@baton/core';
import { createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import { z } from 'zod';

/** The priced model: $3 per million input tokens, $15 per million output tokens. */
export const PRICES: PriceTable = { 'acme-large': { inputPer1M: 3, outputPer1M: 15 } };

/** Every call uses 1,000 input and 200 output tokens: $0.006 at {@link PRICES}. */
export const COST_PER_CALL = (1000 * 3 + 200 * 15) / 1e6;

// the second section's first call is throttled (no limiter: the attempt fails and is retried)
const throttledOnce = new Set<string>();
const model: ModelClient = {
  modelId: 'acme-large',
  async complete(request) {
    const topic = request.messages.at(-1)?.content ?? '';
    const key = `${String(request.metadata?.runId)}/${topic}`;
    if (topic === 'Risks' && !throttledOnce.has(key)) {
      throttledOnce.add(key);
      throw new StageError('ThrottlingException', 'rate exceeded');
    }
    return { text: `About ${topic}.`, usage: { inputTokens: 1000, outputTokens: 200 }, latencyMs: 1, modelId: 'acme-large' };
  },
};

const outline = defineStage({
  name: 'outline',
  version: 1,
  input: z.object({ topics: z.array(z.string()) }),
  output: z.object({ sections: z.array(z.object({ topic: z.string() })) }),
  async run(input) {
    return { sections: input.topics.map((topic) => ({ topic })) };
  },
});

const write = defineStage({
  name: 'write',
  version: 1,
  input: z.object({ topic: z.string() }),
  output: z.object({ text: z.string() }),
  retry: [{ errors: ['ThrottlingException'], intervalMs: 10, backoffRate: 1, maxAttempts: 2 }],
  async run(input, ctx) {
    const answer = await ctx.model.complete({ messages: [{ role: 'user', content: input.topic }], metadata: { runId: ctx.runId }, maxTokens: 300 });
    return { text: answer.text };
  },
});

const pipelineOf = (name: string) =>
  definePipeline({ name, version: 1, input: z.object({ topics: z.array(z.string()) }) })
    .task('outline', outline, { resultPath: '$.outline' })
    .map('sections', { items: '$.outline.sections', maxConcurrency: 2, resultPath: '$.sections' }, (b) => b.task('write', write))
    .build();

/** A PGlite registry written by two local engines: `report` runs with {@link PRICES}, `digest` runs with no price table. */
export interface CostFixture {
  registry: RunRegistry;
  observer: RegistryObserver;
  priced: LocalEngine;
  unpriced: LocalEngine;
  /** Runs a pipeline to its end (`report` on the priced engine, `digest` on the other) and returns its run id once the registry has every event. */
  run(pipeline: 'report' | 'digest', topics?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Creates the {@link CostFixture}. */
export async function createCostFixture(): Promise<CostFixture> {
  const registry = await createPgliteRegistry();
  const observer = createRegistryObserver(registry);
  const priced = createLocalEngine({ pipelines: [pipelineOf('report')], model, prices: PRICES, observer });
  const unpriced = createLocalEngine({ pipelines: [pipelineOf('digest')], model, observer });
  return {
    registry,
    observer,
    priced,
    unpriced,
    async run(pipeline, topics = ['Revenue', 'Risks', 'Outlook']) {
      const engine = pipeline === 'report' ? priced : unpriced;
      const { runId } = await engine.start(pipeline, { topics });
      const result = await engine.result(runId);
      if (result.status !== 'succeeded') throw new Error(`run ${runId} ${result.status}`);
      await observer.flush();
      return runId;
    },
    async close() {
      await priced.close();
      await unpriced.close();
      await registry.close();
    },
  };
}
