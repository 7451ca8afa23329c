import { describe, expect, it } from 'vitest';
import { FATAL_CODES } from '../errors.js';
import { createProbeDir, readProbe, startCounts } from './probe.js';
import type { KitContext } from './suite.js';

/**
 * Scenarios 18-20: fatal codes fail the run whatever tolerates or catches failures, and an
 * approval gate takes its reviewer from the run's state.
 */
export function fatalAndReviewerScenarios({ caps, timeout, engine, run, output, gateOpen }: KitContext): void {
  it.skipIf(!caps.toleratedFailures)(
    '18. a fatal item failure fails a map that tolerates every failure; finished items keep their work',
    { timeout },
    async () => {
      expect(FATAL_CODES).toContain('ModelAccessDenied');
      const { runId, outcome, events } = await run('kit-map-fatal', { items: [1, 2, 3, 4, 5], delayMs: 0, failIndexes: [2] });
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ModelAccessDenied', message: 'item 2 is broken' } });
      // a retrier naming the code does not retry it; items 0 and 1 ran once, before it (maxConcurrency 1)
      const starts = startCounts(events, 'kit-item');
      expect([starts.get('item-0'), starts.get('item-1'), starts.get('item-2')]).toEqual([1, 1, 1]);
      const info = await engine().status(runId);
      expect(info.status).toBe('failed');
      expect(info.error).toMatchObject({ code: 'ModelAccessDenied', message: 'item 2 is broken' });
      // whether later items start once the map has failed is the engine's affair (aws-local-stepfunctions
      // runs them); what finished before stays recorded
      const items = info.attempts.filter((a) => /\[\d+\]\/item$/.test(a.stepPath));
      for (const done of ['[0]/item', '[1]/item'])
        expect(
          items.filter((a) => a.stepPath.endsWith(done)).map((a) => a.status),
          done,
        ).toEqual(['succeeded']);
      const failed = items.filter((a) => a.status === 'failed');
      expect(failed.map((a) => a.error?.code)).toEqual(['ModelAccessDenied']);
      expect(failed[0]!.stepPath).toMatch(/\[2\]\/item$/);
    },
  );

  it('19. States.ALL does not catch ConfigurationError; a catcher naming it does', { timeout }, async () => {
    const all = await run('kit-fatal-catch-all');
    expect(all.outcome).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', message: 'ConfigurationError on attempt 1' } });
    expect(startCounts(all.events, 'kit-handler').size).toBe(0);
    const named = await run('kit-fatal-catch-named');
    const out = output(named.outcome);
    expect(out.caught).toMatchObject({ code: 'ConfigurationError', message: 'ConfigurationError on attempt 1', retryable: false });
    expect(out.handled).toMatchObject({ handled: 'ConfigurationError' });
    expect(named.events.filter((e) => e.event === 'start' && e.stage === 'kit-flaky')).toHaveLength(1);
  });

  describe.skipIf(!caps.approvals)('20. an approval gate takes its reviewer from the run input (reviewerPath)', () => {
    it('a reviewer id assigns the gate: another reviewer is refused, the assigned one decides', { timeout }, async () => {
      const { runId } = await engine().start('kit-reviewer-path', { probe: createProbeDir(), reviewerId: 'alice' });
      const notice = await gateOpen(runId, 'review');
      expect(notice.reviewer).toBe('alice');
      expect((await engine().status(runId)).pendingReviews).toMatchObject([{ gate: 'review', reviewer: 'alice' }]);
      await expect(engine().approve(runId, 'review', { token: notice.token, reviewer: 'bob' })).rejects.toThrow(/alice/);
      await engine().approve(runId, 'review', { token: notice.token, reviewer: 'alice', comment: 'ok' });
      expect(output(await engine().result(runId, { timeoutMs: timeout })).review).toEqual({ approved: true, reviewer: 'alice', comment: 'ok', sections: {} });
    });

    it('null leaves the gate to anyone with the token', { timeout }, async () => {
      const probe = createProbeDir();
      const { runId } = await engine().start('kit-reviewer-path', { probe, reviewerId: null });
      const notice = await gateOpen(runId, 'review');
      expect(notice.reviewer ?? null).toBeNull();
      expect((await engine().status(runId)).pendingReviews[0]?.reviewer ?? null).toBeNull();
      await engine().approve(runId, 'review', { token: notice.token, reviewer: 'bob' });
      expect(output(await engine().result(runId, { timeoutMs: timeout })).review).toEqual({ approved: true, reviewer: 'bob', comment: null, sections: {} });
      expect(startCounts(readProbe(probe), 'kit-step').size).toBe(1);
    });

    it('a missing reviewer path fails the run with States.Runtime', { timeout }, async () => {
      const { outcome } = await run('kit-reviewer-path');
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.Runtime' } });
    });
  });
}
