// The README's example, verbatim apart from the imports and the in-memory journal: if this
// stops compiling or passing, the README is wrong.
import { expect, it } from 'vitest';
import { z } from 'zod';
import { createLocalEngine, definePipeline, defineStage, StageError } from './index.js';

it('the README example runs', async () => {
  const summarise = defineStage({
    name: 'summarise',
    version: 1,
    input: z.object({ text: z.string() }),
    output: z.object({ summary: z.string() }),
    retry: [{ errors: ['ThrottlingException'], intervalMs: 2000, backoffRate: 2, maxAttempts: 5, jitter: 'FULL', maxDelayMs: 60_000 }],
    timeoutMs: 120_000,
    async run(input) {
      if (!input.text.trim()) throw new StageError('InvalidInput', 'nothing to summarise');
      return { summary: input.text.split('.')[0] + '.' };
    },
  });

  const pipeline = definePipeline({ name: 'digest', version: 1, input: z.object({ docs: z.array(z.string()) }) })
    .map(
      'each',
      { items: '$.docs', itemSelector: { 'text.$': '$$.Map.Item.Value' }, maxConcurrency: 4, toleratedFailurePercentage: 25, resultPath: '$.summaries' },
      (item) => item.task('summarise', summarise),
    )
    .build();

  const engine = createLocalEngine({ pipelines: [pipeline] });
  const { runId } = await engine.start('digest', { docs: ['First. More.', 'Second. More.'] });
  expect(await engine.result(runId)).toEqual({
    status: 'succeeded',
    output: {
      docs: ['First. More.', 'Second. More.'],
      summaries: [
        { status: 'succeeded', output: { summary: 'First.' } },
        { status: 'succeeded', output: { summary: 'Second.' } },
      ],
    },
  });
});
