import { defineQuery, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { BlobRef, PendingReview, PipelineIR, RunEvent, SectionVerdict, SerializedError } from '@baton/core';
import type { AttemptRecord, InvocationMetrics, RetryRecord } from '@baton/core/engine';
import type { StageMeta } from '@baton/core/interpreter';
import type { ApprovalOutcome, TaskOutcome } from '@baton/core/interpreter';
import type { PipelinePin } from '@baton/core/engine';

/*
 * The contract between the Baton workflow, its activities and the client. Shared by the workflow
 * bundle and Node code, so it holds definitions and types only.
 */

/** Name of the one generic workflow type that interprets every pipeline. */
export const BATON_WORKFLOW_TYPE = 'batonWorkflow';

/** A review gate opened in a run: only the hash of its token is kept. */
export interface ReviewRecord {
  stepPath: string;
  gate: string;
  reviewer?: string;
  /** Section ids a decision may give verdicts for (the gate's `sectionsPath`). */
  sections?: string[];
  tokenHash: string;
  payload: unknown;
  createdAt: string;
  expiresAt: string;
}

/**
 * What one execution hands to the next: completed outputs (redrive, continue-as-new), failed
 * attempts and timers (continue-as-new mid-retry), reviews and decisions, records for status.
 */
export interface CarriedState {
  /** By step path; `stage`: the stage that produced it, so a redrive drops outputs of stages whose version changed. */
  completed: Record<string, { hash: string; output: unknown; stage?: string }>;
  failedAttempts: Record<string, SerializedError>;
  timers: Record<string, number>;
  reviews: Record<string, ReviewRecord>;
  decisions: Record<string, ApprovalOutcome>;
  attempts: AttemptRecord[];
  retries: RetryRecord[];
  /** How many executions this run has used (continue-as-new and redrive each add one). */
  generation: number;
}

/** Activity options the workflow applies to stage activities. */
export interface ActivityTuning {
  /** A worker that dies mid-stage is noticed after this long without heartbeat (0: only at start-to-close). @default 10000 */
  heartbeatTimeoutMs?: number;
  /** Added to the stage timeout to form the activity's start-to-close timeout. @default 60000 */
  startToCloseMarginMs?: number;
  /**
   * Time one stage attempt may spend waiting for model budget (a worker's `limiter`), also added
   * to the start-to-close timeout: stage timeout + margin + this. The wait is neither an attempt
   * nor part of the stage's timeout, and the activity heartbeats meanwhile, so a lost worker is
   * still found after `heartbeatTimeoutMs`. An attempt that waits longer times out and runs again
   * as the same attempt, like one whose worker was lost.
   * @default 86400000 (24 h); 0 with `heartbeatTimeoutMs: 0`, where start-to-close is the only way a lost worker is found
   */
  maxBudgetWaitMs?: number;
  /**
   * Start-to-close timeout of the review and claim-check activities, which Temporal retries
   * (a review activity lost with its worker is retried with a fresh token and notice). @default 30000
   */
  plumbingTimeoutMs?: number;
}

/** The input of the Baton workflow. */
export interface BatonWorkflowInput {
  runId: string;
  pipeline: string;
  ir: PipelineIR;
  stages: Record<string, StageMeta>;
  /** The pipeline version, IR digest and stage versions the run is pinned to (absent for runs started before pins). */
  pin?: PipelinePin;
  input: unknown;
  startedAt: string;
  /** The run is recorded as failed with this error without running anything (invalid input). */
  invalid?: SerializedError;
  /** State carried over from an earlier execution of the same run. */
  carry?: CarriedState;
  /** Why this execution started with carried state. */
  origin?: 'continue-as-new' | 'redrive';
  /** How many times the run was redriven (absent: never). */
  redrives?: number;
  /** Continue-as-new once the history has this many events (or when the server suggests it). @default 10000 */
  continueAsNewAfterEvents?: number;
  activity?: ActivityTuning;
}

/** What the status query reports. */
export interface BatonRunSnapshot {
  runId: string;
  pipeline: string;
  startedAt: string;
  currentSteps: string[];
  attempts: AttemptRecord[];
  retries: RetryRecord[];
  pendingReviews: PendingReview[];
  generation: number;
}

/** The argument of the decide update. */
export interface DecideArgs {
  gate: string;
  verdict: 'approved' | 'rejected';
  token: string;
  reviewer?: string;
  comment?: string;
  /** Verdicts per section, checked by the validator against the review's `sections`. */
  sections?: Record<string, SectionVerdict>;
}

/** The request of the stage activity. */
export interface RunStageRequest {
  runId: string;
  pipeline: string;
  /** The run's pipeline version: the worker runs that version's stage. */
  pipelineVersion?: number;
  /** The stage version the run is pinned to: a worker whose stage has another version refuses the attempt. */
  stageVersion?: number;
  stepPath: string;
  stage: string;
  input: unknown;
  attempt: number;
  timeoutMs?: number;
}

/** The stage activity's answer: a stage failure is a value, never an activity failure. */
export type RunStageResult = TaskOutcome & { metrics?: InvocationMetrics; startedAt: string; finishedAt: string };

/** The request of the review activity. */
export interface OpenReviewRequest {
  runId: string;
  stepPath: string;
  gate: string;
  reviewer?: string;
  sections?: string[];
  payload: unknown;
  createdAt: string;
  expiresAt: string;
}

/** Activities of the Baton workflow, implemented by {@link createBatonActivities}. */
export interface BatonActivities {
  batonRunStage(request: RunStageRequest): Promise<RunStageResult>;
  batonOpenReview(request: OpenReviewRequest): Promise<{ tokenHash: string }>;
  batonResolveRefs(value: unknown): Promise<unknown>;
  /** Stores one part of a value's JSON text at `key` (a value too large for one activity payload travels in parts). */
  batonStorePart(request: { key: string; text: string }): Promise<void>;
  /** Joins the stored parts into one claim-check reference under `prefix`, keyed by the content hash. */
  batonJoinParts(request: { prefix: string; keys: string[] }): Promise<BlobRef>;
}

/** Sinks through which the workflow reports run events to the worker's observer (not on replay). */
export interface BatonSinks extends Sinks {
  baton: { event(event: RunEvent): void };
}

/** Query: the run's current steps, attempts, retries and pending reviews. */
export const snapshotQuery = defineQuery<BatonRunSnapshot>('baton.snapshot');
/** Query: the state a redrive or continue-as-new carries over. */
export const carryQuery = defineQuery<{ input: BatonWorkflowInput; carry: CarriedState }>('baton.carry');
/** Update: a reviewer's decision; its validator checks the single-use token against the stored hash. */
export const decideUpdate = defineUpdate<void, [DecideArgs]>('baton.decide');
