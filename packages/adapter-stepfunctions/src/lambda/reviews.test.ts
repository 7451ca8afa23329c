import { createMemoryBlobStore, type SectionVerdict } from '@baton/core';
import { MAX_REVIEW_NOTE_CHARS, createReviewToken, getText } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import { createBlobReviewStore } from './blob-reviews.js';
import { createMemoryReviewStore, decideReview, type ReviewClose, type ReviewRecord, type ReviewStore } from './reviews.js';

const ARN = 'arn:aws:states:eu-west-1:1:execution:report:run-1';

function review(tokenHash: string, extra: Partial<ReviewRecord> = {}): ReviewRecord {
  return {
    runId: 'run-1',
    executionArn: ARN,
    gate: 'review',
    stepPath: 'review',
    payload: { a: 1 },
    createdAt: 'c',
    expiresAt: 'e',
    tokenHash,
    taskToken: 'TT',
    status: 'open',
    ...extra,
  };
}

/** A store that records what close was given. */
function spying(store: ReviewStore): ReviewStore & { closes: ReviewClose[] } {
  const closes: ReviewClose[] = [];
  return { ...store, closes, close: (arn, path, d) => (closes.push(d), store.close(arn, path, d)) };
}

describe.each([
  ['memory', () => createMemoryReviewStore()],
  ['blob (development)', () => createBlobReviewStore(createMemoryBlobStore())],
])('%s review store', (_name, make) => {
  it('closes an open review once: the second close is refused', async () => {
    const store = make();
    await store.put(review('h'));
    const at = '2026-01-02T03:04:05.000Z';
    expect(await store.close(ARN, 'review', { status: 'approved', reviewer: 'alice', comment: 'ok', at })).toBe(true);
    expect(await store.close(ARN, 'review', { status: 'rejected', at })).toBe(false);
    expect(await store.close(ARN, 'missing', { status: 'approved', at })).toBe(false);
    expect((await store.list(ARN))[0]).toMatchObject({ status: 'approved' });
    expect(await store.open(ARN, 'review')).toEqual([]);
  });

  it('a put at the same step path replaces the review (a retried gate mints a new token)', async () => {
    const store = make();
    await store.put(review('h1'));
    await store.put(review('h2', { taskToken: 'TT2' }));
    expect(await store.list(ARN)).toEqual([expect.objectContaining({ tokenHash: 'h2', taskToken: 'TT2', status: 'open' })]);
  });

  it('decideReview closes with the reviewer, comment and time, checks the assigned reviewer and refuses reuse', async () => {
    const store = spying(make());
    const { token, hash } = createReviewToken();
    await store.put(review(hash, { reviewer: 'alice' }));
    await expect(decideReview(store, ARN, 'review', { token, reviewer: 'bob' }, 'approved')).rejects.toThrow(/assigned to reviewer "alice"/);
    await expect(decideReview(store, ARN, 'review', { token: 'wrong', reviewer: 'alice' }, 'approved')).rejects.toThrow(/token rejected/);
    const answer = await decideReview(store, ARN, 'review', { token, reviewer: 'alice', comment: 'fine' }, 'approved');
    expect(answer).toEqual({ taskToken: 'TT', verdict: 'approved', output: { approved: true, reviewer: 'alice', comment: 'fine', sections: {} } });
    expect(store.closes).toEqual([{ status: 'approved', reviewer: 'alice', comment: 'fine', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
    await expect(decideReview(store, ARN, 'review', { token, reviewer: 'alice' }, 'approved')).rejects.toMatchObject({
      code: 'ReviewTokenUsed',
      message: expect.stringMatching(/already used/),
    });
    await expect(decideReview(store, ARN, 'review', { token: 'wrong', reviewer: 'alice' }, 'approved', { runId: 'r1' })).rejects.toMatchObject({
      code: 'GateNotOpen',
      message: 'run "r1" has no open review at gate "review" (not reached yet, already decided, timed out, or the run ended)',
    });
  });

  it('decideReview checks section verdicts before closing: refused ones leave the review open, accepted ones reach the close and the output', async () => {
    const store = spying(make());
    const { token, hash } = createReviewToken();
    await store.put(review(hash, { sections: ['intro', 'results'] }));
    expect((await store.open(ARN, 'review'))[0]?.sections).toEqual(['intro', 'results']);
    const decide = (sections: Record<string, SectionVerdict>): Promise<unknown> =>
      decideReview(store, ARN, 'review', { token, reviewer: 'alice', sections }, 'approved');
    await expect(decide({ methods: { verdict: 'approve' } })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringMatching(/no section "methods"/),
    });
    await expect(decide({ results: { verdict: 'send-back', note: 'x'.repeat(MAX_REVIEW_NOTE_CHARS + 1) } })).rejects.toMatchObject({ code: 'InvalidInput' });
    expect(store.closes).toEqual([]);
    expect(await store.open(ARN, 'review')).toHaveLength(1);
    const sections: Record<string, SectionVerdict> = { intro: { verdict: 'approve' }, results: { verdict: 'send-back', note: 'add the 10 mg arm' } };
    expect(await decide(sections)).toMatchObject({ verdict: 'approved', output: { approved: true, reviewer: 'alice', comment: null, sections } });
    expect(store.closes).toEqual([expect.objectContaining({ status: 'approved', sections })]);
  });

  it("a rejection answers SendTaskFailure with ApprovalRejected and Baton's error as cause; an unassigned review takes anyone", async () => {
    const store = make();
    const { token, hash } = createReviewToken();
    await store.put(review(hash));
    const answer = await decideReview(store, ARN, 'review', { token, reviewer: 'carol', comment: 'redo 3' }, 'rejected');
    expect(answer).toMatchObject({ verdict: 'rejected', error: 'ApprovalRejected' });
    if (answer.verdict !== 'rejected') throw new Error('unreachable');
    expect(JSON.parse(answer.cause)).toEqual({
      code: 'ApprovalRejected',
      message: 'gate "review" rejected by carol: redo 3',
      retryable: false,
      details: { gate: 'review', reviewer: 'carol', comment: 'redo 3' },
    });
  });
});

describe('decideReview on a store that reads an unassigned reviewer back as null', () => {
  it('treats null as unassigned', async () => {
    const inner = createMemoryReviewStore();
    const store: ReviewStore = {
      ...inner,
      open: async (arn, gate) => (await inner.open(arn, gate)).map((r) => ({ ...r, reviewer: null as unknown as string })),
    };
    const { token, hash } = createReviewToken();
    await store.put(review(hash));
    await expect(decideReview(store, ARN, 'review', { token, reviewer: 'dan' }, 'approved')).resolves.toMatchObject({ verdict: 'approved' });
  });
});

describe('createBlobReviewStore', () => {
  it('keeps the decision (who, note, when) in the review object', async () => {
    const blobs = createMemoryBlobStore();
    const store = createBlobReviewStore(blobs);
    await store.put(review('h'));
    await store.close(ARN, 'review', { status: 'rejected', reviewer: 'erin', comment: 'no', at: '2026-01-01T00:00:00.000Z' });
    const [key] = await blobs.list('reviews/');
    expect(JSON.parse(await getText(blobs, key!))).toMatchObject({
      status: 'rejected',
      decidedBy: 'erin',
      comment: 'no',
      decidedAt: '2026-01-01T00:00:00.000Z',
    });
  });
});
