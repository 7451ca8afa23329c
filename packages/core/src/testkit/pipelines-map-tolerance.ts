import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import { kitHandler, kitItem, kitStep } from './stages.js';

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

/**
 * 41. A map over `$.items` run one item at a time that declares no tolerance, with a catch of its
 * items' own code (`ItemBroken`): the caught error goes to `$.caught`, and a handler task reports
 * what it received at `$.handled`.
 */
export const kitMapItemError = definePipeline({ name: 'kit-map-item-error', version: 1, input: z.looseObject({ probe: z.string() }) })
  .map(
    'items',
    {
      items: '$.items',
      itemSelector: item,
      maxConcurrency: 1,
      resultPath: '$.results',
      catch: [
        {
          errors: ['ItemBroken'],
          resultPath: '$.caught',
          then: (b) => b.task('handle', kitHandler, { input: { ...P, 'error.$': '$.caught' }, resultPath: '$.handled' }),
        },
      ],
    },
    (b) => b.task('item', kitItem),
  )
  .build();

/** The pipelines of scenarios 26 and 41 (part of `conformancePipelines`). */
export const mapTolerancePipelines: AnyPipeline[] = [kitMapOverCount, kitMapOverPercentage, kitMapItemError];
