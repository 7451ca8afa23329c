import type { AnyPipeline } from './builder.js';
import type { SerializedError } from './errors.js';
import type { RunUsage } from './quota/cost.js';
import type { InvocationMetrics } from './stage.js';
import type { RunOutcome } from './interpreter/types.js';

/** Where a run is. `waiting` means paused at an approval gate. */
export type RunState = 'running' | 'waiting' | 'succeeded' | 'failed';

/** One attempt of one task. */
export interface AttemptRecord {
  stepPath: string;
  attempt: number;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  error?: SerializedError;
  metrics?: InvocationMetrics;
}

/** A retry the engine scheduled: the delay it chose and the policy's bound for it. */
export interface RetryRecord {
  stepPath: string;
  /** The attempt that failed. */
  attempt: number;
  code: string;
  delayMs: number;
  maxDelayMs: number;
}

/** An approval gate waiting for a reviewer. The token is never part of it (only its hash is stored). */
export interface PendingReview {
  runId: string;
  gate: string;
  stepPath: string;
  reviewer?: string;
  payload: unknown;
  createdAt: string;
  expiresAt: string;
  /** Section ids a decision may give verdicts for (the gate's `sectionsPath` when it opened); absent: no verdicts. */
  sections?: string[];
}

/** What a reviewer learns when a gate opens: the review and its single-use token. */
export interface ReviewNotice extends PendingReview {
  token: string;
}

/** Delivers review tokens to reviewers (email, chat, a file, the CLI's prompt). */
export type ReviewNotifier = (notice: ReviewNotice) => void | Promise<void>;

/** What a reviewer says of one section: approve it, send it back with a note, or accept it as missing. */
export type SectionVerdictKind = 'approve' | 'send-back' | 'accept-missing';

/** A reviewer's verdict on one section of a review round. */
export interface SectionVerdict {
  verdict: SectionVerdictKind;
  /** Required for `send-back`; at most {@link MAX_REVIEW_NOTE_CHARS} characters. */
  note?: string | undefined;
}

/** The longest note or comment a review decision may carry, in characters. */
export const MAX_REVIEW_NOTE_CHARS = 4000;

/**
 * A reviewer's decision on a gate.
 *
 * @example
 * ```ts
 * await engine.approve(runId, 'review', { token, reviewer: 'alice', sections: { intro: { verdict: 'approve' }, results: { verdict: 'send-back', note: 'the 10 mg arm is missing' } } });
 * ```
 */
export interface ReviewDecision {
  /** The token delivered with the {@link ReviewNotice}; single-use. */
  token: string;
  reviewer?: string;
  /** At most {@link MAX_REVIEW_NOTE_CHARS} characters. */
  comment?: string;
  /** Verdicts per section id, for a gate that opened with `sections` (its `sectionsPath`). */
  sections?: Record<string, SectionVerdict>;
}

/** A run as any engine reports it. */
export interface RunInfo {
  runId: string;
  pipeline: string;
  /** The pipeline version the run is pinned to (absent for runs recorded before pins). */
  pipelineVersion?: number;
  engine: string;
  status: RunState;
  /** Steps in flight now. */
  currentSteps: string[];
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  output?: unknown;
  error?: SerializedError;
  attempts: AttemptRecord[];
  retries: RetryRecord[];
  pendingReviews: PendingReview[];
  /** Model tokens, throttles, budget waits and cost: per run, section and step (from the attempts' metrics). */
  usage?: RunUsage;
}

/** A row of {@link Engine.list}. */
export type RunSummary = Pick<RunInfo, 'runId' | 'pipeline' | 'engine' | 'status' | 'startedAt' | 'updatedAt'>;

/** Options of {@link Engine.start}. */
export interface StartOptions {
  /** Use this run id (idempotent start); default a random one. */
  runId?: string;
  /** Start on this version of the pipeline (named by string); default the newest the engine holds. */
  version?: number;
}

/**
 * What every engine implements: local, BullMQ, Temporal, Step Functions. A program written
 * against this interface moves between engines without change.
 */
export interface Engine {
  readonly name: string;
  /** Starts a run. Invalid input does not throw: the run is recorded as failed with `InvalidInput`. */
  start(pipeline: AnyPipeline | string, input: unknown, options?: StartOptions): Promise<{ runId: string }>;
  /**
   * Waits for the run to end and returns its outcome. A succeeded run's output is plain values on
   * every engine: each claim-check reference (`{ $blob, bytes, sha256 }`) the engine holds in its
   * state is read back from the engine's blob store (core's `resolveOutcome`), so two runs that
   * produced equal data return equal outputs. A report of many megabytes is returned whole; to keep
   * the references, read `status().output` (or the `run-finished` event) and resolve what you need
   * with `resolveRefs(value, blobs)` on the same blob store. Fails with `ResultTimedOut` after
   * `timeoutMs`.
   */
  result(runId: string, options?: { timeoutMs?: number }): Promise<RunOutcome>;
  /** The run's state, current steps, attempts, retries and pending reviews. */
  status(runId: string): Promise<RunInfo>;
  /** Approves a gate; throws if the token is wrong, used, or for another gate or reviewer. */
  approve(runId: string, gate: string, decision: ReviewDecision): Promise<void>;
  /** Rejects a gate (the run fails with `ApprovalRejected` unless caught). */
  reject(runId: string, gate: string, decision: ReviewDecision): Promise<void>;
  /** Restarts a failed run from its failed steps; completed steps and map items are reused. */
  redrive(runId: string): Promise<void>;
  /** Runs known to the engine, newest first. */
  list(filter?: { status?: RunState; pipeline?: string }): Promise<RunSummary[]>;
  /** Releases connections and timers. Runs stay durable. */
  close(): Promise<void>;
  /**
   * Closes the engine at the end of an `await using` block (the same as {@link Engine.close}).
   *
   * @example
   * ```ts
   * await using engine = createLocalEngine({ pipelines: [report] });
   * const { runId } = await engine.start(report, input);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void>;
}
