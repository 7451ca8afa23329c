import { type RunInfo } from '@baton/core';
import { runInfoFromJournal, type JournalState } from '@baton/core/engine';
import type { RunningAttempt } from './store.js';

/** A run's status folded from its Redis journal and its attempts in flight (core's `runInfoFromJournal`). */
export function runInfoOf(runId: string, s: JournalState & { start: NonNullable<JournalState['start']> }, running: RunningAttempt[]): RunInfo {
  return runInfoFromJournal(runId, s, { engine: 'bullmq', running });
}
