import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { type RetryPolicy, type SerializedError } from '@baton/core';
import { RETRY_DEFAULTS, maxDelayBoundMs, matchRetrier, type AttemptRecord, type RetryRecord } from '@baton/core/engine';
import { LAMBDA_SERVICE_ERRORS } from '../compile/task.js';
import { errorFromCause } from '../lambda/errors.js';
import type { StageEvent } from '../lambda/event.js';

/** What an execution's history says of a run: attempts, retries and the steps in flight. */
export interface HistoryView {
  attempts: AttemptRecord[];
  retries: RetryRecord[];
  /** Step paths of the stage tasks and approval gates scheduled and not yet ended. */
  currentSteps: string[];
  /** Time of the last event (ISO), if any. */
  lastEventAt?: string;
}

/** Options of {@link readHistory}. */
export interface ReadHistoryOptions {
  /** The retry policy the compiled machine applies to a stage task (the payload's `retry`, else the stage's own). */
  retryOf(stage: string): readonly RetryPolicy[];
  /** The execution has ended: tasks still open were abandoned with it. */
  ended: boolean;
}

/** The Payload of a task Baton compiled: a stage task (`stage`) or an approval gate (`gate`). */
type BatonTask = (Pick<StageEvent, 'stage' | 'stepPath'> & { retryCount?: number; retry?: RetryPolicy[] }) | { gate: string; stepPath: string };

interface OpenTask {
  payload: BatonTask;
  scheduledAt: string;
  startedAt?: string | undefined;
  record?: AttemptRecord;
  ended: boolean;
}

const ENDED_OK = new Set(['TaskSucceeded', 'LambdaFunctionSucceeded']);
const ENDED_FAILED: Record<string, keyof HistoryEvent> = {
  TaskFailed: 'taskFailedEventDetails',
  TaskTimedOut: 'taskTimedOutEventDetails',
  TaskStartFailed: 'taskStartFailedEventDetails',
  TaskSubmitFailed: 'taskSubmitFailedEventDetails',
  LambdaFunctionFailed: 'lambdaFunctionFailedEventDetails',
  LambdaFunctionTimedOut: 'lambdaFunctionTimedOutEventDetails',
  LambdaFunctionStartFailed: 'lambdaFunctionStartFailedEventDetails',
  LambdaFunctionScheduleFailed: 'lambdaFunctionScheduleFailedEventDetails',
};
const STARTED = new Set(['TaskStarted', 'LambdaFunctionStarted']);
const EXECUTION_ENDED = new Set(['ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut', 'ExecutionSucceeded']);

function abandon(t: OpenTask): void {
  if (t.ended) return;
  t.ended = true;
  if (!t.record) return;
  t.record.status = 'failed';
  t.record.error = { code: 'States.Aborted', message: 'the execution ended while this attempt was in flight', retryable: false };
}

/**
 * Reads Step Functions' execution history (GetExecutionHistory's events, all pages, oldest first)
 * as Baton's run view. Each `TaskScheduled` of a `lambda:invoke` Task (or `LambdaFunctionScheduled`
 * of a function-ARN Task) whose Payload names a `stage` is one attempt, numbered as the stage
 * Lambda numbers it (`retryCount + 1`, so the registry's rows match); its end event is found by
 * following `previousEventId` back to it (map iterations interleave). A failure's Baton error is
 * decoded from its cause. Consecutive attempts of a step path make a retry, with the delay the
 * service took and the compiled retrier's bound (ASL's whole seconds).
 *
 * @example
 * ```ts
 * const view = readHistory(events, { retryOf: (stage) => stages.get(stage)?.retry ?? [], ended: false });
 * view.currentSteps; // ['sections[2]/generate']
 * ```
 */
export function readHistory(events: readonly HistoryEvent[], options: ReadHistoryOptions): HistoryView {
  const tasks = new Map<number, OpenTask>();
  /** Event id → the scheduled event id of the task it belongs to. */
  const owner = new Map<number, number>();
  const attempts: AttemptRecord[] = [];
  const perStep = new Map<string, number>();
  let lastEventAt: string | undefined;
  for (const e of events) {
    const id = e.id ?? 0;
    const at = iso(e.timestamp);
    if (at) lastEventAt = at;
    const type = e.type ?? '';
    if (EXECUTION_ENDED.has(type)) {
      // what was in flight when an execution attempt ended was abandoned with it (a redrive schedules it anew)
      for (const t of tasks.values()) abandon(t);
      continue;
    }
    const payload = type === 'TaskScheduled' ? payloadOfTask(e) : type === 'LambdaFunctionScheduled' ? payloadOfFunction(e) : undefined;
    if (payload) {
      const task: OpenTask = { payload, scheduledAt: at ?? '', ended: false };
      if ('stage' in payload) {
        const n = (perStep.get(payload.stepPath) ?? 0) + 1;
        perStep.set(payload.stepPath, n);
        task.record = {
          stepPath: payload.stepPath,
          attempt: typeof payload.retryCount === 'number' ? payload.retryCount + 1 : n,
          status: 'running',
          startedAt: at ?? '',
        };
        attempts.push(task.record);
      }
      tasks.set(id, task);
      owner.set(id, id);
      continue;
    }
    const scheduled = e.previousEventId === undefined ? undefined : owner.get(e.previousEventId);
    if (scheduled === undefined) continue;
    const task = tasks.get(scheduled);
    if (!task || task.ended) continue;
    owner.set(id, scheduled);
    if (STARTED.has(type)) {
      task.startedAt = at;
      if (task.record && at) task.record.startedAt = at;
    } else if (ENDED_OK.has(type) || type in ENDED_FAILED) {
      task.ended = true;
      if (!task.record) continue;
      task.record.status = ENDED_OK.has(type) ? 'succeeded' : 'failed';
      if (at) task.record.finishedAt = at;
      const detailsKey = ENDED_FAILED[type];
      if (detailsKey) task.record.error = failureOf(type, e[detailsKey] as { error?: string; cause?: string } | undefined);
    }
  }
  if (options.ended) for (const t of tasks.values()) abandon(t);
  const currentSteps = [...new Set([...tasks.values()].filter((t) => !t.ended).map((t) => t.payload.stepPath))];
  const view: HistoryView = { attempts, retries: retriesOf(tasks, options), currentSteps };
  if (lastEventAt) view.lastEventAt = lastEventAt;
  return view;
}

