import type { ReviewNotice } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { reviewSummary } from './review.js';

const notice = (payload: unknown): ReviewNotice =>
  ({
    runId: 'report-1',
    gate: 'review',
    stepPath: 'review-rounds@0/review-again',
    token: 't',
    expiresAt: '',
    payload,
    sections: ['objectives', 'conclusions'],
  }) as ReviewNotice;

describe('the review summary baton run prints', () => {
  it('names each section by title and id (a failed one from the section index), and says what an earlier round decided', () => {
    const text = reviewSummary(
      notice({
        reportTitle: 'CSR BTN-101',
        sectionIndex: [
          { sectionId: 'synopsis', title: 'Synopsis' },
          { sectionId: 'objectives', title: 'Study Objectives' },
          { sectionId: 'conclusions', title: 'Conclusions' },
        ],
        sections: [
          { status: 'succeeded', output: { task: { sectionId: 'synopsis', title: 'Synopsis' } } },
          { status: 'failed', error: { code: 'ValidationFailed', message: 'still invalid after 2 repair rounds' } },
          { status: 'succeeded', output: { task: { sectionId: 'conclusions', title: 'Conclusions' }, flagged: { status: 'needs-human-review' } } },
        ],
        decided: { synopsis: { verdict: 'approve', reviewer: 'ana', round: 1 } },
      }),
    );
    expect(text.split('\n')).toEqual([
      'Review "review" for run report-1: CSR BTN-101',
      '  1. Synopsis (synopsis): approved in round 1 by ana (not asked again)',
      '  2. Study Objectives (objectives): FAILED ValidationFailed: still invalid after 2 repair rounds',
      '  3. Conclusions (conclusions): held for human review (safety)',
    ]);
  });
});
