import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TimeoutFailure,
  condition,
  proxyActivities,
  proxySinks,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RunEvent, SerializedError } from '@baton/core';
import type { ApprovalOutcome, Effects, InterpreterEvent, TaskOutcome, TaskRequest } from '@baton/core/interpreter';
import type { BatonActivities, BatonSinks, BatonWorkflowInput, RunStageResult } from './contract.js';
import type { WorkflowRunState } from './run-state.js';
import { sha256Hex } from './sha256.js';

/** Five minutes: core's default stage timeout (`DEFAULT_STAGE_TIMEOUT_MS`), repeated to keep core's Node code out of the bundle. */
const DEFAULT_STAGE_TIMEOUT_MS = 300_000;
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;
const DEFAULT_MARGIN_MS = 60_000;
/** A day: the budget wait room of a stage activity that heartbeats (a lost worker is found by its heartbeat, not this). */
const DEFAULT_MAX_BUDGET_WAIT_MS = 86_400_000;
const DEFAULT_PLUMBING_TIMEOUT_MS = 30_000;
const DEFAULT_CONTINUE_AS_NEW_EVENTS = 10_000;
/** Characters of JSON per activity payload when a value is stored in parts (under the SDK's 512 KB payload warning, and 3 bytes a character at most). */
const STORE_PART_CHARS = 200_000;
/** Pause before re-running an attempt whose worker vanished (no heartbeat). */
const INFRA_RETRY_PAUSE_MS = 1_000;

const { baton } = proxySinks<BatonSinks>();

/**
 * The interpreter's effects inside the workflow: stages as activities with one Temporal attempt
 * each (retries are the interpreter's, with workflow timers and its seeded random), durable
 * timers, approval via the decide update plus `condition` with a timeout, claim-check resolution
 * as an activity, and recorded outputs from earlier executions answered without any activity.
 */