/** One retry per failed attempt followed by the next attempt of its step path. */
function retriesOf(tasks: Map<number, OpenTask>, options: ReadHistoryOptions): RetryRecord[] {
  const byStep = new Map<string, OpenTask[]>();
  for (const t of tasks.values()) {
    if (!t.record || !('stage' in t.payload)) continue;
    byStep.set(t.record.stepPath, [...(byStep.get(t.record.stepPath) ?? []), t]);
  }
  const retries: RetryRecord[] = [];
  for (const [stepPath, list] of byStep) {
    const used = new Map<string, number>();
    for (let i = 0; i + 1 < list.length; i++) {
      const failed = list[i]!;
      const next = list[i + 1]!;
      const rec = failed.record!;
      if (rec.status !== 'failed' || !rec.error || next.record!.attempt !== rec.attempt + 1) {
        used.clear();
        continue;
      }
      const stage = failed.payload as Extract<BatonTask, { stage: string }>;
      const { policy, key } = retrierOf(stage.retry ?? options.retryOf(stage.stage), rec.error);
      const n = (used.get(key) ?? 0) + 1;
      used.set(key, n);
      const delayMs = Math.max(0, Date.parse(next.scheduledAt) - Date.parse(rec.finishedAt ?? next.scheduledAt));
      retries.push({ stepPath, attempt: rec.attempt, code: rec.error.code, delayMs, maxDelayMs: policy ? aslBoundMs(policy, n) : delayMs });
    }
  }
  return retries;
}

/** The retrier the compiled Task applied: the Lambda service retrier first, then Baton's. */
function retrierOf(policies: readonly RetryPolicy[], error: SerializedError): { policy: RetryPolicy | undefined; key: string } {
  if ((LAMBDA_SERVICE_ERRORS as readonly string[]).includes(error.code))
    return { policy: { errors: [...LAMBDA_SERVICE_ERRORS], intervalMs: 1000, backoffRate: 2 }, key: 'lambda' };
  const index = matchRetrier(policies, error.code, error.retryable);
  return { policy: index === null ? undefined : policies[index], key: String(index) };
}

/** ASL counts in whole seconds: the compiler rounds intervals and caps up (at least 1 s). */
function aslBoundMs(policy: RetryPolicy, retryNumber: number): number {
  const sec = (ms: number): number => Math.max(1, Math.ceil(ms / 1000)) * 1000;
  return maxDelayBoundMs(
    {
      ...policy,
      intervalMs: sec(policy.intervalMs ?? RETRY_DEFAULTS.intervalMs),
      ...(policy.maxDelayMs === undefined ? {} : { maxDelayMs: sec(policy.maxDelayMs) }),
    },
    retryNumber,
  );
}

function failureOf(type: string, d: { error?: string; cause?: string } | undefined): SerializedError {
  const timedOut = type === 'TaskTimedOut' || type === 'LambdaFunctionTimedOut';
  const name = d?.error ?? (timedOut ? 'States.Timeout' : 'States.TaskFailed');
  const decoded = errorFromCause(name, d?.cause ?? '');
  return decoded.message ? decoded : { ...decoded, message: timedOut ? 'the task timed out' : `${type} without a cause` };
}

function payloadOfTask(e: HistoryEvent): BatonTask | undefined {
  const d = e.taskScheduledEventDetails;
  if (d?.resourceType !== 'lambda' || !d.resource?.startsWith('invoke')) return undefined;
  return batonTask((parseJson(d.parameters) as { Payload?: unknown } | undefined)?.Payload);
}

function payloadOfFunction(e: HistoryEvent): BatonTask | undefined {
  return batonTask(parseJson(e.lambdaFunctionScheduledEventDetails?.input));
}

function batonTask(payload: unknown): BatonTask | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  if (typeof p.stepPath !== 'string') return undefined;
  if (typeof p.stage === 'string') {
    return {
      stage: p.stage,
      stepPath: p.stepPath,
      ...(typeof p.retryCount === 'number' ? { retryCount: p.retryCount } : {}),
      ...(Array.isArray(p.retry) ? { retry: p.retry as RetryPolicy[] } : {}),
    };
  }
  return typeof p.gate === 'string' ? { gate: p.gate, stepPath: p.stepPath } : undefined;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function iso(d: Date | undefined): string | undefined {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}
