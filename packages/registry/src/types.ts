import type { RunEvent, RunState } from '@baton/core';
import type { UsageTotals } from '@baton/core/engine';

/** Why something failed, for a product manager's chart. */
export type FailureClass = 'model' | 'validation' | 'safety' | 'assembly' | 'infrastructure';

/** Every failure class, in display order. */
export const FAILURE_CLASSES: readonly FailureClass[] = ['model', 'validation', 'safety', 'assembly', 'infrastructure'];

/** An error as the registry stores it. */
export interface RecordedError {
  code: string;
  message: string;
  errorClass: FailureClass;
}

/** A row of `pipeline_run`. */
export interface RunRecord {
  runId: string;
  pipeline: string;
  engine: string;
  executionId?: string;
  /** The report the run produces, read from its input (`labels.reportId`, default `$.reportId`). */
  reportId?: string;
  /** The reviewer the run is assigned to, read from its input (`labels.reviewerId`, default `$.reviewerId`). */
  reviewerId?: string;
  /** The run's title for people, read from its input (`labels.title`, default `$.reportTitle`). */
  title?: string;
  status: RunState;
  /** The step most recently started and still in flight. */
  currentStep?: string;
  /** When the run entered its current status. */
  statusSince: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** The run input (or a digest when it was too large to keep in a row). */
  inputRef?: unknown;
  /** The run output (or a digest when it was too large to keep in a row). */
  outputRef?: unknown;
  error?: RecordedError;
  inputTokens: number;
  outputTokens: number;
  modelCalls: number;
  /** Finished attempts, over every execution. */
  attemptCount: number;
  /** Model calls the provider throttled. */
  throttledCalls: number;
  /** Cost of the run's priced model calls, in the engine's price table currency; absent when no call was priced (no price table configured). */
  cost?: number;
  /** 1 for the first execution, one more for each redrive. */
  execution: number;
}

/** A row of `pipeline_step`: one step path of any kind (task, map, approval, ...). */
export interface StepRecord {
  runId: string;
  stepPath: string;
  kind: string;
  /** The innermost map item index in the path (`sections[3]/generate` → 3). */
  mapIndex?: number;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  error?: RecordedError;
}

/** A row of `stage_attempt`: one attempt of one task. */
export interface AttemptRow {
  runId: string;
  stepPath: string;
  mapIndex?: number;
  attempt: number;
  /** 1 for the run's first execution, one more for each redrive. */
  execution: number;
  stage: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  error?: RecordedError & { retryable: boolean };
  /** The delay the engine chose before the next attempt, when it retried. */
  retryDelayMs?: number;
  inputTokens: number;
  outputTokens: number;
  modelCalls: number;
  latencyMs?: number;
  modelLatencyMs?: number;
  /** Tokens the limiter reserved before the calls (prompt size, `maxTokens`). */
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  throttledCalls: number;
  /** Time waiting for model budget (neither an attempt nor timed against the stage). */
  budgetWaitMs: number;
  /** Input tokens charged for calls that failed after the model started on them (in `cost`). */
  failedInputTokens: number;
  /** Cost of the attempt's priced calls; absent when none was priced (no price table, or the model is not in it). */
  cost?: number;
  /** The model that answered the attempt's last call. */
  modelId?: string;
  /** Models called that the price table lacks. */
  unpricedModels?: string[];
}

/** A row of `pending_review`: a gate reached, open or decided. */
export interface ReviewRecord {
  runId: string;
  gate: string;
  stepPath: string;
  reviewer?: string;
  /** What the reviewer is asked to judge (possibly a claim-check reference). */
  payload: unknown;
  /** sha256 of the single-use review token; the token itself is never stored. (An engine's resume token, such as a Step Functions task token, is stored but never returned here.) */
  tokenHash: string;
  createdAt: string;
  expiresAt?: string;
  decidedAt?: string;
  decision?: 'approved' | 'rejected' | 'timeout';
  decidedBy?: string;
  comment?: string;
  /** Ids of the sections a decision may give verdicts for (a per-section review gate). */
  sections?: string[];
  /** What made each section's text when the gate opened, by section id. */
  sectionVersions?: Record<string, SectionVersion>;
}

/** What made a section's text: its title, where the text is, and the model and prompt that wrote it. */
export interface SectionVersion {
  /** The section's position in the payload's sections (its map item index). */
  index?: number;
  title?: string;
  /** Blob key of the raw model output under review. */
  outputKey?: string;
  /** sha256 of the prompt that produced it (the prompt version). */
  promptSha256?: string;
  modelId?: string;
  /** The repair round that produced it (0: first generation). */
  round?: number;
}

/**
 * A row of the review audit trail (`review_decision`): the gate's decision (`sectionId` null) or one
 * section's verdict, who gave it and when, and what the decided text was made by.
 */
export interface ReviewDecisionRecord {
  runId: string;
  gate: string;
  stepPath: string;
  /** The review round of the decision: 1 for the run's first decision at this gate, 2 for the next gate of that name (a review loop's), …; null in rows recorded before rounds were counted. */
  round: number | null;
  /** null: the decision on the gate itself. */
  sectionId: string | null;
  sectionTitle: string | null;
  verdict: 'approved' | 'rejected' | 'timeout' | 'approve' | 'send-back' | 'accept-missing';
  note: string | null;
  decidedBy: string | null;
  decidedAt: string;
  modelId: string | null;
  promptSha256: string | null;
  outputKey: string | null;
}

