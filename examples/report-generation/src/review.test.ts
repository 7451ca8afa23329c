import { createLocalEngine } from '@baton/core';
import { describe, it } from 'vitest';
import { reviewSectionBySection } from './review-scenario.test-helper.js';

describe('the reference report reviewed section by section on the local engine, through the Engine API', () => {
  it('sends one section back with a note, accepts a missing one, approves the rest: the report has the rewritten section, the marker, the sign-off and a PDF', async () => {
    await reviewSectionBySection((options) => createLocalEngine(options), {
      second: 'review-rounds@0/review-again',
      rewrite: ['review-rounds@0/rewrite[0]/regenerate', 'review-rounds@0/rewrite[0]/revalidate'],
    });
  });
});
