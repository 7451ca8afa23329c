import type { SerializedError } from '../errors.js';
import type { SectionVerdict } from '../engine.js';
import type { RetryPolicy } from '../retry.js';

/** What the interpreter needs to know of a stage: data only, so it can run inside a workflow sandbox. */
export interface StageMeta {
  retry?: RetryPolicy[];
  timeoutMs?: number;
  /** The stage calls `ctx.model` (see `StageDefinition.usesModel`). */
  usesModel?: boolean;
}

/** The outcome of one task attempt. */
export type TaskOutcome = { ok: true; output: unknown } | { ok: false; error: SerializedError };

/** One task attempt the interpreter asks its engine to perform (or to replay from its journal). */
export interface TaskRequest {
  /** Unique step path (`sections[3]/generate`). */
  stepPath: string;
  stepId: string;
  stage: string;
  input: unknown;
  /** 1-based attempt number. */
  attempt: number;
  timeoutMs?: number;
  /**
   * A lowered claim-check threshold (bytes) for this task, inside the item of a map given one in
   * `InterpretOptions.itemClaimCheckThresholds` (the lowest of the maps around it): the engine
   * claim-checks the output at it, keeping the output's keys (`OffloadOptions.keepKeys`).
   */
  claimCheckThreshold?: number;
}

/** A reviewer's decision, or the gate's timeout. */
export interface ApprovalOutcome {
  decision: 'approved' | 'rejected' | 'timeout';
  reviewer?: string;
  comment?: string;
  /** Verdicts per section id (checked by the engine against the request's `sections`). */
  sections?: Record<string, SectionVerdict>;
  decidedAt?: string;
}

/** An approval gate the interpreter opens. */
export interface ApprovalRequest {
  stepPath: string;
  gate: string;
  timeoutSeconds: number;
  reviewer?: string;
  /** Section ids a decision may give verdicts for (the gate's `sectionsPath`). */
  sections?: string[];
  payload: unknown;
}

/** What happened during interpretation, for status views and registries. */
export type InterpreterEvent =
  | { type: 'step-started'; stepPath: string; kind: string }
  | { type: 'step-succeeded'; stepPath: string; kind: string }
  | { type: 'step-failed'; stepPath: string; kind: string; error: SerializedError }
  | { type: 'retry-scheduled'; stepPath: string; attempt: number; code: string; delayMs: number; maxDelayMs: number }
  | { type: 'task-replayed'; stepPath: string };

/**
 * The effects an engine gives the interpreter. Each is keyed by a step path that is the same on
 * every replay, so an engine can journal results and answer again without re-executing.
 */
export interface Effects {
  /** A completed task output recorded earlier for this step and input hash, if any. */
  completed(stepPath: string, inputHash: string): Promise<{ output: unknown } | undefined>;
  /** Performs one attempt (or replays a recorded failed attempt) and records its outcome. */
  runTask(request: TaskRequest, inputHash: string): Promise<TaskOutcome>;
  /** Sleeps `ms`, durably: a replay after a crash sleeps only what remains. */
  sleep(key: string, ms: number): Promise<void>;
  /** Opens an approval gate and waits for its decision or timeout. */
  approval(request: ApprovalRequest): Promise<ApprovalOutcome>;
  /** Replaces claim-check references by their values (map item arrays). */
  resolve(value: unknown): Promise<unknown>;
  /**
   * Stores `value` in the blob store as one claim-check reference and returns the reference
   * (`{ $blob, bytes, sha256 }`, keyed by content hash as `invokeStage` keys its claim checks, so
   * storing it again writes nothing new).
   * The interpreter calls it for a map or parallel result longer than
   * `AGGREGATE_CLAIM_CHECK_CHARS`: such a result is claim-checked as a whole, not only per value.
   * `stepPath` names the map or parallel step, for an engine that refuses the value (a limit it emulates).
   */
  store(value: unknown, stepPath: string): Promise<unknown>;
  /** Current time in ms (deterministic inside workflow sandboxes). */
  now(): number;
  /** Observes progress; must not throw. */
  emit?(event: InterpreterEvent): void;
}

/** How a run ended. */
export type RunOutcome = { status: 'succeeded'; output: unknown } | { status: 'failed'; error: SerializedError };
