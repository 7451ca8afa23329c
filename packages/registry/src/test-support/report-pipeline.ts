import { StageError, definePipeline, defineStage, type ModelClient } from '@baton/core';
import { z } from 'zod';

/** A deterministic model: every call costs 100 input and 40 output tokens. */
export const fixedModel: ModelClient = {
  modelId: 'fixed-test-model',
  async complete(request) {
    const last = request.messages.at(-1)?.content ?? '';
    return { text: `Section about ${last}.`, usage: { inputTokens: 100, outputTokens: 40 }, latencyMs: 1, modelId: 'fixed-test-model' };
  },
};

const outline = defineStage({
  name: 'outline',
  version: 1,
  input: z.object({ title: z.string(), topics: z.array(z.string()) }),
  output: z.object({ sections: z.array(z.object({ topic: z.string() })) }),
  async run(input) {
    return { sections: input.topics.map((topic) => ({ topic })) };
  },
});

const writeSection = defineStage({
  name: 'write-section',
  version: 1,
  input: z.object({ topic: z.string(), index: z.number() }),
  output: z.object({ topic: z.string(), text: z.string() }),
  retry: [{ errors: ['ThrottlingException'], intervalMs: 10, backoffRate: 1, maxAttempts: 2 }],
  async run(input, ctx) {
    const answer = await ctx.model.complete({ messages: [{ role: 'user', content: input.topic }] });
    // the second section is throttled once, so the registry must show two attempts for it
    if (input.index === 1 && ctx.attempt === 1) throw new StageError('ThrottlingException', 'rate exceeded');
    return { topic: input.topic, text: answer.text };
  },
});

const assemble = defineStage({
  name: 'assemble',
  version: 1,
  input: z.object({ title: z.string(), sections: z.array(z.object({ status: z.string(), output: z.unknown().optional() })) }),
  output: z.object({ document: z.string() }),
  async run(input) {
    const parts = input.sections.map((s) => (s.status === 'succeeded' ? (s.output as { text: string }).text : '[missing]'));
    return { document: `# ${input.title}\n\n${parts.join('\n\n')}` };
  },
});

/** outline → map(sections)\{ write-section \} → approval `editor` → assemble. */
export const reportPipeline = definePipeline({ name: 'test-report', version: 1, input: z.object({ title: z.string(), topics: z.array(z.string()) }) })
  .task('outline', outline, { input: { 'title.$': '$.title', 'topics.$': '$.topics' }, resultPath: '$.outline' })
  .map(
    'sections',
    {
      items: '$.outline.sections',
      itemSelector: { 'topic.$': '$$.Map.Item.Value.topic', 'index.$': '$$.Map.Item.Index' },
      maxConcurrency: 2,
      resultPath: '$.sections',
    },
    (b) => b.task('write', writeSection),
  )
  .approval('review', { gate: 'editor', timeoutSeconds: 3600, payload: { 'title.$': '$.title', 'sections.$': '$.sections' }, resultPath: '$.review' })
  .task('assemble', assemble, { input: { 'title.$': '$.title', 'sections.$': '$.sections' }, resultPath: '$.report' })
  .build();

let outage = true;

/** Fails with ServiceUnavailableException until {@link endOutage} is called. */
const callService = defineStage({
  name: 'call-service',
  version: 1,
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  async run() {
    if (outage) throw new StageError('ServiceUnavailableException', 'service down');
    return { ok: true };
  },
});

/** Ends the simulated outage of {@link redrivePipeline}. */
export function setOutage(on: boolean): void {
  outage = on;
}

/** prepare → call-service (fails while the outage lasts): for redrive. */
export const redrivePipeline = definePipeline({ name: 'test-redrive', version: 1 })
  .task('prepare', outline, { input: { title: 't', topics: ['x'] }, resultPath: '$.prepared' })
  .task('call', callService, { input: {}, resultPath: '$.call' })
  .build();
