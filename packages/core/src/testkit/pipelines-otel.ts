import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { kitFlaky, kitStep } from './stages.js';

const P = { 'probe.$': '$.probe' };

/**
 * The reference report's shape for the tracing scenario: a map of sections whose drafting is
 * throttled once and retried, a review gate, then a publish step. Not part of
 * `conformancePipelines`: an engine's tracing test gives it to the engine with the kit's stages.
 */
export const kitTraced = definePipeline({ name: 'kit-traced', version: 1, input: z.looseObject({ probe: z.string() }) })
  .task('plan', kitStep, { input: { ...P, value: 0 }, resultPath: '$.plan' })
  .map(
    'sections',
    {
      items: '$.sections',
      itemSelector: { ...P, 'key.$': '$$.Map.Item.Value', failTimes: 1, code: 'ThrottlingException' },
      maxConcurrency: 2,
      resultPath: '$.drafts',
    },
    (b) => b.task('draft', kitFlaky, { retry: [{ errors: ['ThrottlingException'], intervalMs: 20, maxAttempts: 2 }] }),
  )
  .approval('review', { gate: 'review', timeoutSeconds: 300, payload: { 'drafts.$': '$.drafts' }, resultPath: '$.review' })
  .task('publish', kitStep, { input: { ...P, 'value.$': '$.plan.value' }, resultPath: '$.published' })
  .build();
