import { randomUUID } from 'node:crypto';
import {
  StageError,
  createMemoryBlobStore,
  resolveOutcome,
  silentLogger,
  type AnyPipeline,
  type AnyStage,
  type Engine,
  type RunInfo,
  type RunObserver,
  type RunOutcome,
  type RunSummary,
} from '@baton/core';
import {
  apiError,
  resultWithin,
  createPipelineSet,
  pinOf,
  startRunId,
  safeObserver,
  summarizeUsage,
  validatePrices,
  validateRunInput,
  type EngineBaseOptions,
  type InvocationMetrics,
  type PipelinePin,
  type StageRunnerOptions,
} from '@baton/core/engine';
import { StateMachine } from 'aws-local-stepfunctions';
import { compileToAsl } from '../compile/compile.js';
import { SFN_HISTORY_LIMIT } from '../compile/limits.js';
import { DEAD_LETTER_STATE, type DeadLetterMessage } from '../compile/dead-letter.js';
import type { CompileOptions, CompiledMachine } from '../compile/types.js';
import { errorFromCause } from '../lambda/errors.js';
import { createStageHandler, runIdOf, type StageEvent, type StageHandler } from '../lambda/handler.js';
import type { ReviewGateEvent } from '../lambda/review-gate.js';
import { EXECUTION_STATUS_CHANGE, type ExecutionStatus, type ExecutionStatusChangeEvent } from '../lambda/status-event.js';
import { createMemoryReviewStore, decideReview, type ReviewStore } from '../lambda/reviews.js';
import { bindStageTasks, type RunRecords } from './bindings.js';
import { bindApprovals, type TaskTokenWaiters } from './approvals.js';
import { trackEvents, type TrackedRun } from './events.js';
import { withPayloadChecks } from './payload-limit.js';
import { clampLocalTimers } from './timers.js';

/**
 * Options of {@link createStepFunctionsLocalEngine}: core's engine fields (`EngineBaseOptions`;
 * `blobs` is the stage handlers' claim-check store, default memory) and the stage fields its
 * in-process handlers use (`model`, `limiter` and `prices` as the deployed handler takes them,
 * `notifier` when an approval gate opens, `claimCheckThreshold`), plus what the emulation takes.
 */
export interface StepFunctionsLocalEngineOptions
  extends EngineBaseOptions, Pick<StageRunnerOptions, 'model' | 'limiter' | 'prices' | 'notifier' | 'claimCheckThreshold'> {
  /** Where the review gate records pending reviews. @default an in-memory store */
  reviews?: ReviewStore;
  /** Compiler options (workflow type, expected item counts…). */
  compile?: CompileOptions;
  /**
   * Enforce Step Functions' 256 KB state limit as the service does: a task whose output passes it,
   * and a Map or Parallel state whose output (built from its items' or branches' results) passes
   * it, fail with `States.DataLimitExceeded` (the latter through check states this engine adds to
   * its copy of the machine, see `withPayloadChecks`, not counted as transitions). @default true
   */
  enforcePayloadLimit?: boolean;
  /**
   * Fail a STANDARD run whose execution history would pass this many events (Step Functions
   * fails such executions at 25,000); counted as AWS records them: 2 per state, 3 more per Task,
   * 2 per map iteration. `false` turns it off. @default 25000
   */
  historyLimit?: number | false;
  /**
   * The functions to run instead of the handlers this engine builds in process: the deployed
   * Lambda handlers (e.g. `@baton/aws-runtime`'s), called in process with the event Lambda would
   * receive. With them, what the functions write (registry rows, notices) is theirs, not the engine's,
   * and so is the usage of each attempt (tokens, cost): `status()` and this engine's events have none.
   */
  lambdas?: { stage?: StageHandler; reviewGate?: (event: ReviewGateEvent) => Promise<unknown> };
  /**
   * Receives the EventBridge events Step Functions sends on every execution status change
   * (RUNNING at start and redrive, then SUCCEEDED / FAILED), as a rule would deliver them to a
   * target such as the deployed registry-writer Lambda. Awaited before `result()` resolves.
   */
  statusEvents?: (event: ExecutionStatusChangeEvent) => void | Promise<void>;
  /**
   * Compile with the dead-letter route (`CompileOptions.deadLetter`) and deliver each failed run's
   * message here, as the `sqs:sendMessage` Task would to the queue. @default no dead-letter route
   */
  deadLetters?: (message: DeadLetterMessage) => void | Promise<void>;
}

