import { describe, expect, it } from 'vitest';
import { readProbe, setProbeFlag, startCounts } from './probe.js';
import type { KitContext } from './suite.js';

/**
 * Scenarios 26 and 41. Scenario 26: a map whose failed items pass its tolerance, with Step Functions' semantics for a
 * DISTRIBUTED Map Run on every engine. The map fails with `States.ExceedToleratedFailureThreshold`
 * as soon as the failures pass the threshold: no item starts after, and the message counts the
 * failures that passed it. A redrive runs the failed items again and the never-started ones for the
 * first time; completed items are not run again. Scenario 41: a map that declares no tolerance
 * fails, as an INLINE Map state does, with its first failed item's own error (code, message,
 * `retryable`, `details`), which a catch on the map naming that code catches.
 */
export function mapToleranceScenarios({ caps, timeout, engine, run, output }: KitContext): void {
  describe('26. a map over its failure tolerance fails at once, and a redrive runs what failed or never started', () => {
    const items = [10, 11, 12, 13, 14];
    for (const [pipeline, failAt] of [
      ['kit-map-over-count', 2],
      ['kit-map-over-percentage', 1],
    ] as const) {
      it(`${pipeline}: item ${failAt} fails, later items never start`, { timeout }, async () => {
        const first = await run(pipeline, { items, failIndexes: [failAt] });
        expect(first.outcome).toMatchObject({
          status: 'failed',
          error: {
            code: 'States.ExceedToleratedFailureThreshold',
            message: `map "items": 1 of ${items.length} items failed, more than tolerated`,
            retryable: false,
          },
        });
        const started = Object.fromEntries(startCounts(first.events));
        expect(started).toEqual({ before: 1, ...Object.fromEntries(items.slice(0, failAt + 1).map((_, i) => [`item-${i}`, 1])) });
        expect((await engine().status(first.runId)).status).toBe('failed');
        if (!caps.redrive) return;
        setProbeFlag(first.probe, 'fixed');
        await engine().redrive(first.runId);
        const out = output(await engine().result(first.runId, { timeoutMs: timeout }));
        expect(out.results).toEqual(items.map((v, index) => ({ status: 'succeeded', output: { index, value: v * 2 } })));
        expect(out.after).toEqual({ value: 2 });
        // completed items are answered from their records; the failed one runs again, the rest for the first time
        const counts = Object.fromEntries(startCounts(readProbe(first.probe)));
        expect(counts).toEqual({ before: 1, after: 1, ...Object.fromEntries(items.map((_, i) => [`item-${i}`, i === failAt ? 2 : 1])) });
      });
    }
  });
  describe("41. a map that declares no tolerance fails with its failed item's own error, which a catch on the map catches", () => {
    const itemError = { code: 'ItemBroken', message: 'item 1 is broken', retryable: false, details: { index: 1 } };
    it('uncaught: the run fails with the item error, code, message and details intact', { timeout }, async () => {
      const { outcome } = await run('kit-map-strict', { items: [1, 2, 3], delayMs: 0, failIndexes: [1] });
      expect(outcome.status).toBe('failed');
      if (outcome.status === 'failed') expect(outcome.error).toEqual(itemError);
    });
    it('caught by its code: the handler runs with the item error, and no item starts after the failed one', { timeout }, async () => {
      const { outcome, events } = await run('kit-map-item-error', { items: [10, 11, 12, 13], failIndexes: [1] });
      const out = output(outcome);
      expect(out.caught).toEqual(itemError);
      expect(out.handled).toEqual({ handled: 'ItemBroken', message: 'item 1 is broken', details: { index: 1 } });
      expect(out.results).toBeUndefined();
      expect(Object.fromEntries(startCounts(events))).toEqual({ 'item-0': 1, 'item-1': 1, handle: 1 });
    });
  });
}
