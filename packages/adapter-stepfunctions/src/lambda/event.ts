import { type RetryPolicy } from '@baton/core';
import { readPath, select, writePath, type Selection } from '@baton/core/engine';
import { errorFromCause } from './errors.js';

/**
 * What the compiled Task state sends to a stage Lambda (its `Payload`). Two shapes:
 *
 * - **input**: `input` is the stage input, selected by the state machine. Used when the result
 *   replaces the state, is discarded, shapes a map item's result in the Task's ResultSelector, or
 *   (`keepKeys`) is written below the root by a ResultSelector picking the output's fields.
 * - **state** (the fallback for outputs whose keys the compiler cannot rely on): `state` is the Task's whole state, `select` the Baton selection of the stage input
 *   (as JSON, so Step Functions does not evaluate it) and `resultPath` where the output goes; the
 *   Lambda returns the state with the output written there (ASL `ResultPath` semantics, core's
 *   `writePath`) and the Task keeps it with `OutputPath: "$.Payload"`. That is how a
 *   `lambda:invoke` Task writes a result below the root without an extra Pass state to strip the
 *   `{ Payload, StatusCode, … }` envelope.
 */
export interface StageEvent {
  stage: string;
  stepPath: string;
  executionId: string;
  /** `$$.State.RetryCount`: 0 on the first attempt. */
  retryCount: number;
  /**
   * The task's retry policy when it is not its stage's own (a task-level `retry`, or the compile
   * option `stageRetry`): what the handler uses to tell a final failure from one the machine
   * retries. Absent: the stage's `retry`.
   */
  retry?: RetryPolicy[];
  timeoutMs?: number;
  /** The stage input (input shape). */
  input?: unknown;
  /** The Task's whole state (state shape). */
  state?: unknown;
  /** State shape: JSON of the Baton selection of the input, read at `root`; absent = the whole Baton state. */
  select?: string;
  /** State shape: where Baton's state lives in `state` (`$.output` in map items). @default '$' */
  root?: string;
  /** State shape: where the output is written in `state` (`null`: discarded). */
  resultPath?: string | null;
  /**
   * Paths of `state` (state shape) or of `input` (input shape) where a Catch may have left Step
   * Functions' raw `{ Error, Cause }`; they are decoded into Baton's
   * `{ code, message, retryable, details }` before anything reads them, instead of by parsing Pass states in the machine.
   */
  errors?: string[];
  /**
   * Input shape: the Task picks the output's top-level fields (`$.Payload.<k>`), so the claim
   * check may move field values to the blob store but never the whole output (core's `offloadLarge` option `keepKeys`).
   */
  keepKeys?: boolean;
  /**
   * Paths of the stage output (`$.sections`) that a later Map iterates over: kept as plain JSON
   * even when the claim check would move them to the blob store (core's `offloadLarge` option `keep`).
   */
  keepInline?: string[];
  /**
   * Claim-check threshold (bytes) for this task when lower than the function's own: set by the
   * compiler on the tasks of a map's items when the map's aggregated result could pass Step
   * Functions' 256 KB (the service builds a Map state's output from the item results itself), so
   * an item's large values cross the state as `{ $blob }` references.
   */
  claimCheckThreshold?: number;
}

/**
 * A replay execution's name: `<runId>.r<n>`. Run ids have no `.` (core's run-id rule), so the
 * suffix cannot be confused with a run id's own text.
 */
const REPLAY_NAME = /^(.+)\.r([1-9][0-9]*)$/;

/**
 * The run id of an execution: its name, the last segment of the execution ARN, without the
 * `.r<n>` suffix of a replay (Baton's own redrive of a run Step Functions no longer redrives,
 * see {@link replayExecutionName}).
 */
export function runIdOf(executionArn: string): string {
  const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  return REPLAY_NAME.exec(name)?.[1] ?? name;
}

/** Which replay of its run an execution is: 0 for the run's first execution, n for `<runId>.r<n>`. */
export function replayOf(executionArn: string): number {
  const match = REPLAY_NAME.exec(executionArn.slice(executionArn.lastIndexOf(':') + 1));
  return match ? Number(match[2]) : 0;
}

/**
 * The execution name of a run's n-th replay: a new execution of the same state machine and input
 * whose stage functions return the recorded output of every step that already succeeded with the
 * same input and stage version (the step memo, see `createStageHandler`), so only what failed runs
 * again. Used where RedriveExecution is refused (past the 14 days Step Functions redrives).
 */
export function replayExecutionName(runId: string, replay: number): string {
  return replay === 0 ? runId : `${runId}.r${replay}`;
}

/**
 * The stage input an event carries: `input`, or the selection applied to its (decoded) state.
 * With {@link stageResultOf}, what a Lambda runtime other than `createStageHandler` needs to
 * answer Baton's Task states.
 *
 * @example
 * ```ts
 * const output = await myStage(stageInputOf(event.Payload));
 * return stageResultOf(event.Payload, output);
 * ```
 */
export function stageInputOf(event: StageEvent): unknown {
  if (event.state === undefined) return decodeErrors(event.input, event.errors);
  const state = decodeErrors(event.state, event.errors);
  const batonState = readPath(state, event.root ?? '$');
  const selection = event.select === undefined ? undefined : (JSON.parse(event.select) as Selection);
  return select(batonState, selection, { Execution: { Id: event.executionId, Name: runIdOf(event.executionId) } });
}

/** What the Lambda returns for a stage output: the output (input shape) or the state with the output written in (state shape). */
export function stageResultOf(event: StageEvent, output: unknown): unknown {
  if (event.state === undefined) return output;
  return writePath(decodeErrors(event.state, event.errors), event.resultPath ?? null, output);
}

/** The stage output inside what {@link stageResultOf} returned (for records that keep outputs). */
export function stageOutputOf(event: StageEvent, result: unknown): unknown {
  if (event.state === undefined) return result;
  return event.resultPath === null || event.resultPath === undefined ? undefined : readPath(result, event.resultPath);
}

function decodeErrors(value: unknown, paths: readonly string[] | undefined): unknown {
  let out = value;
  for (const path of paths ?? []) {
    let found: unknown;
    try {
      found = readPath(out, path);
    } catch {
      continue;
    }
    if (isRawError(found)) out = writePath(out, path, errorFromCause(found.Error, found.Cause));
  }
  return out;
}

/** Step Functions' caught error: exactly `{ Error, Cause }` (Cause may be absent). */
function isRawError(value: unknown): value is { Error: string; Cause?: unknown } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return typeof (value as { Error?: unknown }).Error === 'string' && keys.every((k) => k === 'Error' || k === 'Cause');
}
