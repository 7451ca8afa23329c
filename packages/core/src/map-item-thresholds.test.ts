import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { STEP_FUNCTIONS_LIMITS } from './engine-limits.js';
import { mapItemBounds, mapItemClaimCheckThresholds, maxJsonChars } from './map-item-thresholds.js';
import { conformancePipelines } from './testkit/pipelines.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;

describe('map item claim-check thresholds under a state limit', () => {
  it('bounds the JSON of a schema, or gives none where the schema does not', () => {
    expect(maxJsonChars(z.object({ index: z.number(), value: z.number() }))).toBe(2 + (7 + 2 + 24) * 2);
    const bounded = z.object({
      s: z.string().max(10),
      a: z.array(z.boolean()).max(3),
      e: z.enum(['ab', 'c']).optional(),
      u: z.union([z.literal('x'), z.null()]),
    });
    expect(maxJsonChars(bounded)).toBe(2 + (3 + 2 + 62) + (3 + 2 + 20) + (3 + 2 + 4) + (3 + 2 + 4));
    expect(JSON.stringify({ s: '"'.repeat(10), a: [false, false, false], e: 'ab', u: null }).length).toBeLessThanOrEqual(maxJsonChars(bounded)!);
    expect(maxJsonChars(z.object({ text: z.string() }))).toBeUndefined();
    expect(maxJsonChars(z.looseObject({ n: z.number() }))).toBeUndefined();
    expect(maxJsonChars(z.record(z.string(), z.number()))).toBeUndefined();
  });

  it("bounds an item result by its last task's output schema, only for a map that tolerates no failure", () => {
    expect(mapItemBounds(kit('kit-map-concurrency'))).toEqual({ items: 68 + 34 });
    expect(mapItemBounds(kit('kit-map-tolerated'))).toEqual({});
    expect(mapItemBounds(kit('kit-scale'))).toEqual({});
  });

  it('lowers the threshold of the items of a map whose aggregate can pass 3/4 of the limit, and only there', () => {
    const thresholds = (name: string, items?: number): Record<string, number> =>
      mapItemClaimCheckThresholds(kit(name), STEP_FUNCTIONS_LIMITS, items === undefined ? {} : { expectedItems: { items } });
    // unbounded item outputs: 1 KB when the count is unknown, the budget's share at a known count
    expect(thresholds('kit-aggregate')).toEqual({ items: 1024 });
    expect(thresholds('kit-aggregate', 20)).toEqual({ items: Math.floor((192 * 1024) / 20) - 34 });
    expect(thresholds('kit-aggregate', 5)).toEqual({});
    expect(thresholds('kit-aggregate', 4000)).toEqual({ items: 512 });
    // 102-character items never reach a threshold: nothing to lower, at any count
    expect(thresholds('kit-map-concurrency')).toEqual({});
    expect(thresholds('kit-map-concurrency', 3000)).toEqual({});
    // never above the claim-check threshold in use; no limit, nothing lowered
    expect(mapItemClaimCheckThresholds(kit('kit-aggregate'), STEP_FUNCTIONS_LIMITS, { claimCheckThreshold: 800 })).toEqual({ items: 800 });
    expect(mapItemClaimCheckThresholds(kit('kit-aggregate'), { engine: 'Unlimited' })).toEqual({});
  });
});
