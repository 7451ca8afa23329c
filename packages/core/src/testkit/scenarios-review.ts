import { describe, expect, it } from 'vitest';
import { MAX_REVIEW_NOTE_CHARS, type ReviewDecision, type SectionVerdict } from '../engine.js';
import { createProbeDir, readProbe, startCounts } from './probe.js';
import type { KitContext } from './suite.js';

/** A decision the engine must refuse with `code` (`InvalidInput`: what it says) whose message matches `why`. */
async function refused(decided: Promise<void>, why: RegExp, code = 'InvalidInput'): Promise<void> {
  const error = await decided.then(
    () => undefined,
    (e: unknown) => e as { code?: string; message?: string },
  );
  expect(error, `expected a refusal matching ${why}`).toBeDefined();
  expect(error!.code).toBe(code);
  expect(error!.message).toMatch(why);
}

/**
 * Scenarios 22-24: per-section review verdicts. A decision's verdicts round trip into the approval
 * output, a review loop sends one section back and approves it at the next round, and refused
 * decisions (unknown section, long note, verdicts on a gate without sections, a closed round)
 * leave the gate open and the run unchanged.
 */
export function sectionReviewScenarios({ caps, timeout, engine, output, run, gateOpen }: KitContext): void {
  describe.skipIf(!caps.approvals)('22-24. per-section review verdicts', () => {
    it('22. verdicts round trip into the approval output; the review lists its sections', { timeout }, async () => {
      const ids = ['intro', 'results', 'safety'];
      const { runId } = await engine().start('kit-review-sections', { probe: createProbeDir(), ids });
      const notice = await gateOpen(runId, 'review');
      expect(notice.sections).toEqual(ids);
      expect((await engine().status(runId)).pendingReviews).toMatchObject([{ gate: 'review', sections: ids }]);
      const sections: Record<string, SectionVerdict> = {
        intro: { verdict: 'approve' },
        results: { verdict: 'send-back', note: 'the efficacy table misses the 10 mg arm' },
        safety: { verdict: 'accept-missing', note: 'no safety data yet' },
      };
      await engine().approve(runId, 'review', { token: notice.token, reviewer: 'alice', comment: 'round 1', sections });
      expect(output(await engine().result(runId, { timeoutMs: timeout })).review).toEqual({ approved: true, reviewer: 'alice', comment: 'round 1', sections });
      // a missing sectionsPath fails the gate as a missing reviewerPath does
      expect((await run('kit-review-sections')).outcome).toMatchObject({ status: 'failed', error: { code: 'States.Runtime' } });
    });

    it('23. a review loop: round 1 sends one section back, only it is drafted again, round 2 approves it', { timeout }, async () => {
      const probe = createProbeDir();
      const { runId } = await engine().start('kit-review-rounds', { probe, ids: ['a', 'b', 'c'] });
      const first = await gateOpen(runId, 'review', /@0\/review$/);
      expect(first.sections).toEqual(['a', 'b', 'c']);
      expect(first.payload).toMatchObject({ texts: { a: 'a v1', b: 'b v1', c: 'c v1' } });
      const note = 'add the 10 mg arm';
      await engine().approve(runId, 'review', {
        token: first.token,
        reviewer: 'alice',
        sections: { a: { verdict: 'approve' }, b: { verdict: 'send-back', note }, c: { verdict: 'accept-missing', note: 'no data' } },
      });
      const second = await gateOpen(runId, 'review', /@1\/review$/);
      expect(second.sections).toEqual(['b']);
      expect(second.payload).toMatchObject({ texts: { b: `b revised: ${note}` } });
      const decide = (d: Omit<ReviewDecision, 'token'>, token = second.token): Promise<void> =>
        engine().approve(runId, 'review', { token, reviewer: 'alice', ...d });
      // round 2 decides only what came back; round 1's token is spent
      await refused(decide({ sections: { a: { verdict: 'approve' } } }), /"a"/);
      await refused(decide({ sections: { b: { verdict: 'approve' } } }, first.token), /token/, 'ReviewTokenUsed');
      await decide({ sections: { b: { verdict: 'approve' } } });
      const out = output(await engine().result(runId, { timeoutMs: timeout }));
      expect(out.round).toEqual({
        texts: { a: 'a v1', b: `b revised: ${note}`, c: 'c v1' },
        ids: ['b'],
        todo: [],
        settled: { a: { verdict: 'approve' }, b: { verdict: 'approve' }, c: { verdict: 'accept-missing', note: 'no data' } },
        done: true,
      });
      const drafts = startCounts(readProbe(probe), 'kit-draft');
      expect(Object.fromEntries(drafts)).toEqual({ 'draft-a': 1, 'draft-b': 2, 'draft-c': 1 });
    });

    it('24. refused decisions leave the gate open and the run unchanged; a correct one then decides', { timeout }, async () => {
      const { runId } = await engine().start('kit-review-sections', { probe: createProbeDir(), ids: ['intro', 'results'] });
      const notice = await gateOpen(runId, 'review');
      const before = await engine().status(runId);
      const long = 'x'.repeat(MAX_REVIEW_NOTE_CHARS + 1);
      const approve = (d: Omit<ReviewDecision, 'token'>): Promise<void> => engine().approve(runId, 'review', { token: notice.token, reviewer: 'alice', ...d });
      await refused(approve({ sections: { methods: { verdict: 'approve' } } }), /"methods"/);
      await refused(approve({ sections: { results: { verdict: 'send-back', note: long } } }), new RegExp(String(MAX_REVIEW_NOTE_CHARS)));
      // a note of megabytes is refused as quickly, whatever carries the decision to the run
      await refused(approve({ sections: { results: { verdict: 'send-back', note: 'y'.repeat(1_500_000) } } }), new RegExp(String(MAX_REVIEW_NOTE_CHARS)));
      await refused(approve({ sections: { results: { verdict: 'send-back' } } }), /note/);
      await refused(approve({ sections: { results: { verdict: 'rewrite' as SectionVerdict['verdict'] } } }), /verdict/);
      await refused(approve({ comment: long }), /comment/);
      await refused(engine().reject(runId, 'review', { token: notice.token, reviewer: 'alice', comment: long }), /comment/);
      const after = await engine().status(runId);
      expect(after.status).toBe('waiting');
      expect(after.pendingReviews).toEqual(before.pendingReviews);
      const sections: Record<string, SectionVerdict> = {
        intro: { verdict: 'approve' },
        results: { verdict: 'accept-missing', note: '<script>alert(1)</script>' },
      };
      await approve({ sections });
      expect(output(await engine().result(runId, { timeoutMs: timeout })).review).toMatchObject({ approved: true, sections });
      // the round is closed: a second decision is refused
      await refused(approve({ sections: { intro: { verdict: 'approve' } } }), /review/, 'ReviewTokenUsed');

      // a gate without sectionsPath takes no verdicts
      const plain = await engine().start('kit-reviewer-path', { probe: createProbeDir(), reviewerId: null });
      const gate = await gateOpen(plain.runId, 'review');
      expect(gate.sections).toBeUndefined();
      await refused(engine().approve(plain.runId, 'review', { token: gate.token, sections: { intro: { verdict: 'approve' } } }), /sectionsPath|section/);
      expect((await engine().status(plain.runId)).status).toBe('waiting');
      await engine().approve(plain.runId, 'review', { token: gate.token, reviewer: 'bob' });
      expect(output(await engine().result(plain.runId, { timeoutMs: timeout })).review).toEqual({
        approved: true,
        reviewer: 'bob',
        comment: null,
        sections: {},
      });
    });
  });
}