/** The local Step Functions engine: core's `Engine`, plus the compiled machine and transition counts. */
export interface StepFunctionsLocalEngine extends Engine {
  /** The machine a pipeline runs as (the same ASL that is deployed); by name, its newest version. */
  machine(pipeline: AnyPipeline | string): CompiledMachine;
  /**
   * A deploy: new runs start on these pipelines (several versions of a name allowed), and
   * decisions and redrives are accepted only for runs whose version is among them. Executions in
   * flight keep the machine and stage code they started with, as on Step Functions.
   */
  deploy(pipelines: AnyPipeline[]): void;
  /** State transitions of a run so far (StateEntered events: the billed unit of STANDARD workflows). */
  transitions(runId: string): number;
}

interface LocalRun extends RunRecords, TrackedRun {
  pipeline: string;
  /** The pipeline version, IR digest and stage versions the run started on (or was redriven with). */
  pin: PipelinePin;
  input: unknown;
  executionArn: string;
  startedAt: string;
  status: RunInfo['status'];
  outcome?: RunOutcome;
  finishedAt?: string;
  done: Promise<RunOutcome>;
  abort: () => void;
  /** Delivery of the latest RUNNING status-change event. */
  statusSent?: Promise<void>;
  /** Step Functions' own `{ error, cause }` of the failed execution, as its status-change event carries it. */
  rawError?: { error: string; cause: string };
  /** Redrives so far. */
  redrives: number;
}

/** A compiled machine as this engine runs it. */
interface LocalMachine {
  compiled: CompiledMachine;
  sm: StateMachine;
  /** Handlers of the payload-limit check states (none when the limit is not enforced). */
  limitChecks: Record<string, (input: unknown) => Promise<unknown>>;
  /** States of this engine's own (the checks): not transitions of the deployed machine. */
  hidden: ReadonlySet<string>;
}

const ACCOUNT_ID = '000000000000';
const LOCAL_DEAD_LETTER_QUEUE = 'http://127.0.0.1/000000000000/baton-dead-letters';
const ACCOUNT_ARN = `arn:aws:states:local:${ACCOUNT_ID}`;

/**
 * Runs pipelines as their compiled ASL on aws-local-stepfunctions with the real stage handlers
 * and the real review-gate handler bound in-process: the exact state machine that is deployed.
 * Not durable (the interpreter keeps executions in memory, so there is no crash-resume).
 * `redrive` is Baton's cross-engine redrive: a new execution of the same machine in which every
 * task completed before (same step path, same input hash) answers from the run's records
 * instead of running again (in AWS, the client helper's `redrive` calls RedriveExecution).
 * Every pipeline is compiled when the engine is created: one the compiler refuses throws
 * `StageError('InvalidInput')` listing the errors (`details.issues`), and the compiler's warnings
 * are logged (`warn`, with the pipeline and step).
 *
 * @example
 * ```ts
 * const engine = createStepFunctionsLocalEngine({ pipelines: [report] });
 * const { runId } = await engine.start('report', input);
 * console.log(await engine.result(runId), engine.transitions(runId));
 * ```
 */
