import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import { kitItem, kitStep } from './stages.js';

const P = { 'probe.$': '$.probe' };
const item = { ...P, 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'failIndexes.$': '$.failIndexes' };

/**
 * 26. `before`, a map over `$.items` run one item at a time whose first failure passes its
 * tolerance (`settings`), then `after`: items fail (not retried) at `failIndexes` until the probe
 * flag `fixed` is set.
 */
const overTolerance = (name: string, settings: { toleratedFailureCount?: number; toleratedFailurePercentage?: number }): AnyPipeline =>
  definePipeline({ name, version: 1, input: z.looseObject({ probe: z.string() }) })
    .task('before', kitStep, { input: { ...P, value: 0, key: 'before' }, resultPath: '$.before' })
    .map('items', { items: '$.items', itemSelector: item, maxConcurrency: 1, resultPath: '$.results', ...settings }, (b) => b.task('item', kitItem))
    .task('after', kitStep, { input: { ...P, value: 1, key: 'after' }, resultPath: '$.after' })
    .build();

/** 26. No failure tolerated by count. */
export const kitMapOverCount = overTolerance('kit-map-over-count', { toleratedFailureCount: 0 });
/** 26. 10 %: one failure passes it on fewer than ten items (decided on the run's item count). */
export const kitMapOverPercentage = overTolerance('kit-map-over-percentage', { toleratedFailurePercentage: 10 });

/** The pipelines of scenario 26 (part of `conformancePipelines`). */
export const mapTolerancePipelines: AnyPipeline[] = [kitMapOverCount, kitMapOverPercentage];
