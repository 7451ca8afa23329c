import { randomUUID } from 'node:crypto';
import type { ExecutionStatus, ExecutionStatusChangeEvent } from '@baton/adapter-stepfunctions';
import { runAttempt } from './attempt.js';
import type { PreparedDefinition } from './definition.js';
import { SfnApiError } from './errors.js';
import { History, type AttemptMemory } from './history.js';
import type { Credentials, Integration } from './integrations.js';
import type { TaskTokens } from './tokens.js';

/** A state machine as an execution runs it (its definition when the execution started). */
export interface MachineSnapshot {
  arn: string;
  name: string;
  roleArn: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: string;
  prepared: PreparedDefinition;
  /** The version the execution was started on (a version ARN, or the version an alias routed to). */
  versionArn?: string;
  /** The alias the execution was started through. */
  aliasArn?: string;
}

/** One execution and its history. */
export interface ExecutionRecord {
  seq: number;
  arn: string;
  name: string;
  machine: MachineSnapshot;
  input: string;
  traceHeader?: string;
  status: Exclude<ExecutionStatus, 'PENDING_REDRIVE'>;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: Date;
  history: History;
  memory?: AttemptMemory;
  abort?: () => void;
  /** The current attempt, settled once its end is recorded. */
  running?: Promise<void>;
  /** Status-change deliveries, in order. */
  delivered: Promise<void>;
}

/** What the execution manager works with. */
export interface ExecutionDeps {
  region: string;
  account: string;
  tokens: TaskTokens;
  integrationOf: (resource: string, credentials: Credentials) => Integration;
  credentialsOf: (stateMachineArn: string) => Credentials;
  onStatusChange?: (event: ExecutionStatusChangeEvent) => void | Promise<void>;
  timeScale: number;
  /** The service's clock for the redrive window, in ms since the epoch. @default Date.now */
  now?: () => number;
}

const REDRIVABLE_DAYS = 14;
const EVENT_DATA_LIMIT = 248 * 1024;

/**
 * Executions of the local endpoint, in memory: start (idempotent by name while running), stop,
 * redrive, and the status-change events. An execution's status and final history event change
 * only once its status-change event has been delivered, so whoever sees it ended (DescribeExecution)
 * knows the event's target has run.
 */
export class Executions {
  readonly all = new Map<string, ExecutionRecord>();
  private seq = 0;

  constructor(private readonly deps: ExecutionDeps) {}

  /** StartExecution. */
  start(machine: MachineSnapshot, name: string, input: string, traceHeader?: string): ExecutionRecord {
    const arn = `arn:aws:states:${this.deps.region}:${this.deps.account}:execution:${machine.name}:${name}`;
    const existing = this.all.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const exec: ExecutionRecord = {
      seq: ++this.seq,
      arn,
      name,
      machine,
      input,
      ...(traceHeader === undefined ? {} : { traceHeader }),
      status: 'RUNNING',
      startDate: new Date(),
      redriveCount: 0,
      history: new History(),
      delivered: Promise.resolve(),
    };
    this.all.set(arn, exec);
    exec.history.add('ExecutionStarted', { input, inputDetails: { truncated: false }, roleArn: machine.roleArn });
    this.notify(exec);
    this.run(exec);
    return exec;
  }

  /** The execution of an ARN, or ExecutionDoesNotExist. */
  get(arn: string | undefined): ExecutionRecord {
    const exec = this.all.get(arn ?? '');
    if (!exec) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return exec;
  }