/** A run with everything recorded about it. */
export interface RunDetail extends RunRecord {
  steps: StepRecord[];
  attempts: AttemptRow[];
  reviews: ReviewRecord[];
  /** Model usage and cost in total and per section. */
  usage: RunUsageDetail;
}

/**
 * Model usage summed over attempts, as the registry records it from each attempt's metrics: core's
 * `UsageTotals`, except that `cost` is absent (not 0) when no attempt was priced, as when the engine
 * had no price table.
 */
export type UsageSummary = Omit<UsageTotals, 'cost' | 'failedInputTokens'> & {
  /** Input tokens charged for calls that failed after the model started on them (in `cost`). */
  failedInputTokens: number;
  /** Sum of the attempts' costs (price table currency); absent when no attempt was priced. */
  cost?: number;
};

/** A run's model usage: in total (every attempt of every execution) and per section. */
export interface RunUsageDetail {
  total: UsageSummary;
  /** By outermost map item (`sections[3]`), in item order; steps outside any map are only in `total`. */
  bySection: Record<string, UsageSummary>;
  /** Models called that the price table lacks (their calls cost nothing here). */
  unpricedModels: string[];
}

/** A pipeline's line of {@link UsageReport}. */
export interface PipelineUsage extends UsageSummary {
  pipeline: string;
  /** Runs with an attempt finished in the range. */
  runs: number;
}

/** Model usage over a time range: in total and by pipeline, costliest first. */
export interface UsageReport {
  /** Start of the range (inclusive), ISO. */
  since: string;
  /** End of the range (exclusive), ISO; absent: up to now. */
  until?: string;
  total: UsageSummary & { runs: number };
  pipelines: PipelineUsage[];
}

/** A row of {@link RunRegistry.runsInFlight}. */
export interface InFlightRun {
  runId: string;
  pipeline: string;
  engine: string;
  status: 'running' | 'waiting';
  currentStep?: string;
  /** Every step in flight now (a map has several). */
  runningSteps: string[];
  statusSince: string;
  /** Milliseconds in the current status at `now`. */
  timeInStateMs: number;
  /** Milliseconds since the current step started, at `now`. */
  timeInStepMs?: number;
}

/** A row of {@link RunRegistry.failuresByClass}. */
export interface FailureCount {
  errorClass: FailureClass;
  /** Failed attempts in the window. */
  failedAttempts: number;
  /** Runs that ended failed in the window. */
  failedRuns: number;
}

/** Model prices used to cost a run, in US dollars per million tokens. */
export interface TokenPricing {
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
}

/** A row of {@link RunRegistry.tokenUsage}. */
export interface RunUsage {
  runId: string;
  pipeline: string;
  status: RunState;
  inputTokens: number;
  outputTokens: number;
  modelCalls: number;
  costUsd: number;
}

/** Filter of {@link RunRegistry.listRuns}. */
export interface RunFilter {
  status?: RunState;
  pipeline?: string;
  engine?: string;
  /** Runs of this report (see {@link RunRecord.reportId}). */
  reportId?: string;
  /** @default 100 */
  limit?: number;
}

/**
 * Where every run is, on every engine. Engines write it through {@link createRegistryObserver}
 * (or call {@link RunRegistry.apply} directly); dashboards and the CLI read it.
 */
export interface RunRegistry {
  /** Records one run transition. Idempotent: applying the same event twice leaves the same rows. */
  apply(event: RunEvent): Promise<void>;
  /** Records several transitions in order, in one transaction (all or nothing). */
  applyAll(events: readonly RunEvent[]): Promise<void>;
  /** Runs, newest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** One run with its steps, attempts and reviews; undefined when unknown. */
  getRun(runId: string): Promise<RunDetail | undefined>;
  /** Runs running or waiting, with the step each is in and how long it has been there. */
  runsInFlight(options?: { now?: Date }): Promise<InFlightRun[]>;
  /** Failed attempts and failed runs per failure class since `since` (default: the start of this ISO week, UTC). */
  failuresByClass(options?: { since?: Date; now?: Date }): Promise<FailureCount[]>;
  /**
   * Model usage and recorded cost of the attempts finished in a time range (default: since Monday
   * 00:00 UTC of this week), in total and by pipeline, costliest first.
   */
  usageByPipeline(options?: { since?: Date; until?: Date; now?: Date }): Promise<UsageReport>;
  /** Token totals and cost per run at one flat price, newest first (for runs recorded without a price table; recorded costs are in `RunRecord.cost`). */
  tokenUsage(options: { pricing: TokenPricing; runId?: string; pipeline?: string; limit?: number }): Promise<RunUsage[]>;
  /** Reviews nobody has decided yet, oldest first. */
  pendingReviews(): Promise<ReviewRecord[]>;
  /** The most recent review of a gate of a run, open or decided. */
  getReview(runId: string, gate: string): Promise<ReviewRecord | undefined>;
  /** The audit trail of a run's review decisions, oldest first (empty for an unknown run). */
  reviewDecisions(runId: string): Promise<ReviewDecisionRecord[]>;
  /** Closes the database connection (or PGlite instance) the registry owns. */
  close(): Promise<void>;
}
