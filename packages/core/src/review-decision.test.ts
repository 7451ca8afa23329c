import { describe, expect, it } from 'vitest';
import { MAX_REVIEW_NOTE_CHARS, type ReviewDecision } from './engine.js';
import { createReviewToken } from './engine-support.js';
import { isStageError } from './errors.js';
import { checkReviewDecision, findOpenReview, sectionVerdictsOf } from './review-decision.js';

const pending = { gate: 'review', sections: ['intro', 'results'] };
const refusal = (f: () => void): { code: string; message: string } => {
  try {
    f();
  } catch (e) {
    if (!isStageError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error('not refused');
};

describe('checkReviewDecision', () => {
  it('accepts verdicts for the pending sections, a partial set, none, and a send-back with a note', () => {
    expect(() =>
      checkReviewDecision(pending, { token: 't', sections: { intro: { verdict: 'approve' }, results: { verdict: 'send-back', note: 'add the 10 mg arm' } } }),
    ).not.toThrow();
    expect(() => checkReviewDecision(pending, { token: 't', sections: { results: { verdict: 'accept-missing' } } })).not.toThrow();
    expect(() => checkReviewDecision(pending, { token: 't' })).not.toThrow();
    expect(() => checkReviewDecision({ gate: 'g' }, { token: 't', sections: {} })).not.toThrow();
    expect(() => checkReviewDecision(pending, { token: 't', comment: 'x'.repeat(MAX_REVIEW_NOTE_CHARS) })).not.toThrow();
  });

  it.each<[string, Omit<ReviewDecision, 'token'>, RegExp, { gate: string; sections?: string[] }]>([
    ['an unknown section', { sections: { methods: { verdict: 'approve' } } }, /no section "methods".*intro, results/, pending],
    ['verdicts on a gate without sections', { sections: { intro: { verdict: 'approve' } } }, /no section verdicts/, { gate: 'g' }],
    ['an unknown verdict kind', { sections: { intro: { verdict: 'rewrite' as 'approve' } } }, /unknown verdict "rewrite"/, pending],
    ['a send-back without a note', { sections: { intro: { verdict: 'send-back', note: '  ' } } }, /needs a note/, pending],
    ['a note over the limit', { sections: { intro: { verdict: 'accept-missing', note: 'x'.repeat(MAX_REVIEW_NOTE_CHARS + 1) } } }, /at most 4000/, pending],
    ['a comment over the limit', { comment: 'x'.repeat(MAX_REVIEW_NOTE_CHARS + 1) }, /comment .*at most 4000/, pending],
    ['sections that are not an object', { sections: ['intro'] as unknown as Record<string, never> }, /object of verdicts/, pending],
  ])('refuses %s with InvalidInput', (_, decision, why, on) => {
    const e = refusal(() => checkReviewDecision(on, { token: 't', ...decision }));
    expect(e.code).toBe('InvalidInput');
    expect(e.message).toMatch(why);
  });

  it('sectionVerdictsOf keeps verdict and note only', () => {
    const sections = { intro: { verdict: 'approve', extra: 1 } as never, results: { verdict: 'send-back' as const, note: 'n' } };
    expect(sectionVerdictsOf({ token: 't', sections })).toEqual({ intro: { verdict: 'approve' }, results: { verdict: 'send-back', note: 'n' } });
    expect(sectionVerdictsOf({ token: 't' })).toEqual({});
  });
});

describe('findOpenReview', () => {
  const a = createReviewToken();
  const b = createReviewToken();
  const open = [
    { gate: 'review', tokenHash: a.hash, reviewer: 'alice', sections: ['intro'] },
    { gate: 'review', tokenHash: b.hash, reviewer: null },
  ];
  const where = { run: 'r1', gate: 'review' };

  it('finds the review whose token matches, for its assigned reviewer, with valid verdicts', () => {
    expect(findOpenReview(open, where, { token: a.token, reviewer: 'alice', sections: { intro: { verdict: 'approve' } } })).toBe(open[0]);
    expect(findOpenReview(open, where, { token: b.token, reviewer: 'anyone' })).toBe(open[1]);
  });

  it('refuses no open review, a wrong token, another reviewer and bad verdicts, each with its code and saying which', () => {
    expect(refusal(() => findOpenReview([], where, { token: a.token }))).toEqual({
      code: 'GateNotOpen',
      message: 'run "r1" has no open review at gate "review" (not reached yet, already decided, timed out, or the run ended)',
    });
    expect(refusal(() => findOpenReview(open, where, { token: 'forged' }))).toEqual({
      code: 'ReviewTokenRejected',
      message: 'review token rejected for gate "review" of run "r1"',
    });
    expect(refusal(() => findOpenReview(open, where, { token: a.token, reviewer: 'bob' }))).toEqual({
      code: 'ReviewTokenRejected',
      message: 'gate "review" of run "r1" is assigned to reviewer "alice"',
    });
    const verdicts = refusal(() => findOpenReview(open, where, { token: b.token, sections: { intro: { verdict: 'approve' } } }));
    expect(verdicts.code).toBe('InvalidInput');
    expect(verdicts.message).toMatch(/no section verdicts/);
  });

  it('tells a used token (one of the closed reviews of the gate) from a wrong one, open review or not', () => {
    const used = createReviewToken();
    const closed = [{ gate: 'review', tokenHash: used.hash }];
    const usedRefusal = { code: 'ReviewTokenUsed', message: 'review token for gate "review" of run "r1" was already used (a token decides once)' };
    expect(refusal(() => findOpenReview([], where, { token: used.token }, closed))).toEqual(usedRefusal);
    expect(refusal(() => findOpenReview(open, where, { token: used.token }, closed))).toEqual(usedRefusal);
    expect(refusal(() => findOpenReview([], where, { token: 'forged' }, closed)).code).toBe('GateNotOpen');
    expect(refusal(() => findOpenReview(open, where, { token: 'forged' }, closed)).code).toBe('ReviewTokenRejected');
    // a closed review of another gate does not make the token "used" here
    expect(refusal(() => findOpenReview(open, where, { token: used.token }, [{ gate: 'other', tokenHash: used.hash }])).code).toBe('ReviewTokenRejected');
    // an open review of another gate is not open at this one
    expect(refusal(() => findOpenReview([{ gate: 'other', tokenHash: a.hash }], where, { token: a.token })).code).toBe('GateNotOpen');
  });
});
