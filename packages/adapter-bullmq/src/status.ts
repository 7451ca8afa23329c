import type { JournalEntry, JournalState, PendingReview, RunInfo, RunState } from '@baton/core';
import type { RunningAttempt } from './store.js';

/** The pending review a reviewer sees for a journaled review entry (never its token). */
export function pendingOf(runId: string, r: Extract<JournalEntry, { t: 'review' }>): PendingReview {
  const p: PendingReview = { runId, gate: r.gate, stepPath: r.path, payload: r.payload, createdAt: r.createdAt, expiresAt: r.expiresAt };
  if (r.reviewer !== undefined) p.reviewer = r.reviewer;
  return p;
}

/** A run's status folded from its journal and its attempts in flight. */
export function runInfoOf(runId: string, s: JournalState & { start: NonNullable<JournalState['start']> }, running: RunningAttempt[]): RunInfo {
  const pendingReviews = [...s.reviews.values()].filter((r) => !s.decisions.has(r.path)).map((r) => pendingOf(runId, r));
  const status: RunState = s.end ? (s.end.ok ? 'succeeded' : 'failed') : pendingReviews.length ? 'waiting' : 'running';
  const inFlight = s.end ? [] : running;
  const out: RunInfo = {
    runId,
    pipeline: s.start.pipeline,
    engine: 'bullmq',
    status,
    currentSteps: [...new Set([...inFlight.map((a) => a.path), ...pendingReviews.map((r) => r.stepPath)])],
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
      ...inFlight.map((a) => ({ stepPath: a.path, attempt: a.attempt, status: 'running' as const, startedAt: a.at })),
    ],
    retries: s.retries.map(({ path, attempt, code, delayMs, maxDelayMs }) => ({ stepPath: path, attempt, code, delayMs, maxDelayMs })),
    pendingReviews,
  };
  if (s.end) {
    out.finishedAt = s.end.at;
    if (s.end.ok) out.output = s.end.output;
    else if (s.end.error) out.error = s.end.error;
  }
  return out;
}
