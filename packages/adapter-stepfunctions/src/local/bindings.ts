import { type RunEvent, type RetryPolicy, type SerializedError } from '@baton/core';
import {
  attemptFinishedEvent,
  attemptStartedEvent,
  decideRetry,
  baseDelayMs,
  jsonBytes,
  seededRandom,
  type AttemptRecord,
  type InvocationMetrics,
  type RetryRecord,
} from '@baton/core/engine';
import { inputHash } from '@baton/core/interpreter';
import { errorFromCause, lambdaCause } from '../lambda/errors.js';
import type { StageHandler } from '../lambda/handler.js';
import { stageInputOf, stageOutputOf, stageResultOf, type StageEvent } from '../lambda/event.js';
import type { CompiledMachine } from '../compile/types.js';
import { SFN_PAYLOAD_LIMIT } from '../compile/limits.js';

/** What a run's task bindings record, for `status()`. */
export interface RunRecords {
  runId: string;
  attempts: AttemptRecord[];
  retries: RetryRecord[];
  updatedAt: string;
  /** Completed task outputs by step path and input hash, with the stage that produced them: what a redrive reuses. */
  completed: Map<string, { hash: string; output: unknown; stage?: string }>;
  /** Whether the current execution is a redrive (only then are completed outputs reused). */
  redriving: boolean;
  /** Attempts so far by step path (attempt numbers continue across redrives). */
  attemptCounts: Map<string, number>;
  /** Reports run events (to the run registry). */
  emit: (event: RunEvent) => void;
}

type LocalHandler = (input: unknown) => Promise<unknown>;

/**
 * Binds every stage Task state of a compiled machine to the real stage handler, in process, the
 * way Lambda would run it: the handler gets the Task's `Parameters` as its event, its return value
 * is the Task result, and a failure surfaces with the error code as name and the Node.js Lambda
 * runtime's `{ errorType, errorMessage, trace }` JSON as cause.
 *
 * Baton-side layer (named as such): aws-local-stepfunctions' retry-interval override has no
 * backoff and no per-attempt value, so before each failure is handed back, the exact Baton delay
 * of the coming retry (core's `decideRetry`: backoff, cap, FULL jitter in milliseconds) is written
 * into the override for that state; the compiled machine itself keeps whole-second ASL retriers.
 */
