import { expect, it } from 'vitest';
import { KIT_AGGREGATE_ITEM_BYTES } from './pipelines-limits.js';
import { startCounts } from './probe.js';
import type { KitContext } from './suite.js';

/**
 * Scenarios 40 and above: payload limits. A map's aggregated result is claim-checked as a whole,
 * so a result that no engine could carry in one payload (Temporal: 2 MB per payload) still flows.
 */
export function limitsScenarios({ timeout, run, output }: KitContext): void {
  it('40. a map of 80 items each just under the claim-check threshold (2.4 MB together) reaches the next task whole', { timeout: timeout * 2 }, async () => {
    const items = Array.from({ length: 80 }, (_, i) => i);
    const { outcome, events } = await run('kit-aggregate', { items });
    expect(output(outcome).consumed).toEqual({ items: 80, bytes: 80 * KIT_AGGREGATE_ITEM_BYTES, intact: true });
    expect(startCounts(events, 'kit-big').size).toBe(80);
    expect(startCounts(events, 'kit-consume-all').size).toBe(1);
  });
}
