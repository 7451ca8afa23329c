import { expect, it } from 'vitest';
import { containsRef } from '../claim-check.js';
import type { RunEvent } from '../observer.js';
import { sha256Hex } from '../ports/blob-store.js';
import { setProbeFlag } from './probe.js';
import type { KitContext } from './suite.js';

const MB = 1024 * 1024;

/**
 * Scenarios 37-38: what `result()` answers (values, never claim-check references, the same for two
 * runs of equal data), and the `run-redriven` event a redrive emits.
 */
export function resultScenarios({ caps, timeout, engine, run, output, runEvents }: KitContext): void {
  it('37. result() returns values: no claim-check reference, equal outputs for equal data', { timeout }, async () => {
    const first = await run('kit-claim-check');
    const second = await run('kit-claim-check');
    const a = output(first.outcome);
    const b = output(second.outcome);
    expect(containsRef(a)).toBe(false);
    const text = 'x'.repeat(MB);
    expect(a.big).toEqual({ text, sha256: sha256Hex(text) });
    expect(a.consumed).toEqual({ bytes: MB, intact: true });
    // the runs differ only by their probe directory, an input field the state carries
    expect({ ...b, probe: '' }).toEqual({ ...a, probe: '' });
  });

  it.skipIf(!caps.redrive || !caps.runEvents)('38. each redrive emits run-redriven with its count', { timeout }, async () => {
    const first = await run('kit-map-strict', { items: [1, 2], delayMs: 0, failIndexes: [1] });
    expect(first.outcome.status).toBe('failed');
    const redriven = (): RunEvent[] => runEvents!(first.runId).filter((e) => e.type === 'run-redriven');
    expect(redriven()).toEqual([]);
    const t0 = Date.now();
    // not fixed yet: the redriven run fails again, and a second redrive is counted as such
    await engine().redrive(first.runId);
    expect((await engine().result(first.runId, { timeoutMs: timeout })).status).toBe('failed');
    setProbeFlag(first.probe, 'fixed');
    await engine().redrive(first.runId);
    output(await engine().result(first.runId, { timeoutMs: timeout }));
    const events = redriven();
    expect(events.map((e) => e.type === 'run-redriven' && e.redrive)).toEqual([1, 2]);
    for (const e of events) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(t0 - 1000);
    // where the harness sees the run's own events too, each redrive sits between two ends
    const order = runEvents!(first.runId).map((e) => e.type);
    if (order.includes('run-finished'))
      expect(order.filter((t) => t === 'run-finished' || t === 'run-redriven')).toEqual([
        'run-finished',
        'run-redriven',
        'run-finished',
        'run-redriven',
        'run-finished',
      ]);
  });
}
