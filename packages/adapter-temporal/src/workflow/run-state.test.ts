import { describe, expect, it } from 'vitest';
import { MAX_REVIEW_NOTE_CHARS, createReviewToken } from '@baton/core/engine';
import type { BatonWorkflowInput, CarriedState, DecideArgs } from './contract.js';
import { CARRIED_SUCCEEDED_ATTEMPTS, WorkflowRunState, carryForRedrive, emptyCarry, trimAttempts } from './run-state.js';

const input = (carry?: CarriedState): BatonWorkflowInput => ({
  runId: 'r1',
  pipeline: 'p',
  ir: {
    irVersion: 1,
    name: 'p',
    version: 1,
    steps: ['review', 'legal', 'later'].map((gate) => ({ id: gate, kind: 'approval', gate, timeoutSeconds: 60 })),
  } as unknown as BatonWorkflowInput['ir'],
  stages: {},
  input: {},
  startedAt: '2026-01-01T00:00:00.000Z',
  ...(carry ? { carry } : {}),
});

const review = (stepPath: string, gate: string, tokenHash: string, reviewer?: string) => ({
  stepPath,
  gate,
  tokenHash,
  payload: { x: 1 },
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-02T00:00:00.000Z',
  ...(reviewer ? { reviewer } : {}),
});

describe('WorkflowRunState.findReview (the decide validator)', () => {
  it('accepts the token of an open review, refuses forged, decided and wrong-reviewer ones', () => {
    const a = createReviewToken();
    const b = createReviewToken();
    const carry = emptyCarry();
    carry.reviews['review'] = review('review', 'review', a.hash);
    carry.reviews['legal'] = review('legal', 'legal', b.hash, 'carol');
    const state = new WorkflowRunState(input(carry));
    const refusal = (args: DecideArgs): { type: string | undefined; message: string } => {
      try {
        state.findReview(args);
      } catch (e) {
        return { type: (e as { type?: string }).type, message: (e as Error).message };
      }
      throw new Error('not refused');
    };
    expect(refusal({ gate: 'later', verdict: 'approved', token: a.token })).toEqual({
      type: 'GateNotOpen',
      message: 'run "r1" has no open review at gate "later" (not reached yet, already decided, timed out, or the run ended)',
    });
    expect(refusal({ gate: 'nope', verdict: 'approved', token: a.token }).type).toBe('GateNotFound');
    state.opening.set('later', 1);
    expect(refusal({ gate: 'later', verdict: 'approved', token: a.token }).type).toBe('BatonGateOpening');
    state.opening.set('later', 0);
    expect(state.findReview({ gate: 'review', verdict: 'approved', token: a.token }).stepPath).toBe('review');
    expect(refusal({ gate: 'review', verdict: 'approved', token: b.token }).type).toBe('ReviewTokenRejected');
    expect(() => state.findReview({ gate: 'review', verdict: 'approved', token: 'x' + a.token.slice(1) })).toThrow(/token rejected/);
    expect(() => state.findReview({ gate: 'legal', verdict: 'approved', token: b.token, reviewer: 'mallory' })).toThrow(/assigned to reviewer "carol"/);
    expect(state.findReview({ gate: 'legal', verdict: 'approved', token: b.token, reviewer: 'carol' }).stepPath).toBe('legal');
    carry.decisions['review'] = { decision: 'approved' };
    expect(refusal({ gate: 'review', verdict: 'approved', token: a.token }).type).toBe('ReviewTokenUsed');
    expect(refusal({ gate: 'review', verdict: 'approved', token: 'forged' }).type).toBe('GateNotOpen');
    carry.decisions['review'] = { decision: 'timeout' };
    // a review that timed out was never decided: its token was not used
    expect(refusal({ gate: 'review', verdict: 'approved', token: a.token }).type).toBe('GateNotOpen');
    expect(state.pendingReviews().map((r) => r.gate)).toEqual(['legal']);
    expect(JSON.stringify(state.snapshot())).not.toContain(b.hash);
  });

  it("checks section verdicts with core's rule before anything is recorded; the review lists its sections", () => {
    const a = createReviewToken();
    const carry = emptyCarry();
    carry.reviews['rounds@0/review'] = { ...review('rounds@0/review', 'review', a.hash), sections: ['intro', 'results'] };
    const state = new WorkflowRunState(input(carry));
    const decide = (sections: DecideArgs['sections']) =>
      state.findReview({ gate: 'review', verdict: 'approved', token: a.token, ...(sections ? { sections } : {}) });
    expect(() => decide({ methods: { verdict: 'approve' } })).toThrow(/no section "methods"/);
    expect(() => decide({ results: { verdict: 'send-back' } })).toThrow(/needs a note/);
    expect(() => decide({ results: { verdict: 'send-back', note: 'x'.repeat(MAX_REVIEW_NOTE_CHARS + 1) } })).toThrow(/at most 4000/);
    expect(decide({ results: { verdict: 'send-back', note: 'add the 10 mg arm' } }).stepPath).toBe('rounds@0/review');
    expect(state.pendingReviews()).toMatchObject([{ gate: 'review', stepPath: 'rounds@0/review', sections: ['intro', 'results'] }]);
    expect(Object.keys(carry.decisions)).toEqual([]);
  });
});

describe('carryForRedrive', () => {
  it('keeps completed outputs and approvals, forgets failures, retry timers and negative decisions', () => {
    const carry: CarriedState = {
      ...emptyCarry(),
      completed: { a: { hash: 'h', output: 1 } },
      failedAttempts: { 'b#1': { code: 'X', message: 'x', retryable: false } },
      timers: { 'b#1:retry': 5, wait: 9 },
      reviews: { g1: review('g1', 'g1', 'h1'), g2: review('g2', 'g2', 'h2') },
      decisions: { g1: { decision: 'approved' }, g2: { decision: 'rejected' } },
      attempts: [
        { stepPath: 'a', attempt: 1, status: 'succeeded', startedAt: 't' },
        { stepPath: 'b', attempt: 1, status: 'running', startedAt: 't' },
      ],
      generation: 2,
    };
    const next = carryForRedrive(carry);
    expect(next.completed).toEqual(carry.completed);
    expect(next.failedAttempts).toEqual({});
    expect(next.timers).toEqual({ wait: 9 });
    expect(Object.keys(next.reviews)).toEqual(['g1']);
    expect(Object.keys(next.decisions)).toEqual(['g1']);
    expect(next.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect(next.generation).toBe(3);
  });
});

describe('trimAttempts', () => {
  it('keeps every failed record and the latest succeeded ones, in order', () => {
    const n = CARRIED_SUCCEEDED_ATTEMPTS + 100;
    const attempts = Array.from({ length: n }, (_, i) => ({
      stepPath: `s${i}`,
      attempt: 1,
      status: i % 100 === 0 ? ('failed' as const) : ('succeeded' as const),
      startedAt: 't',
    }));
    const kept = trimAttempts(attempts);
    const failed = attempts.filter((a) => a.status === 'failed');
    expect(kept.filter((a) => a.status === 'failed')).toEqual(failed);
    expect(kept.filter((a) => a.status === 'succeeded')).toHaveLength(CARRIED_SUCCEEDED_ATTEMPTS);
    expect(kept.at(-1)).toBe(attempts.at(-1));
    expect(kept.map((a) => Number(a.stepPath.slice(1)))).toEqual([...kept.map((a) => Number(a.stepPath.slice(1)))].sort((a, b) => a - b));
    expect(trimAttempts(attempts.slice(0, 10))).toHaveLength(10);
  });
});
