import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { silentLogger, type Logger, type RunEvent, type RunObserver, type SerializedError } from '@baton/core';
import { errorFromCause } from './errors.js';
import { runIdOf } from './event.js';
import type { ExecutionStatusChangeEvent } from './status-event.js';

/**
 * The parts of DescribeExecution the registry writer reads: the JSON input and output.
 *
 * @example
 * ```ts
 * const describeExecution = async (arn: string): Promise<ExecutionPayloads> => ({ input: '{"reportId":"R-1"}', output: null });
 * ```
 */
export interface ExecutionPayloads {
  input?: string | null;
  output?: string | null;
}

/** Options of {@link createRegistryWriterHandler}. */
export interface RegistryWriterOptions {
  /** Receives the run events (the registry's `createRegistryObserver`); awaited before the handler returns. */
  observer: RunObserver;
  /** Pipeline name recorded for the runs. @default the state machine's name */
  pipeline?: string;
  /** Engine name recorded for the runs. @default 'stepfunctions' */
  engine?: string;
  /**
   * Reads an execution's input and output when the event leaves them out (over 256 KB:
   * `inputDetails.included: false`). @default DescribeExecution of `@aws-sdk/client-sfn`
   * (needs `states:DescribeExecution` on the machine's executions)
   */
  describeExecution?: (executionArn: string) => Promise<ExecutionPayloads>;
  /** Every line carries `executionArn`, `step` (null: the whole run) and `attempt` (the execution number). @default silentLogger */
  logger?: Logger;
}

/**
 * The error code a run gets when its execution is stopped (StopExecution, an ABORTED status).
 * Not an ASL error name (Step Functions reports no error for an aborted execution): Baton's, in
 * the `States.` family next to `States.Timeout`, classified `infrastructure` by the registry.
 *
 * @example
 * ```ts
 * const aborted = (await registry.listRuns({ status: 'failed' })).filter((r) => r.error?.code === ABORTED_CODE);
 * ```
 */
export const ABORTED_CODE = 'States.Aborted';

/**
 * Creates the Lambda behind the EventBridge rule on Step Functions' execution status-change
 * events (`source: aws.states`): it turns each event into a core `RunEvent` for the run registry.
 *
 * - `RUNNING` → `run-started` (pipeline from the option or the state machine's name, engine
 *   `stepfunctions`, `executionId` = the execution ARN, the input parsed from the event or, when
 *   left out, read with DescribeExecution). A RUNNING event of a redrive (`redriveCount > 0`) is a
 *   start at `redriveDate`, after the failure: the registry reopens the failed run and bumps its
 *   `execution`.
 * - `SUCCEEDED` → `run-finished` succeeded, with the output.
 * - `FAILED` → `run-finished` failed, with Baton's error decoded from `error`/`cause`
 *   (`errorFromCause`: a Lambda's envelope, a SendTaskFailure cause, a Fail state's cause).
 * - `TIMED_OUT` → failed with `States.Timeout` (the execution passed its `TimeoutSeconds`).
 * - `ABORTED` → failed with {@link ABORTED_CODE} (`States.Aborted`), the StopExecution error and
 *   cause in `details`.
 * - `PENDING_REDRIVE` → nothing.
 *
 * Every event's time comes from the execution (`startDate`, `redriveDate`, `stopDate`), never
 * from delivery, and the registry's writes are upserts: a duplicate delivery (EventBridge delivers
 * at least once) writes the same row again, and a late duplicate RUNNING does not reopen a run
 * that ended after it. Returns the run event written (`null` for none).
 *
 * @example
 * ```ts
 * const registry = await createPostgresRegistry({ connectionString });
 * export const handler = createRegistryWriterHandler({ observer: createRegistryObserver(registry) });
 * ```
 */
export function createRegistryWriterHandler(options: RegistryWriterOptions): (event: ExecutionStatusChangeEvent) => Promise<RunEvent | null> {
  const root = options.logger ?? silentLogger;
  let describe = options.describeExecution;
  const payloads = (arn: string): Promise<ExecutionPayloads> => (describe ??= defaultDescribe())(arn);
  return async (event) => {
    const d = event.detail;
    const log = root.child({ executionArn: d.executionArn, step: null, attempt: (d.redriveCount ?? 0) + 1 });
    const runId = runIdOf(d.executionArn);
    const runEvent = await toRunEvent(event, options, payloads);
    if (!runEvent) {
      log.info('status change ignored', { status: d.status });
      return null;
    }
    await options.observer(runEvent);
    log.info('run status recorded', { runId, status: d.status, event: runEvent.type });
    return runEvent;
  };
}

async function toRunEvent(
  event: ExecutionStatusChangeEvent,
  options: RegistryWriterOptions,
  payloads: (arn: string) => Promise<ExecutionPayloads>,
): Promise<RunEvent | null> {
  const d = event.detail;
  const runId = runIdOf(d.executionArn);
  switch (d.status) {
    case 'RUNNING': {
      const redrive = (d.redriveCount ?? 0) > 0;
      const at = iso(redrive ? (d.redriveDate ?? d.startDate) : d.startDate);
      const input = d.inputDetails?.included === false ? (await payloads(d.executionArn)).input : d.input;
      return {
        type: 'run-started',
        runId,
        pipeline: options.pipeline ?? stateMachineName(d.stateMachineArn),
        engine: options.engine ?? 'stepfunctions',
        executionId: d.executionArn,
        input: parseJson(input),
        at,
      };
    }
    case 'SUCCEEDED': {
      const output = d.outputDetails?.included === false ? (await payloads(d.executionArn)).output : d.output;
      return { type: 'run-finished', runId, status: 'succeeded', output: parseJson(output), at: iso(d.stopDate ?? Date.parse(event.time)) };
    }
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
      return { type: 'run-finished', runId, status: 'failed', error: runError(d), at: iso(d.stopDate ?? Date.parse(event.time)) };
    default:
      return null;
  }
}

/**
 * The run's error for a FAILED, TIMED_OUT or ABORTED execution's status-change detail.
 *
 * @example
 * ```ts
 * runError({ status: 'TIMED_OUT', error: null, cause: null }).code; // 'States.Timeout'
 * ```
 */
export function runError(d: Pick<ExecutionStatusChangeEvent['detail'], 'status' | 'error' | 'cause'>): SerializedError {
  if (d.status === 'TIMED_OUT') {
    return { code: 'States.Timeout', message: d.cause ?? 'the execution ran past its TimeoutSeconds', retryable: false, details: { status: 'TIMED_OUT' } };
  }
  if (d.status === 'ABORTED') {
    return {
      code: ABORTED_CODE,
      message: d.cause ?? 'the execution was stopped (StopExecution)',
      retryable: false,
      details: { status: 'ABORTED', error: d.error },
    };
  }
  return errorFromCause(d.error ?? 'States.Runtime', d.cause ?? '');
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>[:<version or alias>]` → `<name>`. */
function stateMachineName(arn: string): string {
  return arn.split(':')[6] ?? arn;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseJson(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function defaultDescribe(): (arn: string) => Promise<ExecutionPayloads> {
  const client = new SFNClient({});
  return async (executionArn) => {
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return { input: out.input ?? null, output: out.output ?? null };
  };
}
