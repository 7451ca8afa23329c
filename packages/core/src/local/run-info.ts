import type { PendingReview, ReviewDecision, RunInfo, RunState } from '../engine.js';
import { apiError, assertGateOf } from '../api-errors.js';
import type { ApprovalRequest } from '../interpreter/types.js';
import type { PipelineIR } from '../ir.js';
import { summarizeUsage } from '../quota/cost.js';
import { findOpenReview, sectionVerdictsOf } from '../review-decision.js';
import type { JournalEntry, JournalState } from './journal.js';

/** The pending review a reviewer sees for a journaled review entry (never its token hash). */
export function pendingReviewOf(runId: string, r: Extract<JournalEntry, { t: 'review' }>): PendingReview {
  const p: PendingReview = { runId, gate: r.gate, stepPath: r.path, payload: r.payload, createdAt: r.createdAt, expiresAt: r.expiresAt };
  if (r.reviewer !== undefined) p.reviewer = r.reviewer;
  if (r.sections !== undefined) p.sections = [...r.sections];
  return p;
}

/**
 * The journal entry of a review gate that opens now (`now`, epoch ms) for `req`: the hash of its
 * new token, expiring when the gate's timeout passes. The engines that keep a core journal (local,
 * BullMQ) open every review with it.
 */
export function reviewEntryFor(req: ApprovalRequest, tokenHash: string, now: number): Extract<JournalEntry, { t: 'review' }> {
  return {
    t: 'review',
    path: req.stepPath,
    gate: req.gate,
    tokenHash,
    payload: req.payload,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + req.timeoutSeconds * 1000).toISOString(),
    ...(req.reviewer === undefined ? {} : { reviewer: req.reviewer }),
    ...(req.sections === undefined ? {} : { sections: req.sections }),
  };
}

/** What a journal does not know about a run: which engine, what is in flight right now. */
export interface LiveRunView {
  engine: string;
  /** Attempts in flight (their start entries). */
  running: { path: string; attempt: number; at: string }[];
  /** Current steps; by default the running attempts' steps and the open gates. */
  currentSteps?: string[];
}

/**
 * A run's {@link RunInfo} folded from its journal: status (waiting while a gate is open), attempts
 * (finished and in flight), retries, open reviews, and the outcome once it ended. Engines that
 * keep a core journal (local, BullMQ) report status through this one function.
 */
export function runInfoFromJournal(runId: string, s: JournalState & { start: NonNullable<JournalState['start']> }, view: LiveRunView): RunInfo {
  const pendingReviews = [...s.reviews.values()].filter((r) => !s.decisions.has(r.path)).map((r) => pendingReviewOf(runId, r));
  const status: RunState = s.end ? (s.end.ok ? 'succeeded' : 'failed') : pendingReviews.length ? 'waiting' : 'running';
  const running = s.end ? [] : view.running;
  const out: RunInfo = {
    runId,
    pipeline: s.start.pipeline,
    ...(s.start.pin ? { pipelineVersion: s.start.pin.version } : {}),
    engine: view.engine,
    status,
    currentSteps: view.currentSteps ?? [...new Set([...running.map((a) => a.path), ...pendingReviews.map((r) => r.stepPath)])],
    startedAt: s.start.at,
    updatedAt: s.updatedAt,
    attempts: [
      ...s.attempts.map((a) => ({
        stepPath: a.path,
        attempt: a.attempt,
        status: a.ok ? ('succeeded' as const) : ('failed' as const),
        startedAt: a.startedAt,
        finishedAt: a.at,
        ...(a.error ? { error: a.error } : {}),
        ...(a.metrics ? { metrics: a.metrics } : {}),
      })),
      ...running.map((a) => ({ stepPath: a.path, attempt: a.attempt, status: 'running' as const, startedAt: a.at })),
    ],
    retries: s.retries.map(({ path, attempt, code, delayMs, maxDelayMs }) => ({ stepPath: path, attempt, code, delayMs, maxDelayMs })),
    pendingReviews,
  };
  const usage = summarizeUsage(out.attempts);
  if (usage) out.usage = usage;
  if (s.end) {
    out.finishedAt = s.end.at;
    if (s.end.ok) out.output = s.end.output;
    else if (s.end.error) out.error = s.end.error;
  }
  return out;
}

/**
 * Checks a reviewer's decision against a run's journal and returns the decision entry to record:
 * an open review at `gate` whose token hash matches, assigned to this reviewer if it names one,
 * with verdicts only for its sections ({@link findOpenReview}). Throws before anything is
 * recorded: `RunNotFound`, `GateNotFound` (when `ir`, the run's pipeline, is given and has no such
 * gate), `GateNotOpen`, `ReviewTokenUsed` (the token of a decided review of the gate),
 * `ReviewTokenRejected` or `InvalidInput`. Engines that keep a core journal share it.
 */
export function decisionEntryFor(
  runId: string,
  s: JournalState,
  gate: string,
  decision: ReviewDecision,
  verdict: 'approved' | 'rejected',
  at: string,
  ir?: Pick<PipelineIR, 'steps'>,
): Extract<JournalEntry, { t: 'decision' }> {
  if (!s.start) throw apiError.runNotFound(runId);
  if (ir) assertGateOf({ run: runId, gate }, ir);
  const atGate = [...s.reviews.values()].filter((r) => r.gate === gate);
  const open = atGate.filter((r) => !s.decisions.has(r.path));
  // a token is used once its review was decided; one whose gate timed out was never used
  const closed = atGate.filter((r) => s.decisions.get(r.path)?.decision !== 'timeout' && s.decisions.has(r.path));
  const review = findOpenReview(open, { run: runId, gate }, decision, closed);
  const sections = sectionVerdictsOf(decision);
  return {
    t: 'decision',
    path: review.path,
    gate,
    decision: verdict,
    at,
    ...(decision.reviewer === undefined ? {} : { reviewer: decision.reviewer }),
    ...(decision.comment === undefined ? {} : { comment: decision.comment }),
    ...(Object.keys(sections).length === 0 ? {} : { sections }),
  };
}
