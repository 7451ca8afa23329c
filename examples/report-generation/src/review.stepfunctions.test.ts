import { createStepFunctionsLocalEngine } from '@baton/adapter-stepfunctions';
import { describe, it } from 'vitest';
import { retryHeldSection, reviewSectionBySection, sendBackTwice } from './review-scenario.test-helper.js';

describe('the reference report reviewed section by section on the compiled Step Functions machine (stepfunctions-local)', { timeout: 180_000 }, () => {
  it('sends one section back with a note, accepts a missing one, approves the rest: the same report as on the local engine', async () => {
    await reviewSectionBySection((options) => createStepFunctionsLocalEngine(options), {
      // the review loop compiles to a counter loop whose steps carry the round, as on the local engine (21e1ca2)
      second: 'review-rounds@0/review-again',
      rewrite: ['review-rounds@0/rewrite[0]/regenerate', 'review-rounds@0/rewrite[0]/revalidate'],
    });
  });

  it('a section sent back twice is rewritten twice, each time with the note of its round, and approved in the third round', async () => {
    await sendBackTwice((options) => createStepFunctionsLocalEngine(options));
  });

  it('a section held by the safety check is sent back, retried with the findings in its prompt, and makes it into the report', async () => {
    await retryHeldSection((options) => createStepFunctionsLocalEngine(options));
  });
});
