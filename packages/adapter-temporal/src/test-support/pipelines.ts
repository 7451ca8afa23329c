import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '@baton/core';
import { kitStages } from './kit.js';

const kitItem = kitStages.find((s) => s.name === 'kit-item')!;
const Input = z.looseObject({ probe: z.string() });
const item = {
  'probe.$': '$.probe',
  'index.$': '$$.Map.Item.Index',
  'value.$': '$$.Map.Item.Value',
  'delayMs.$': '$.delayMs',
  'failIndexes.$': '$.failIndexes',
};

/** A map whose concurrency comes from the pipeline (10): the SIGKILL and continue-as-new tests use it. */
export const testMap = definePipeline({ name: 'test-map', version: 1, input: Input })
  .map('items', { items: '$.items', itemSelector: item, maxConcurrency: 10, resultPath: '$.results' }, (b) => b.task('item', kitItem))
  .build();

const kitBig = kitStages.find((s) => s.name === 'kit-big')!;

/** A map of 20 KB outputs (under the claim-check threshold) whose results are dropped: its carried state outgrows one payload. */
export const testBigMap = definePipeline({ name: 'test-big-map', version: 1, input: Input })
  .map('items', { items: '$.items', itemSelector: { 'probe.$': '$.probe', bytes: 20_000 }, maxConcurrency: 10, resultPath: null }, (b) => b.task('big', kitBig))
  .build();

/** Pipelines the test workers know besides the conformance kit's. */
export const testPipelines: AnyPipeline[] = [testMap, testBigMap];
