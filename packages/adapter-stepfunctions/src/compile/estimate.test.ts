import { mapItemBounds } from '@baton/core/engine';
import { conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { compileUnchecked } from './compile.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const payloadWarnings = (name: string, items: number): string[] =>
  compileUnchecked(kit(name), { expectedItems: { items } })
    .issues.filter((i) => /over the 256 KB state limit/.test(i.message))
    .map((i) => i.step);

describe('map results estimated from the schemas', () => {
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

  it("the item task of a map whose aggregate can pass 256 KB sends core's threshold for the expected item count", () => {
    const big = (items: number): Record<string, unknown> | undefined => {
      let payload: Record<string, unknown> | undefined;
      JSON.stringify(compileUnchecked(kit('kit-aggregate'), { expectedItems: { items } }).definition, (_k, v: unknown) => {
        const p = (v as { Payload?: Record<string, unknown> } | null)?.Payload;
        if (p?.stage === 'kit-big') payload = p;
        return v;
      });
      return payload;
    };
    expect(big(20)).toMatchObject({ claimCheckThreshold: Math.floor((192 * 1024) / 20) - 34, keepKeys: true });
    expect(big(4000)).toMatchObject({ claimCheckThreshold: 512 });
    // five items of 32 KB fit: nothing lowered
    expect(big(5)).not.toHaveProperty('claimCheckThreshold');
  });
});
