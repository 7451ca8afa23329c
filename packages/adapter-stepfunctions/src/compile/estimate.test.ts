import { conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileUnchecked } from './compile.js';
import { mapItemBounds, maxJsonChars } from './estimate.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const payloadWarnings = (name: string, items: number): string[] =>
  compileUnchecked(kit(name), { expectedItems: { items } }).issues.filter((i) => /over the 256 KB state limit/.test(i.message)).map((i) => i.step);

describe('map results estimated from the schemas', () => {
  it('bounds the JSON of a schema, or gives none where the schema does not', () => {
    expect(maxJsonChars(z.object({ index: z.number(), value: z.number() }))).toBe(2 + (7 + 2 + 24) * 2);
    const bounded = z.object({ s: z.string().max(10), a: z.array(z.boolean()).max(3), e: z.enum(['ab', 'c']).optional(), u: z.union([z.literal('x'), z.null()]) });
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
    expect(payloadWarnings('kit-aggregate', 20)).toEqual(['items']);
    expect(mapItemBounds(kit('kit-map-tolerated'))).toEqual({});
    expect(mapItemBounds(kit('kit-scale'))).toEqual({});
  });
});
