import { createLocalEngine } from '@baton/core';
import { describe, it } from 'vitest';
import { retryHeldSection, reviewSectionBySection, sendBackTwice } from './review-scenario.test-helper.js';

describe('the reference report reviewed section by section on the local engine, through the Engine API', () => {
  it('sends one section back with a note, accepts a missing one, approves the rest: the report has the rewritten section, the marker, the sign-off and a PDF', async () => {
    await reviewSectionBySection((options) => createLocalEngine(options), {
      second: 'review-rounds@0/review-again',
      rewrite: ['review-rounds@0/rewrite[0]/regenerate', 'review-rounds@0/rewrite[0]/revalidate'],
    });
  });

  it('a section sent back twice is rewritten twice, each time with the note of its round, and approved in the third round', async () => {
    await sendBackTwice((options) => createLocalEngine(options));
  });

  it('a section held by the safety check is sent back, retried with the findings in its prompt, and makes it into the report', async () => {
    await retryHeldSection((options) => createLocalEngine(options));
  });
});
