import type { SectionVerdict } from './engine.js';
import type { SerializedError } from './errors.js';
import type { Logger } from './ports/logger.js';
import type { InvocationMetrics } from './stage.js';

/** The stage attempt an attempt event is about. */
export interface AttemptRef {
  runId: string;
  stepPath: string;
  stage: string;
  attempt: number;
}

/** How an attempt ended, as an engine knows it: an `invokeStage` result, or a Lambda's answer (no metrics). */
export type AttemptOutcome = { ok: true; metrics?: InvocationMetrics } | { ok: false; error: SerializedError; metrics?: InvocationMetrics };

/**
 * The `attempt-started` event of one stage attempt. Every attempt event is built by these two
 * functions: by `invokeStage` for the attempts it runs (its `report` option), directly by an
 * engine that records an attempt it only sees the answer of (a Lambda's, or one never run).
 */
export function attemptStartedEvent(ref: AttemptRef, at: string): RunEvent {
  return { type: 'attempt-started', runId: ref.runId, stepPath: ref.stepPath, stage: ref.stage, attempt: ref.attempt, at };
}

/**
 * The `attempt-finished` event of an attempt's outcome: `succeeded`, or `failed` with its error,
 * and the attempt's metrics when the engine has them (tokens, cost, budget wait).
 *
 * @example
 * ```ts
 * // a Lambda's answer, seen by the machine that invoked it
 * await observe(attemptFinishedEvent({ runId, stepPath, stage, attempt }, { ok: false, error }, finishedAt));
 * ```
 */
export function attemptFinishedEvent(ref: AttemptRef, outcome: AttemptOutcome, at: string): RunEvent {
  const base = { type: 'attempt-finished' as const, runId: ref.runId, stepPath: ref.stepPath, stage: ref.stage, attempt: ref.attempt, at };
  const metrics = outcome.metrics ? { metrics: outcome.metrics } : {};
  return outcome.ok ? { ...base, status: 'succeeded', ...metrics } : { ...base, status: 'failed', error: outcome.error, ...metrics };
}

/**
 * A transition of a run, emitted by every engine so that a run registry (or any observer) can
 * show which step of which run is in flight. `stepPath` carries map indexes (`sections[3]/generate`).
 */
export type RunEvent =
  | { type: 'run-started'; runId: string; pipeline: string; engine: string; executionId?: string; input: unknown; at: string }
  | { type: 'step-started'; runId: string; stepPath: string; kind: string; at: string }
  | { type: 'step-finished'; runId: string; stepPath: string; kind: string; status: 'succeeded' | 'failed'; error?: SerializedError; at: string }
  | { type: 'attempt-started'; runId: string; stepPath: string; stage: string; attempt: number; at: string }
  | {
      type: 'attempt-finished';
      runId: string;
      stepPath: string;
      stage: string;
      attempt: number;
      status: 'succeeded' | 'failed';
      error?: SerializedError;
      metrics?: InvocationMetrics;
      at: string;
    }
  | { type: 'retry-scheduled'; runId: string; stepPath: string; attempt: number; code: string; delayMs: number; at: string }
  | {
      type: 'review-opened';
      runId: string;
      gate: string;
      stepPath: string;
      reviewer?: string;
      payload: unknown;
      /** Section ids the review round decides (the gate's `sectionsPath`). */
      sections?: string[];
      tokenHash: string;
      expiresAt: string;
      at: string;
    }
  | {
      type: 'review-decided';
      runId: string;
      gate: string;
      stepPath: string;
      decision: 'approved' | 'rejected' | 'timeout';
      reviewer?: string;
      comment?: string;
      /** The reviewer's verdicts per section, when the decision carried any. */
      sections?: Record<string, SectionVerdict>;
      at: string;
    }
  | { type: 'run-finished'; runId: string; status: 'succeeded' | 'failed'; output?: unknown; error?: SerializedError; at: string }
  /**
   * A failed run was redriven: `redrive` is its count (1 for the first). Emitted once per
   * `Engine.redrive`, before the new execution's events; the run is running again.
   */
  | { type: 'run-redriven'; runId: string; redrive: number; executionId?: string; at: string };

/** Receives run events. It must be quick; failures are logged, never allowed to break a run. */
export type RunObserver = (event: RunEvent) => void | Promise<void>;

/** Combines observers; each is isolated so one failing observer cannot break a run or the others. */
export function safeObserver(observers: (RunObserver | undefined)[], logger?: Logger): RunObserver {
  const list = observers.filter((o): o is RunObserver => o !== undefined);
  return async (event) => {
    for (const o of list) {
      try {
        await o(event);
      } catch (e) {
        logger?.error('run observer failed', { event: event.type, runId: event.runId, error: (e as Error).message });
      }
    }
  };
}
