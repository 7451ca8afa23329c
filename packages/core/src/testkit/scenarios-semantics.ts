import { describe, expect, it } from 'vitest';
import { KIT_GATE_CATCH_TIMEOUT_SECONDS } from './pipelines-semantics.js';
import { createProbeDir, readProbe, setProbeFlag, startCounts } from './probe.js';
import type { KitContext } from './suite.js';

/**
 * Scenarios 30-35: semantics where engines parted from Step Functions or from each other
 * (choice on a missing path, fail steps under catchers and retriers, an approval gate's catch
 * handler, step paths inside loops, parallel branches stopped by a sibling's failure,
 * `States.Runtime` under `States.ALL`).
 */
export function semanticsScenarios({ caps, timeout, engine, run, output, gateOpen }: KitContext): void {
  it('30. op absent routes a missing path, and not a present one', { timeout }, async () => {
    const missing = await run('kit-absent');
    const present = await run('kit-absent', { flag: 'set' });
    expect(output(missing.outcome).out).toEqual({ value: 2 });
    expect(output(present.outcome).out).toEqual({ value: 3 });
    expect([...startCounts(missing.events).keys()]).toEqual(['missing']);
    expect([...startCounts(present.events).keys()]).toEqual(['present']);
  });

  describe("31. a fail step's error under catchers and retriers", () => {
    it('an empty catch handler gets { code, message, retryable: false } and the run goes on', { timeout }, async () => {
      const { outcome } = await run('kit-fail-caught-empty');
      expect(output(outcome).caught).toEqual({ code: 'Stopped', message: 'stopped on purpose', retryable: false });
    });

    it('a task handling it receives it not retryable', { timeout }, async () => {
      const { outcome, events } = await run('kit-fail-caught-task');
      expect(output(outcome).handled).toMatchObject({ handled: 'Stopped', message: 'stopped on purpose' });
      const received = events.filter((e) => e.event === 'received' && e.key === 'handle');
      expect(received.map((e) => e.data)).toEqual([{ code: 'Stopped', message: 'stopped on purpose', retryable: false }]);
    });

    it('a States.ALL retrier on the parallel does not run the branch again', { timeout }, async () => {
      const { outcome, events } = await run('kit-fail-retried');
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'Stopped', message: 'stopped on purpose', retryable: false } });
      expect(startCounts(events, 'kit-step').get('before-fail')).toBe(1);
    });
  });

  describe.skipIf(!caps.approvals)('32. an approval gate whose catch handler runs a task', () => {
    it('a rejection reaches the handler task, then the run goes on', { timeout }, async () => {
      const { runId } = await engine().start('kit-gate-catch-task', { probe: createProbeDir() });
      const notice = await gateOpen(runId, 'review');
      await engine().reject(runId, 'review', { token: notice.token, reviewer: 'bob', comment: 'no' });
      const out = output(await engine().result(runId, { timeoutMs: timeout }));
      expect(out.refused).toMatchObject({ code: 'ApprovalRejected', retryable: false });
      expect(out.handled).toMatchObject({ handled: 'ApprovalRejected' });
      expect(out.published).toEqual({ value: 2 });
    });

    it('a timeout reaches the same handler task as ApprovalTimedOut', { timeout }, async () => {
      const t0 = Date.now();
      const { outcome } = await run('kit-gate-catch-task');
      const out = output(outcome);
      expect(out.refused).toMatchObject({ code: 'ApprovalTimedOut', retryable: false });
      expect(out.handled).toMatchObject({ handled: 'ApprovalTimedOut' });
      expect(out.published).toEqual({ value: 2 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(KIT_GATE_CATCH_TIMEOUT_SECONDS * 1000 - 50);
    });
  });

  describe('33. step paths inside a loop carry the iteration', () => {
    it('each iteration has its own step paths and attempt numbers', { timeout }, async () => {
      const { runId, outcome, events } = await run('kit-loop-paths', { n: { value: 0 }, failIndexes: [] });
      expect(output(outcome).n).toEqual({ value: 3 });
      const starts = events.filter((e) => e.event === 'start' && e.stage === 'kit-step').map((e) => [e.key, e.attempt]);
      expect(starts).toEqual([
        ['spin@0/count', 1],
        ['spin@1/count', 1],
        ['spin@2/count', 1],
      ]);
      const counts = (await engine().status(runId)).attempts.filter((a) => a.stepPath.endsWith('/count')).map((a) => [a.stepPath, a.attempt]);
      expect(counts).toEqual([
        ['spin@0/count', 1],
        ['spin@1/count', 1],
        ['spin@2/count', 1],
      ]);
    });

    it.skipIf(!caps.redrive)('a redrive answers each iteration from its own record and runs what failed or never ran', { timeout }, async () => {
      const first = await run('kit-loop-paths', { n: { value: 0 }, failIndexes: [2] });
      expect(first.outcome).toMatchObject({ status: 'failed', error: { code: 'ItemBroken' } });
      setProbeFlag(first.probe, 'fixed');
      await engine().redrive(first.runId);
      expect(output(await engine().result(first.runId, { timeoutMs: timeout })).n).toEqual({ value: 3 });
      const events = readProbe(first.probe);
      expect(Object.fromEntries(startCounts(events, 'kit-step'))).toEqual({ 'spin@0/count': 1, 'spin@1/count': 1, 'spin@2/count': 1 });
      expect(Object.fromEntries(startCounts(events, 'kit-item'))).toEqual({ 'item-1': 1, 'item-2': 2, 'item-3': 1 });
    });
  });

  it('34. a failing parallel branch stops its sibling: the sibling starts no further step', { timeout }, async () => {
    const { outcome, probe } = await run('kit-parallel-stop');
    expect(output(outcome).handled).toMatchObject({ handled: 'Broken' });
    // long enough for the sibling's second step to have started had it not been stopped
    await new Promise((r) => setTimeout(r, 600));
    const counts = startCounts(readProbe(probe), 'kit-step');
    expect(counts.get('slow')).toBe(1);
    expect(counts.has('after-slow')).toBe(false);
  });

  it('35. States.ALL does not catch States.Runtime: a path that does not resolve fails the run', { timeout }, async () => {
    const { outcome, events } = await run('kit-runtime-catch-all');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.Runtime' } });
    expect(startCounts(events, 'kit-handler').size).toBe(0);
  });
}
