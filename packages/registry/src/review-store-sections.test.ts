import { expect, it } from 'vitest';
import { createPgliteRegistry } from './pglite.js';
import { createRegistryReviewStore } from './review-store.js';
import { taskTokenReview } from './test-support/review-store-suite.js';

it('a task-token review keeps its section ids (what the deployed approve checks verdicts against) and is closed with verdicts once', async () => {
  const registry = await createPgliteRegistry();
  try {
    const store = createRegistryReviewStore(registry);
    const review = taskTokenReview({ stepPath: 'rounds@0/review', sections: ['intro', 'results'] });
    await store.put(review);
    const [open] = await store.open(review.executionArn, review.gate);
    expect(open?.sections).toEqual(['intro', 'results']);
    expect((await store.list(review.executionArn))[0]?.sections).toEqual(['intro', 'results']);
    const at = '2026-11-23T10:04:00.000Z';
    const sections = { intro: { verdict: 'approve' as const }, results: { verdict: 'send-back' as const, note: 'add the 10 mg arm' } };
    expect(await store.close(review.executionArn, review.stepPath, { status: 'approved', reviewer: 'ana', sections, at })).toBe(true);
    expect(await store.close(review.executionArn, review.stepPath, { status: 'approved', reviewer: 'ana', sections, at })).toBe(false);
    expect(await store.open(review.executionArn, review.gate)).toEqual([]);
    // a gate without sectionsPath reads back without sections
    await store.put(taskTokenReview({ stepPath: 'plain', tokenHash: 'hash-2', taskToken: 'TT-2' }));
    expect((await store.open(review.executionArn, review.gate))[0]).not.toHaveProperty('sections');
  } finally {
    await registry.close();
  }
});