export function createStepFunctionsLocalEngine(options: StepFunctionsLocalEngineOptions): StepFunctionsLocalEngine {
  let pipelines = createPipelineSet(options.pipelines);
  // per pipeline version (the pipeline object): one machine per name and version, as deployed
  const machines = new WeakMap<AnyPipeline, LocalMachine>();
  const compilations = new WeakMap<AnyPipeline, CompiledMachine>();
  const handlers = new WeakMap<AnyPipeline, StageHandler>();
  const runs = new Map<string, LocalRun>();
  const blobs = options.blobs ?? createMemoryBlobStore();
  const reviews = options.reviews ?? createMemoryReviewStore();
  const logger = options.logger ?? silentLogger;
  const waiters: TaskTokenWaiters = new Map();
  const historyLimit = options.historyLimit ?? SFN_HISTORY_LIMIT;
  validatePrices(options.prices, options.model?.modelId);
  const observe = safeObserver([options.observer], logger);
  const emit = (event: Parameters<RunObserver>[0]): void => void observe(event);
  // each attempt's usage as the in-process handlers report it (a Lambda's answer carries none),
  // until the task binding puts it on the attempt's record and event
  const usage = new Map<string, InvocationMetrics>();
  const usageKey = (runId: string, stepPath: string, attempt: number): string => `${runId}\u0000${stepPath}#${attempt}`;
  const takeMetrics = (event: StageEvent, attempt: number): InvocationMetrics | undefined => {
    // the run id as the handler tells it from the execution
    const key = usageKey(runIdOf(event.executionId), event.stepPath, attempt);
    const metrics = usage.get(key);
    usage.delete(key);
    return metrics;
  };
  let allStages = new Map(options.pipelines.flatMap((p) => [...p.stages.values()]).map((s) => [s.name, s]));
  // the stage code of a pipeline version: a run calls its own version's stages (qualified functions, on AWS)
  const handlerOf = (pipeline: AnyPipeline): StageHandler => {
    if (options.lambdas?.stage) return options.lambdas.stage;
    let h = handlers.get(pipeline);
    if (!h) handlers.set(pipeline, (h = stageHandlerFor([...pipeline.stages.values()])));
    return h;
  };
  const stageHandlerFor = (stages: AnyStage[]): StageHandler =>
    createStageHandler({
      stages,
      blobs,
      logger,
      attemptOf: (e) => e.retryCount + 1,
      observer: (e) => {
        if (e.type === 'attempt-finished' && e.metrics) usage.set(usageKey(e.runId, e.stepPath, e.attempt), e.metrics);
      },
      ...(options.model ? { model: options.model } : {}),
      ...(options.limiter ? { limiter: options.limiter } : {}),
      ...(options.prices ? { prices: options.prices } : {}),
      ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
    });

  const compiledOf = (pipeline: AnyPipeline): CompiledMachine => {
    let compiled = compilations.get(pipeline);
    if (!compiled) {
      for (const s of pipeline.stages.values())
        if (!allStages.has(s.name)) throw new StageError('InvalidInput', `stage "${s.name}" is not known to this engine`);
      compiled = compileToAsl(pipeline, options.deadLetters ? { ...options.compile, deadLetter: { queueUrl: LOCAL_DEAD_LETTER_QUEUE } } : options.compile);
      for (const issue of compiled.issues) logger.warn('compile warning', { pipeline: pipeline.name, step: issue.step, message: issue.message });
      compilations.set(pipeline, compiled);
    }
    return compiled;
  };

  // the interpreter validates the definition (asl-validator, tens of ms a machine): on first use
  const machineOf = (pipeline: AnyPipeline): LocalMachine => {
    let m = machines.get(pipeline);
    if (!m) {
      const compiled = compiledOf(pipeline);
      // Map and Parallel outputs over 256 KB fail States.DataLimitExceeded, as on AWS (Baton-side layer)
      const checked =
        (options.enforcePayloadLimit ?? true)
          ? withPayloadChecks(compiled.definition)
          : { definition: compiled.definition, checks: new Map<string, string>(), handlers: {} };
      const sm = new StateMachine(clampLocalTimers(checked.definition) as never, { validationOptions: { checkArn: true, checkPaths: true } });
      m = { compiled, sm, limitChecks: checked.handlers, hidden: new Set(checked.checks.keys()) };
      machines.set(pipeline, m);
    }
    return m;
  };

  const execute = (run: LocalRun, pipeline: AnyPipeline, input: unknown): void => {
    const { compiled, sm, limitChecks, hidden } = machineOf(pipeline);
    const retryIntervalOverrides: Record<string, number[]> = {};
    const state = { ended: false };
    const taskResourceLocalHandlers = {
      ...bindStageTasks(compiled, handlerOf(pipeline), run, retryIntervalOverrides, {
        enforcePayloadLimit: options.enforcePayloadLimit ?? true,
        ended: () => state.ended,
        ...(options.lambdas?.stage ? {} : { takeMetrics }),
      }),
      ...limitChecks,
      ...(options.deadLetters ? bindDeadLetter(options.deadLetters) : {}),
      ...bindApprovals(compiled, {
        reviews,
        waiters,
        emit,
        ...(options.notifier ? { notifier: options.notifier } : {}),
        ...(options.lambdas?.reviewGate ? { gate: options.lambdas.reviewGate } : {}),
      }),
    };
    const execution = sm.run(input as never, {
      overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides },
      context: { Execution: { Id: run.executionArn, Name: run.runId }, Task: { Token: 'set-by-the-review-layer' }, State: { RetryCount: 0 } } as never,
    });
    run.abort = execution.abort;
    run.statusSent = sendStatus(run, 'RUNNING');
    execution.result.then(
      () => undefined,
      () => (state.ended = true),
    );
    const events = trackEvents(execution, run, compiled.type === 'STANDARD' ? historyLimit : false, hidden);
    // the outcome is reported once every event (transition counts) has been consumed
    const settled = execution.result.then(
      async (output) => (await events, { ok: true as const, output }),
      async (e: unknown) => (await events, { ok: false as const, e }),
    );
    run.done = settled
      .then((r) => (r.ok ? Promise.resolve(r.output) : Promise.reject(r.e)))
      .then(
        (output): RunOutcome => finish(run, { status: 'succeeded', output }),
        (e: unknown): RunOutcome => {
          if (run.limitError) return finish(run, { status: 'failed', error: run.limitError });
          const cause = (e as { cause?: Error }).cause ?? (e as Error);
          return finish(run, { status: 'failed', error: errorFromCause(cause.name, cause.message) }, { error: cause.name, cause: cause.message });
        },
      )
      .then(async (outcome) => {
        await run.statusSent;
        await sendStatus(run, outcome.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED', run.rawError);
        return outcome;
      });
  };

  const sendStatus = async (run: LocalRun, status: ExecutionStatus, raw?: { error: string; cause: string }): Promise<void> => {
    if (!options.statusEvents) return;
    const ended = status !== 'RUNNING';
    const output = ended && run.outcome?.status === 'succeeded' ? JSON.stringify(run.outcome.output ?? null) : null;
    const event: ExecutionStatusChangeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': EXECUTION_STATUS_CHANGE,
      source: 'aws.states',
      account: ACCOUNT_ID,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'local',
      resources: [run.executionArn],
      detail: {
        executionArn: run.executionArn,
        stateMachineArn: `${ACCOUNT_ARN}:stateMachine:${run.pipeline}`,
        name: run.runId,
        status,
        startDate: Date.parse(run.startedAt),
        stopDate: ended ? Date.parse(run.finishedAt ?? new Date().toISOString()) : null,
        input: JSON.stringify(run.input ?? null),
        inputDetails: { included: true },
        output,
        outputDetails: output === null ? null : { included: true },
        error: raw?.error ?? null,
        cause: raw?.cause ?? null,
        redriveCount: run.redrives,
        redriveDate: run.redrives > 0 ? Date.parse(run.updatedAt) : null,
      },
    };
    try {
      await options.statusEvents(event);
    } catch (e) {
      logger.error('status-change event target failed', { executionArn: run.executionArn, status, error: (e as Error).message });
    }
  };

  const finish = (run: LocalRun, outcome: RunOutcome, raw?: { error: string; cause: string }): RunOutcome => {
    if (raw) run.rawError = raw;
    else delete run.rawError;
    run.outcome = outcome;
    run.status = outcome.status;
    run.finishedAt = run.updatedAt = new Date().toISOString();
    run.current.clear();
    const at = run.finishedAt;
    emit(
      outcome.status === 'succeeded'
        ? { type: 'run-finished', runId: run.runId, status: 'succeeded', output: outcome.output, at }
        : { type: 'run-finished', runId: run.runId, status: 'failed', error: outcome.error, at },
    );
    logger.info('run ended', { runId: run.runId, executionArn: run.executionArn, status: outcome.status, transitions: run.transitions });
    return outcome;
  };

  const get = (runId: string): LocalRun => {
    const run = runs.get(runId);
    if (!run) throw apiError.runNotFound(runId);
    return run;
  };

  const decide = async (runId: string, gate: string, decision: Parameters<Engine['approve']>[2], verdict: 'approved' | 'rejected'): Promise<void> => {
    const run = get(runId);
    // decided only while the run's version is deployed here: `PipelineVersionNotLoaded` otherwise, nothing recorded
    const { ir } = pipelines.forRun(runId, run.pipeline, run.pin);
    const answer = await decideReview(reviews, run.executionArn, gate, decision, verdict, { runId, ir });
    const waiter = waiters.get(answer.taskToken);
    // the gate timed out (or the run ended) between the review's check and its close
    if (!waiter) throw apiError.gateNotOpen(runId, gate);
    waiters.delete(answer.taskToken);
    const review = (await reviews.list(run.executionArn)).find((r) => r.taskToken === answer.taskToken);
    emit({
      type: 'review-decided',
      runId,
      gate,
      stepPath: review?.stepPath ?? gate,
      decision: verdict,
      at: new Date().toISOString(),
      ...(decision.reviewer === undefined ? {} : { reviewer: decision.reviewer }),
      ...(decision.comment === undefined ? {} : { comment: decision.comment }),
      ...(answer.verdict === 'approved' && Object.keys(answer.output.sections).length > 0 ? { sections: answer.output.sections } : {}),
    });
    if (answer.verdict === 'approved') waiter.resolve(answer.output);
    else waiter.reject(Object.assign(new Error(answer.cause), { name: answer.error }));
  };

  // a pipeline the compiler refuses fails here, typed (`StageError('InvalidInput')` listing every
  // error), not at its first start; its warnings are logged once
  for (const pipeline of options.pipelines) compiledOf(pipeline);

  return {
    name: 'stepfunctions-local',
    machine: (p) => compiledOf(pipelines.forStart(p)),
    deploy(next) {
      allStages = new Map([...allStages, ...next.flatMap((p) => [...p.stages.values()]).map((s) => [s.name, s] as const)]);
      // a pipeline the compiler refuses fails the deploy, typed, before anything changes
      for (const pipeline of next) compiledOf(pipeline);
      pipelines = createPipelineSet(next);
    },
    transitions: (runId) => get(runId).transitions,
    async start(pipelineOrName, input, startOptions = {}) {
      const pipeline = pipelines.forStart(pipelineOrName, startOptions.version);
      if (typeof pipelineOrName !== 'string' && !pipelines.findForRun(pipeline.name, pinOf(pipeline))) pipelines.add(pipeline);
      const runId = startRunId(startOptions.runId, pipeline.name);
      if (runs.has(runId)) return { runId };
      const at = new Date().toISOString();
      const run: LocalRun = {
        runId,
        pipeline: pipeline.name,
        pin: pinOf(pipeline),
        executionArn: `${ACCOUNT_ARN}:execution:${pipeline.name}:${runId}`,
        startedAt: at,
        updatedAt: at,
        status: 'running',
        input,
        attempts: [],
        retries: [],
        completed: new Map(),
        redriving: false,
        emit,
        attemptCounts: new Map(),
        current: new Map(),
        transitions: 0,
        historyEvents: 0,
        done: Promise.resolve({ status: 'succeeded', output: null }),
        abort: () => undefined,
        redrives: 0,
      };
      runs.set(runId, run);
      emit({ type: 'run-started', runId, pipeline: pipeline.name, engine: 'stepfunctions-local', executionId: run.executionArn, input, at });
      const checked = validateRunInput(pipeline, input);
      if (!checked.ok) run.done = Promise.resolve(finish(run, { status: 'failed', error: checked.error }));
      else {
        run.input = checked.input;
        execute(run, pipeline, checked.input);
      }
      return { runId };
    },
    async result(runId, resultOptions = {}) {
      const run = get(runId);
      const done = run.done.then((o) => resolveOutcome(o, blobs));
      return resultWithin(runId, done, resultOptions.timeoutMs);
    },
    async status(runId) {
      const run = get(runId);
      const now = Date.now();
      const pendingReviews = run.outcome
        ? []
        : (await reviews.list(run.executionArn))
            .filter((r) => r.status === 'open' && Date.parse(r.expiresAt) > now)
            .map(({ executionArn: _a, tokenHash: _h, taskToken: _t, status: _s, ...pending }) => pending);
      const info: RunInfo = {
        runId,
        pipeline: run.pipeline,
        pipelineVersion: run.pin.version,
        engine: 'stepfunctions-local',
        status: run.outcome ? run.outcome.status : pendingReviews.length ? 'waiting' : 'running',
        currentSteps: [...run.current.keys()],
        startedAt: run.startedAt,
        updatedAt: run.updatedAt,
        attempts: run.attempts.map((a) => ({ ...a })),
        retries: run.retries.map((r) => ({ ...r })),
        pendingReviews,
      };
      if (run.finishedAt) info.finishedAt = run.finishedAt;
      if (run.outcome?.status === 'succeeded') info.output = run.outcome.output;
      if (run.outcome?.status === 'failed') info.error = run.outcome.error;
      const runUsage = summarizeUsage(info.attempts);
      if (runUsage) info.usage = runUsage;
      return info;
    },
    approve: (runId, gate, decision) => decide(runId, gate, decision, 'approved'),
    reject: (runId, gate, decision) => decide(runId, gate, decision, 'rejected'),
    async redrive(runId) {
      const run = get(runId);
      if (run.outcome?.status !== 'failed') throw apiError.runNotRedrivable(runId, run.outcome ? 'succeeded' : 'in-progress');
      // the run's own version, with the stage versions deployed now
      const pipeline = pipelines.forRun(runId, run.pipeline, run.pin, { allowStageChanges: true });
      const checked = validateRunInput(pipeline, run.input);
      if (!checked.ok) throw apiError.runNotRedrivable(runId, 'invalid-input');
      // outputs of stages whose version changed since the run's pin run again, with the new code
      const stages = pinOf(pipeline).stages;
      for (const [path, done] of run.completed) if (done.stage !== undefined && run.pin.stages[done.stage] !== stages[done.stage]) run.completed.delete(path);
      run.pin = { ...run.pin, stages };
      // a new execution of the same machine; completed steps answer from the run's records
      delete run.outcome;
      delete run.finishedAt;
      run.status = 'running';
      run.redriving = true;
      run.redrives += 1;
      run.updatedAt = new Date().toISOString();
      emit({ type: 'run-redriven', runId, redrive: run.redrives, executionId: run.executionArn, at: run.updatedAt });
      execute(run, pipeline, checked.input);
    },
    async list(filter = {}) {
      const rows: RunSummary[] = [];
      for (const r of runs.values()) {
        const status = r.outcome ? r.outcome.status : 'running';
        if (filter.status && filter.status !== status) continue;
        if (filter.pipeline && filter.pipeline !== r.pipeline) continue;
        rows.push({ runId: r.runId, pipeline: r.pipeline, engine: 'stepfunctions-local', status, startedAt: r.startedAt, updatedAt: r.updatedAt });
      }
      return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    },
    /** `await using` closes the engine (same as {@link Engine.close}). */
    [Symbol.asyncDispose]() {
      return this.close();
    },
    async close() {
      for (const run of runs.values()) if (!run.outcome) run.abort();
      for (const w of waiters.values()) w.reject(Object.assign(new Error('engine closed'), { name: 'States.Runtime' }));
      waiters.clear();
    },
  };
}

/** Binds the dead-letter Task to a local target: the `sqs:sendMessage` Parameters in, SQS's answer out. */
function bindDeadLetter(target: (message: DeadLetterMessage) => void | Promise<void>): Record<string, (input: unknown) => Promise<unknown>> {
  return {
    [DEAD_LETTER_STATE]: async (input) => {
      const { MessageBody } = input as { MessageBody: DeadLetterMessage | string };
      await target(typeof MessageBody === 'string' ? (JSON.parse(MessageBody) as DeadLetterMessage) : MessageBody);
      return { MessageId: randomUUID(), MD5OfMessageBody: '' };
    },
  };
}
