import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import { kitBig } from './stages.js';
import { kitConsumeAll } from './stages-limits.js';

const define = (name: string) => definePipeline({ name, version: 1, input: z.looseObject({ probe: z.string() }) });
const P = { 'probe.$': '$.probe' };

/** Bytes of text per item of scenario 40: just under the default claim-check threshold (32 KB), so no item is offloaded by itself. */
export const KIT_AGGREGATE_ITEM_BYTES = 30_000;

/** 40. A map whose items each stay under the claim-check threshold while their aggregate passes 2 MB, then a task reading the aggregate. */
export const kitAggregate = define('kit-aggregate')
  .map('items', { items: '$.items', itemSelector: { ...P, bytes: KIT_AGGREGATE_ITEM_BYTES }, maxConcurrency: 10, resultPath: '$.results' }, (b) =>
    b.task('big', kitBig),
  )
  .task('consume', kitConsumeAll, { input: { ...P, 'results.$': '$.results' }, resultPath: '$.consumed' })
  .build();

/** The pipelines of scenarios 40 and above (part of `conformancePipelines`). */
export const limitsPipelines: AnyPipeline[] = [kitAggregate];