export function bindStageTasks(
  machine: CompiledMachine,
  handler: StageHandler,
  records: RunRecords,
  retryOverrides: Record<string, number[]>,
  options: {
    enforcePayloadLimit: boolean;
    /** Whether this execution has ended (failed): the interpreter may still dispatch queued map items. */
    ended?: () => boolean;
    /**
     * The usage (tokens, cost, model calls) of an attempt the handler just ran, taken once: the
     * Lambda's answer carries none, so the engine hands over what its in-process handler reported.
     */
    takeMetrics?: (event: StageEvent, attempt: number) => InvocationMetrics | undefined;
  },
): Record<string, LocalHandler> {
  const out: Record<string, LocalHandler> = {};
  const counts = new Map<string, number[]>();
  // task steps in flight in this execution: a step starts with its first attempt and finishes with
  // its success or with a failure that no retrier takes
  const open = new Set<string>();
  for (const [stateName, binding] of Object.entries(machine.tasks)) {
    if (binding.kind !== 'stage') continue;
    out[stateName] = async (raw) => {
      const invoke = machine.lambdaIntegration === 'invoke';
      // lambda:invoke hands the function { FunctionName, Payload } and gets { Payload, StatusCode, … } back
      const wrap = (output: unknown): unknown => (invoke ? { ExecutedVersion: '$LATEST', Payload: output, StatusCode: 200 } : output);
      const event = (invoke ? (raw as { Payload: unknown }).Payload : raw) as StageEvent;
      // aws-local-stepfunctions starts a failed Map's queued iterations as the failure unwinds (in
      // microtasks): a map item's task waits for them to settle, so that the check below sees the end
      if (options.ended && event.stepPath?.includes('[')) await new Promise((r) => setImmediate(r));
      // Step Functions starts no state of an execution that has ended (a failed Map stops its other iterations)
      if (options.ended?.()) throw Object.assign(new Error('the execution has ended'), { name: 'States.Runtime' });
      let hash: string | undefined;
      try {
        hash = inputHash(stageInputOf(event));
      } catch {
        // the handler reports the bad selection
      }
      const done = records.completed.get(event.stepPath);
      // Baton-side redrive layer: a step completed in an earlier execution of this run is not run again
      if (records.redriving && done && done.hash === hash) return wrap(stageResultOf(event, done.output));
      const attempt = (records.attemptCounts.get(event.stepPath) ?? 0) + 1;
      records.attemptCounts.set(event.stepPath, attempt);
      const record: AttemptRecord = { stepPath: event.stepPath, attempt, status: 'running', startedAt: now() };
      records.attempts.push(record);
      records.updatedAt = record.startedAt;
      const base = { runId: records.runId, stepPath: event.stepPath, stage: binding.name, attempt };
      const step = { runId: records.runId, stepPath: event.stepPath, kind: 'task' };
      if (!open.has(event.stepPath)) {
        open.add(event.stepPath);
        records.emit({ type: 'step-started', ...step, at: record.startedAt });
      }
      records.emit(attemptStartedEvent(base, record.startedAt));
      // the attempt's usage, on its record (status().usage) and its attempt-finished event (the registry's cost)
      const usage = (): { metrics?: InvocationMetrics } => {
        const metrics = options.takeMetrics?.(event, attempt);
        if (metrics) record.metrics = metrics;
        return metrics ? { metrics } : {};
      };
      try {
        // a Lambda's result crosses the wire as JSON
        const output = JSON.parse(JSON.stringify((await handler({ ...event, retryCount: attempt - 1 })) ?? null)) as unknown;
        if (options.enforcePayloadLimit && jsonBytes(output) > SFN_PAYLOAD_LIMIT) {
          const what = event.state === undefined ? 'output' : 'state with the output';
          const e = new Error(
            JSON.stringify({
              code: 'States.DataLimitExceeded',
              message: `${what} of ${event.stepPath} is ${jsonBytes(output)} bytes, over the 256 KB state limit`,
              retryable: false,
            }),
          );
          e.name = 'States.DataLimitExceeded';
          throw e;
        }
        Object.assign(record, { status: 'succeeded', finishedAt: now() });
        if (hash !== undefined) records.completed.set(event.stepPath, { hash, output: stageOutputOf(event, output), stage: binding.name });
        records.emit(attemptFinishedEvent(base, { ok: true, ...usage() }, record.finishedAt!));
        open.delete(event.stepPath);
        records.emit({ type: 'step-finished', ...step, status: 'succeeded', at: record.finishedAt! });
        return wrap(output);
      } catch (e) {
        const err = e as Error;
        const error: SerializedError = errorFromCause(err.name, err.message);
        Object.assign(record, { status: 'failed', finishedAt: now(), error });
        records.emit(attemptFinishedEvent(base, { ok: false, error, ...usage() }, record.finishedAt!));
        if (!planRetry(stateName, binding.retry, event.stepPath, attempt, error, records, retryOverrides, counts)) {
          open.delete(event.stepPath);
          records.emit({ type: 'step-finished', ...step, status: 'failed', error, at: record.finishedAt! });
        }
        records.updatedAt = now();
        const thrown = new Error(lambdaCause(err));
        thrown.name = err.name;
        throw thrown;
      }
    };
  }
  return out;
}

/** Plans the Baton delay of the coming retry; false when no retrier takes this failure. */
function planRetry(
  stateName: string,
  compiled: (RetryPolicy | null)[],
  stepPath: string,
  attempt: number,
  error: SerializedError,
  records: RunRecords,
  overrides: Record<string, number[]>,
  counts: Map<string, number[]>,
): boolean {
  const policies = compiled.filter((p): p is RetryPolicy => p !== null);
  if (policies.length === 0) return false;
  const done = counts.get(stepPath) ?? policies.map(() => 0);
  const decision = decideRetry(policies, error.code, done, seededRandom(`${records.runId}/${stepPath}#${attempt}`), error.retryable);
  if (!decision.retry) return false;
  done[decision.retrierIndex] = decision.retryNumber;
  counts.set(stepPath, done);
  const row = overrides[stateName] ?? compiled.map(() => -1);
  row[compiled.indexOf(policies[decision.retrierIndex]!)] = decision.delayMs;
  overrides[stateName] = row;
  records.retries.push({
    stepPath,
    attempt,
    code: error.code,
    delayMs: decision.delayMs,
    maxDelayMs: baseDelayMs(policies[decision.retrierIndex]!, decision.retryNumber),
  });
  records.emit({ type: 'retry-scheduled', runId: records.runId, stepPath, attempt, code: error.code, delayMs: decision.delayMs, at: now() });
  return true;
}

function now(): string {
  return new Date().toISOString();
}