  /** StopExecution: ABORTED at once, with the caller's error and cause; a closed execution is left as it is. */
  stop(exec: ExecutionRecord, error?: string, cause?: string): Date {
    if (exec.status !== 'RUNNING') return exec.stopDate ?? new Date();
    this.close(exec, { status: 'ABORTED', ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) });
    exec.history.add('ExecutionAborted', { ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) });
    exec.abort?.();
    this.notify(exec);
    return exec.stopDate!;
  }

  /** RedriveExecution: a new attempt that skips what succeeded (see runAttempt); RUNNING at once. */
  redrive(exec: ExecutionRecord): Date {
    const reason = this.notRedrivable(exec);
    if (reason) throw new SfnApiError('ExecutionNotRedrivable', `Execution Not Redrivable: '${reason}'`);
    const redriveDate = new Date();
    exec.redriveCount++;
    exec.redriveDate = redriveDate;
    exec.status = 'RUNNING';
    for (const k of ['stopDate', 'output', 'error', 'cause'] as const) delete exec[k];
    exec.history.add('ExecutionRedriven', { redriveCount: exec.redriveCount });
    this.notify(exec);
    // a stopped attempt may still be winding down: its memory is what the redrive skips by
    const before = exec.running ?? Promise.resolve();
    exec.running = before.then(() => {
      if (exec.status === 'RUNNING' && exec.redriveDate === redriveDate) this.run(exec, exec.memory);
      return exec.running;
    });
    return redriveDate;
  }

  /** Why RedriveExecution would refuse the execution (undefined: it would not). */
  notRedrivable(exec: ExecutionRecord): string | undefined {
    if (exec.machine.type === 'EXPRESS') return 'Redrive is not supported for EXPRESS state machines';
    if (exec.status === 'RUNNING' || exec.status === 'SUCCEEDED') return `Execution is ${exec.status} and cannot be redriven`;
    if (exec.stopDate && (this.deps.now ?? Date.now)() - exec.stopDate.getTime() > REDRIVABLE_DAYS * 86_400_000) return 'Execution redrivable period exceeded';
    return undefined;
  }

  /** Aborts every running execution and waits for their attempts and deliveries. */
  async closeAll(): Promise<void> {
    const running = [...this.all.values()].filter((e) => e.status === 'RUNNING');
    for (const e of running) this.stop(e, 'States.Aborted', 'local Step Functions endpoint closed');
    await Promise.allSettled([...this.all.values()].flatMap((e) => [e.running, e.delivered]));
  }

  private run(exec: ExecutionRecord, previous?: AttemptMemory): void {
    const { machine } = exec;
    const credentials = this.deps.credentialsOf(machine.arn);
    const attempt = runAttempt({
      prepared: machine.prepared,
      input: JSON.parse(exec.input) as unknown,
      history: exec.history,
      startDate: exec.startDate,
      context: {
        Execution: { Id: exec.arn, Name: exec.name, RoleArn: machine.roleArn, RedriveCount: exec.redriveCount },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
      integrationOf: (resource) => this.deps.integrationOf(resource, credentials),
      credentials,
      roleArn: machine.roleArn,
      region: this.deps.region,
      tokens: this.deps.tokens,
      timeScale: this.deps.timeScale,
      ...(previous ? { previous } : {}),
    });
    exec.abort = attempt.abort;
    exec.running = attempt.done.then(async (r) => {
      exec.memory = r.memory;
      // stopped by StopExecution: already closed and announced
      if (exec.status !== 'RUNNING') return;
      const end = {
        status: r.status,
        ...(r.output === undefined ? {} : { output: r.output }),
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.cause === undefined ? {} : { cause: r.cause }),
      };
      const stopDate = new Date();
      await this.deliver(exec, { ...end, stopDate });
      if (exec.status !== 'RUNNING') return;
      this.close(exec, end, stopDate);
      const details =
        r.status === 'SUCCEEDED'
          ? { output: r.output, outputDetails: { truncated: false } }
          : { ...(r.error === undefined ? {} : { error: r.error }), ...(r.cause === undefined ? {} : { cause: r.cause }) };
      exec.history.add(
        r.status === 'SUCCEEDED'
          ? 'ExecutionSucceeded'
          : r.status === 'FAILED'
            ? 'ExecutionFailed'
            : r.status === 'TIMED_OUT'
              ? 'ExecutionTimedOut'
              : 'ExecutionAborted',
        details,
      );
    });
  }

  private close(exec: ExecutionRecord, end: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>, stopDate = new Date()): void {
    exec.status = end.status;
    exec.stopDate = stopDate;
    for (const k of ['output', 'error', 'cause'] as const) {
      if (end[k] === undefined) delete exec[k];
      else exec[k] = end[k];
    }
  }

  /** Queues the status-change event of the execution as it is now. */
  private notify(exec: ExecutionRecord): void {
    void this.deliver(exec, exec);
  }

  /** Delivers a status-change event after the ones before it; a failing target is reported, never thrown. */
  private deliver(exec: ExecutionRecord, state: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause' | 'stopDate'>): Promise<void> {
    const { onStatusChange } = this.deps;
    if (!onStatusChange) return Promise.resolve();
    const event = this.statusEvent(exec, state);
    exec.delivered = exec.delivered.then(async () => {
      try {
        await onStatusChange(event);
      } catch (e) {
        console.error(`local Step Functions: status-change target failed for ${exec.arn} (${state.status}): ${(e as Error).message}`);
      }
    });
    return exec.delivered;
  }

  private statusEvent(exec: ExecutionRecord, state: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause' | 'stopDate'>): ExecutionStatusChangeEvent {
    const input = exec.input.length > EVENT_DATA_LIMIT ? null : exec.input;
    const output = state.output === undefined ? null : state.output.length > EVENT_DATA_LIMIT ? null : state.output;
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: this.deps.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.deps.region,
      resources: [exec.arn],
      detail: {
        executionArn: exec.arn,
        stateMachineArn: exec.machine.arn,
        name: exec.name,
        status: state.status,
        startDate: exec.startDate.getTime(),
        stopDate: state.stopDate?.getTime() ?? null,
        input,
        inputDetails: { included: input !== null },
        output,
        outputDetails: state.output === undefined ? null : { included: output !== null },
        error: state.error ?? null,
        cause: state.cause ?? null,
        redriveCount: exec.redriveCount,
        redriveDate: exec.redriveDate?.getTime() ?? null,
      },
    };
  }
}
