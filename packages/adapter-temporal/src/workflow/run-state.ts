import { ApplicationFailure } from '@temporalio/workflow';
import type { PendingReview } from '@baton/core';
import type { AttemptRecord, RetryRecord } from '@baton/core/engine';
import { assertGateOf, matchOpenReview, type ApprovalOutcome } from '@baton/core/interpreter';
import type { BatonRunSnapshot, BatonWorkflowInput, CarriedState, DecideArgs, ReviewRecord } from './contract.js';
import { sameHex, sha256Hex } from './sha256.js';

/** Succeeded attempt records carried into the next execution; older ones are dropped from status. */
export const CARRIED_SUCCEEDED_ATTEMPTS = 2_000;

/**
 * The attempt records worth carrying over: every failed one and the latest succeeded ones, so
 * that a run of many thousands of activities keeps its carried state small.
 */
export function trimAttempts(attempts: AttemptRecord[]): AttemptRecord[] {
  let succeeded = attempts.filter((a) => a.status === 'succeeded').length;
  if (succeeded <= CARRIED_SUCCEEDED_ATTEMPTS) return attempts;
  return attempts.filter((a) => a.status !== 'succeeded' || succeeded-- <= CARRIED_SUCCEEDED_ATTEMPTS);
}

/**
 * Failure type of a decision refused while its gate is being opened (the review activity has
 * notified the reviewer, the workflow has not recorded the review yet): the engine sends it again.
 */
export const GATE_OPENING = 'BatonGateOpening';

/**
 * The reviews of a gate: the open ones, and the decided ones (their tokens are used; a review
 * that timed out was never decided, so its token was never used).
 */
export function reviewsAtGate(carry: Pick<CarriedState, 'reviews' | 'decisions'>, gate: string): { open: ReviewRecord[]; decided: ReviewRecord[] } {
  const atGate = Object.values(carry.reviews).filter((r) => r.gate === gate);
  return {
    open: atGate.filter((r) => carry.decisions[r.stepPath] === undefined),
    decided: atGate.filter((r) => carry.decisions[r.stepPath] !== undefined && carry.decisions[r.stepPath]!.decision !== 'timeout'),
  };
}

/** An empty carried state, for a run's first execution. */
export function emptyCarry(): CarriedState {
  return { completed: {}, failedAttempts: {}, timers: {}, reviews: {}, decisions: {}, attempts: [], retries: [], generation: 0 };
}

/**
 * What a redrive keeps of a failed run: completed outputs, approved decisions and the records;
 * failed attempts, retry timers and undecided or negative reviews are forgotten so they run again.
 */
export function carryForRedrive(carry: CarriedState): CarriedState {
  const decisions: Record<string, ApprovalOutcome> = {};
  const reviews: Record<string, ReviewRecord> = {};
  for (const [path, d] of Object.entries(carry.decisions)) {
    if (d.decision !== 'approved') continue;
    decisions[path] = d;
    const review = carry.reviews[path];
    if (review) reviews[path] = review;
  }
  const timers: Record<string, number> = {};
  for (const [key, due] of Object.entries(carry.timers)) if (!key.endsWith(':retry')) timers[key] = due;
  return {
    ...carry,
    failedAttempts: {},
    timers,
    reviews,
    decisions,
    attempts: carry.attempts.filter((a) => a.status !== 'running'),
    generation: carry.generation + 1,
  };
}

/** The workflow's durable state, rebuilt deterministically on replay. */
export class WorkflowRunState {
  readonly carry: CarriedState;
  readonly current = new Set<string>();
  /** Activities scheduled and not yet settled; continue-as-new waits for zero. */
  inFlight = 0;
  /** Gates whose review activity is in flight, by name: how many are opening. */
  readonly opening = new Map<string, number>();
  /** Set once the history is long enough: no new activity starts; the run continues as new. */
  draining = false;
  /** Set when the carried state is too large for continue-as-new's input: the history grows instead. */
  stayInThisExecution = false;
  /** Failed attempts answered from the carried state, whose retries were recorded already. */
  readonly replayedFailures = new Set<string>();

  constructor(readonly input: BatonWorkflowInput) {
    this.carry = input.carry ?? emptyCarry();
  }

  /** Records an attempt that just started; returns it for {@link finishAttempt}. */
  startAttempt(stepPath: string, attempt: number, at: string): AttemptRecord {
    const record: AttemptRecord = { stepPath, attempt, status: 'running', startedAt: at };
    this.carry.attempts.push(record);
    return record;
  }

  /** Records a scheduled retry, unless it was recorded by an earlier execution. */
  addRetry(record: RetryRecord): boolean {
    if (this.replayedFailures.has(`${record.stepPath}#${record.attempt}`)) return false;
    this.carry.retries.push(record);
    return true;
  }

  /** Open reviews, without their token hashes. */
  pendingReviews(): PendingReview[] {
    return Object.values(this.carry.reviews)
      .filter((r) => this.carry.decisions[r.stepPath] === undefined)
      .map((r) => {
        const p: PendingReview = {
          runId: this.input.runId,
          gate: r.gate,
          stepPath: r.stepPath,
          payload: r.payload,
          createdAt: r.createdAt,
          expiresAt: r.expiresAt,
        };
        if (r.reviewer !== undefined) p.reviewer = r.reviewer;
        if (r.sections !== undefined) p.sections = [...r.sections];
        return p;
      });
  }

  snapshot(): BatonRunSnapshot {
    return {
      runId: this.input.runId,
      pipeline: this.input.pipeline,
      startedAt: this.input.startedAt,
      currentSteps: [...this.current],
      attempts: this.carry.attempts,
      retries: this.carry.retries,
      pendingReviews: this.pendingReviews(),
      generation: this.carry.generation,
    };
  }

  /**
   * The update validator: the gate must be one of the pipeline's (`GateNotFound`), then core's
   * `matchOpenReview` (an open review at the gate with this token's hash, its assigned reviewer if
   * any, verdicts, note and comment accepted by `checkReviewDecision`) with the sandbox's sha256,
   * refusing with the code every engine uses as the failure type. Rejected updates never reach the
   * history: the gate stays open. A decision on a gate being opened right now is refused with
   * {@link GATE_OPENING}, which the engine sends again; on a gate not reached it is `GateNotOpen` at once.
   */
  findReview(args: DecideArgs): ReviewRecord {
    const where = { run: this.input.runId, gate: args.gate };
    try {
      assertGateOf(where, this.input.ir);
      const { open, decided } = reviewsAtGate(this.carry, args.gate);
      return matchOpenReview(open, where, args, (token, hash) => sameHex(sha256Hex(token), hash), decided);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      // the review activity notifies the reviewer just before the workflow records the gate
      if ((this.opening.get(args.gate) ?? 0) > 0 && (code === 'GateNotOpen' || code === 'ReviewTokenRejected')) {
        throw ApplicationFailure.nonRetryable(`gate "${args.gate}" of run "${this.input.runId}" is opening`, GATE_OPENING);
      }
      throw ApplicationFailure.nonRetryable((e as Error).message, typeof code === 'string' ? code : 'StageFailed');
    }
  }
}
