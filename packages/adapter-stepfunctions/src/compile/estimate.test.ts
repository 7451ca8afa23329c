import { conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileUnchecked } from './compile.js';
import { mapItemBounds, mapItemThresholds, maxJsonChars } from './estimate.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const payloadWarnings = (name: string, items: number): string[] =>
  compileUnchecked(kit(name), { expectedItems: { items } })
    .issues.filter((i) => /over the 256 KB state limit/.test(i.message))
    .map((i) => i.step);

describe('map results estimated from the schemas', () => {
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

  it('a map of 2,000 small bounded items is not reported; unbounded, tolerant or discarded-shape maps still are', () => {
    expect(mapItemBounds(kit('kit-map-concurrency'))).toEqual({ items: 68 + 34 });
    // before, every item counted as the 32 KB claim-check threshold: 2,000 × 32 KB
    expect(payloadWarnings('kit-map-concurrency', 2000)).toEqual([]);
    expect(payloadWarnings('kit-map-concurrency', 3000)).toEqual(['items']);
    // 20 items of 30 KB cross the Map as references (their tasks' lowered threshold); 2,000 references do not fit
    expect(payloadWarnings('kit-aggregate', 20)).toEqual([]);
    expect(payloadWarnings('kit-aggregate', 2000)).toEqual(['items']);
    expect(mapItemBounds(kit('kit-map-tolerated'))).toEqual({});
    expect(mapItemBounds(kit('kit-scale'))).toEqual({});
  });

  it('lowers the claim-check threshold of the items of a map whose aggregate can pass the budget, and only there', () => {
    const thresholds = (name: string, items?: number): Record<string, number> =>
      mapItemThresholds(kit(name), items === undefined ? {} : { items }, mapItemBounds(kit(name)), 32 * 1024);
    // unbounded item outputs: 1 KB when the count is unknown, the budget's share at a known count
    expect(thresholds('kit-aggregate')).toEqual({ items: 1024 });
    expect(thresholds('kit-aggregate', 20)).toEqual({ items: Math.floor((192 * 1024) / 20) - 34 });
    expect(thresholds('kit-aggregate', 5)).toEqual({});
    expect(thresholds('kit-aggregate', 4000)).toEqual({ items: 512 });
    // 102-character items never reach a threshold: nothing to lower, at any count
    expect(thresholds('kit-map-concurrency')).toEqual({});
    expect(thresholds('kit-map-concurrency', 3000)).toEqual({});
  });
});