export function createWorkflowEffects(state: WorkflowRunState): Effects {
  const { input, carry } = state;
  const tuning = input.activity ?? {};
  const runId = input.runId;
  const at = (): string => new Date().toISOString();
  const emit = (event: RunEvent): void => baton.event(event);
  // the review and claim-check activities are Baton's own plumbing, not stage attempts: Temporal retries them
  const short = proxyActivities<BatonActivities>({
    startToCloseTimeout: tuning.plumbingTimeoutMs ?? DEFAULT_PLUMBING_TIMEOUT_MS,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const stageProxies = new Map<number, BatonActivities>();
  const stageActivities = (timeoutMs: number): BatonActivities => {
    let proxy = stageProxies.get(timeoutMs);
    if (!proxy) {
      const heartbeat = tuning.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
      // waiting for model budget happens inside the activity and must not time it out
      const budgetWait = tuning.maxBudgetWaitMs ?? (heartbeat > 0 ? DEFAULT_MAX_BUDGET_WAIT_MS : 0);
      const options: ActivityOptions = {
        startToCloseTimeout: timeoutMs + (tuning.startToCloseMarginMs ?? DEFAULT_MARGIN_MS) + budgetWait,
        retry: { maximumAttempts: 1 },
        ...(heartbeat > 0 ? { heartbeatTimeout: heartbeat } : {}),
      };
      proxy = proxyActivities<BatonActivities>(options);
      stageProxies.set(timeoutMs, proxy);
    }
    return proxy;
  };
  /** Whether a new activity may start now; once the history is long, none does until the run continues as new. */
  const mayStart = (): boolean => {
    if (!state.draining && !state.stayInThisExecution && historyTooLong(input.continueAsNewAfterEvents)) state.draining = true;
    return !state.draining;
  };

  const tracked = async <T>(call: () => Promise<T>): Promise<T> => {
    if (!mayStart()) await condition(() => !state.draining);
    state.inFlight++;
    try {
      return await call();
    } finally {
      state.inFlight--;
    }
  };

  // one async frame per attempt: the SDK captures a stack trace for every promise a workflow creates
  const attempt = async (req: TaskRequest, hash: string, key: string): Promise<TaskOutcome> => {
    const activities = stageActivities(req.timeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS);
    for (;;) {
      if (!mayStart()) await condition(() => !state.draining);
      state.inFlight++;
      const record = state.startAttempt(req.stepPath, req.attempt, at());
      let result: RunStageResult;
      try {
        result = await activities.batonRunStage({
          runId,
          pipeline: input.pipeline,
          pipelineVersion: input.ir.version,
          ...stageVersionOf(input, req.stage),
          ...req,
        });
        Object.assign(
          record,
          { status: result.ok ? 'succeeded' : 'failed', startedAt: result.startedAt, finishedAt: result.finishedAt },
          result.ok ? {} : { error: result.error },
          result.metrics ? { metrics: result.metrics } : {},
        );
      } catch (e) {
        carry.attempts.splice(carry.attempts.indexOf(record), 1);
        if (isLostWorker(e)) {
          // the worker died mid-attempt: the attempt did not complete, so it runs again as the same attempt
          state.inFlight--;
          await sleep(INFRA_RETRY_PAUSE_MS);
          continue;
        }
        result = failedResult(e, at());
      }
      state.inFlight--;
      if (result.ok) {
        carry.completed[req.stepPath] = { hash, output: result.output, stage: req.stage };
        return { ok: true, output: result.output };
      }
      carry.failedAttempts[key] = result.error;
      return { ok: false, error: result.error };
    }
  };

  return {
    completed(stepPath, hash) {
      const hit = carry.completed[stepPath];
      return Promise.resolve(hit && hit.hash === hash ? { output: hit.output } : undefined);
    },

    runTask(req, hash): Promise<TaskOutcome> {
      const key = `${req.stepPath}#${req.attempt}`;
      const recorded = carry.failedAttempts[key];
      if (recorded) {
        state.replayedFailures.add(key);
        return Promise.resolve({ ok: false, error: recorded });
      }
      return attempt(req, hash, key);
    },

    async sleep(key, ms) {
      let due = carry.timers[key];
      if (due === undefined) {
        due = Date.now() + ms;
        carry.timers[key] = due;
      }
      const left = due - Date.now();
      if (left > 0) await sleep(left);
    },

    async approval(req): Promise<ApprovalOutcome> {
      const decided = carry.decisions[req.stepPath];
      if (decided) return decided;
      let review = carry.reviews[req.stepPath];
      if (!review) {
        const now = Date.now();
        const base = {
          runId,
          stepPath: req.stepPath,
          gate: req.gate,
          payload: req.payload,
          createdAt: new Date(now).toISOString(),
          expiresAt: new Date(now + req.timeoutSeconds * 1000).toISOString(),
        };
        const request = {
          ...base,
          ...(req.reviewer === undefined ? {} : { reviewer: req.reviewer }),
          ...(req.sections === undefined ? {} : { sections: req.sections }),
        };
        state.opening.set(req.gate, (state.opening.get(req.gate) ?? 0) + 1);
        const { tokenHash } = await tracked(() => short.batonOpenReview(request)).finally(() =>
          state.opening.set(req.gate, (state.opening.get(req.gate) ?? 1) - 1),
        );
        const { runId: _runId, ...rest } = request;
        review = { ...rest, tokenHash };
        carry.reviews[req.stepPath] = review;
      }
      const left = Date.parse(review.expiresAt) - Date.now();
      const inTime = left > 0 && (await condition(() => carry.decisions[req.stepPath] !== undefined, left));
      if (!inTime && carry.decisions[req.stepPath] === undefined) {
        carry.decisions[req.stepPath] = { decision: 'timeout', decidedAt: at() };
        emit({ type: 'review-decided', runId, gate: req.gate, stepPath: req.stepPath, decision: 'timeout', at: at() });
      }
      return carry.decisions[req.stepPath]!;
    },

    async resolve(value) {
      return containsRef(value) ? tracked(() => short.batonResolveRefs(value)) : value;
    },

    async store(value) {
      // the value lives in workflow memory and may be larger than one activity payload: it travels in parts
      const text = JSON.stringify(value);
      const prefix = `claims/${runId}`;
      const parts = `${prefix}/parts/${sha256Hex(text)}`;
      const keys: string[] = [];
      for (let i = 0; i < text.length; i += STORE_PART_CHARS) {
        const key = `${parts}.${keys.length}`;
        await tracked(() => short.batonStorePart({ key, text: text.slice(i, i + STORE_PART_CHARS) }));
        keys.push(key);
      }
      return tracked(() => short.batonJoinParts({ prefix, keys }));
    },

    now: () => Date.now(),

    emit(event: InterpreterEvent) {
      const now = at();
      switch (event.type) {
        case 'step-started':
          state.current.add(event.stepPath);
          emit({ type: 'step-started', runId, stepPath: event.stepPath, kind: event.kind, at: now });
          break;
        case 'step-succeeded':
        case 'step-failed': {
          state.current.delete(event.stepPath);
          const failed = event.type === 'step-failed';
          emit({
            type: 'step-finished',
            runId,
            stepPath: event.stepPath,
            kind: event.kind,
            status: failed ? 'failed' : 'succeeded',
            at: now,
            ...(failed ? { error: event.error } : {}),
          });
          break;
        }
        case 'retry-scheduled': {
          const { stepPath, attempt, code, delayMs, maxDelayMs } = event;
          if (state.addRetry({ stepPath, attempt, code, delayMs, maxDelayMs }))
            emit({ type: 'retry-scheduled', runId, stepPath, attempt, code, delayMs, at: now });
          break;
        }
        default:
          break;
      }
    },
  };
}

/** Whether this execution's history is long enough to continue as new. */
export function historyTooLong(limit: number | undefined): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= (limit ?? DEFAULT_CONTINUE_AS_NEW_EVENTS);
}

/** Failure type the stage activity throws when its worker stops mid-attempt (`WORKER_STOPPED`). */
const WORKER_STOPPED = 'BatonWorkerStopped';

/**
 * The attempt never completed: the activity timed out (heartbeat or start-to-close: its worker is
 * gone), was cancelled, or its worker stopped. Stage failures are returned values, so only an
 * `ApplicationFailure` thrown by the activity itself (a bug, an unregistered activity) counts as one.
 */
function isLostWorker(e: unknown): boolean {
  if (!(e instanceof ActivityFailure)) return false;
  if (e.cause instanceof ApplicationFailure) return e.cause.type === WORKER_STOPPED;
  return e.cause instanceof TimeoutFailure || e.cause instanceof CancelledFailure;
}

/** Any other activity failure is reported as a failed attempt with the error's type as code. */
function failedResult(e: unknown, now: string): RunStageResult {
  const cause = e instanceof ActivityFailure && e.cause ? e.cause : e;
  const error: SerializedError =
    cause instanceof ApplicationFailure
      ? { code: cause.type ?? 'StageFailed', message: cause.message, retryable: !cause.nonRetryable }
      : { code: 'StageFailed', message: cause instanceof Error ? cause.message : String(cause), retryable: true };
  return { ok: false, error, startedAt: now, finishedAt: now };
}

function containsRef(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof (value as Record<string, unknown>).$blob === 'string') return true;
  return Object.values(value).some(containsRef);
}

/** The stage version a run is pinned to, for the stage activity (none for runs started before pins). */
function stageVersionOf(input: BatonWorkflowInput, stage: string): { stageVersion?: number } {
  const version = input.pin?.stages[stage];
  return version === undefined ? {} : { stageVersion: version };
}
