import { z } from 'zod';
import { StageError, definePipeline, defineStage } from '@baton/core';

// The pipeline every engine runs to prove it leaves a complete registry record: a sequence, a map
// of four items of which one is throttled once (a retry), an approval gate, a final task. No
// vitest here: worker processes of an engine under test import it.

const step = defineStage({
  name: 'rr-step',
  version: 1,
  input: z.object({ value: z.number() }),
  output: z.object({ value: z.number() }),
  async run(input) {
    return { value: input.value + 1 };
  },
});

/** Throttled on its first attempt for the item at `throttle`, then succeeds: one retry. */
const item = defineStage({
  name: 'rr-item',
  version: 1,
  input: z.object({ index: z.number(), value: z.number(), throttle: z.number() }),
  output: z.object({ index: z.number(), value: z.number() }),
  throws: ['ThrottlingException'],
  async run(input, ctx) {
    if (input.index === input.throttle && ctx.attempt === 1) throw new StageError('ThrottlingException', `item ${input.index} throttled`);
    return { index: input.index, value: input.value * 2 };
  },
});

/** Items of the record pipeline's map. */
export const RECORD_ITEMS = [10, 20, 30, 40];
/** Index of the item throttled once. */
export const RECORD_THROTTLED = 2;
/** The run input of the record pipeline. */
export const RECORD_INPUT = { value: 1, items: RECORD_ITEMS, throttle: RECORD_THROTTLED };

/** The record pipeline (`registry-record`). */
export const registryRecordPipeline = definePipeline({
  name: 'registry-record',
  version: 1,
  input: z.object({ value: z.number(), items: z.array(z.number()), throttle: z.number() }),
})
  .task('prepare', step, { input: { 'value.$': '$.value' }, resultPath: '$.prepared' })
  .task('plan', step, { input: { 'value.$': '$.prepared.value' }, resultPath: '$.planned' })
  .map(
    'sections',
    {
      items: '$.items',
      itemSelector: { 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'throttle.$': '$.throttle' },
      maxConcurrency: 2,
      resultPath: '$.sections',
    },
    (b) => b.task('write', item, { retry: [{ errors: ['ThrottlingException'], intervalMs: 50, maxAttempts: 2 }] }),
  )
  .approval('review', { gate: 'review', timeoutSeconds: 300, payload: { 'sections.$': '$.sections' }, resultPath: '$.review' })
  .task('publish', step, { input: { 'value.$': '$.planned.value' }, resultPath: '$.published' })
  .build();

/** Every attempt a record run must leave, as `stepPath#attempt:status`, sorted. */
export const expectedRecordAttempts: string[] = [
  'prepare#1:succeeded',
  'plan#1:succeeded',
  ...RECORD_ITEMS.flatMap((_, i) =>
    i === RECORD_THROTTLED ? [`sections[${i}]/write#1:failed`, `sections[${i}]/write#2:succeeded`] : [`sections[${i}]/write#1:succeeded`],
  ),
  'publish#1:succeeded',
].sort();
