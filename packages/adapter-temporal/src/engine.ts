import { ApplicationFailure, Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import {
  StageError,
  createMemoryBlobStore,
  resolveOutcome,
  type Engine,
  type ReviewDecision,
  type RunInfo,
  type RunOutcome,
  type RunState,
  type RunSummary,
} from '@baton/core';
import {
  apiError,
  resultWithin,
  assertGateOf,
  createPipelineSet,
  pinOf,
  safeObserver,
  findOpenReview,
  startRunId,
  stageMetaOf,
  summarizeUsage,
  validateRunInput,
  type PipelinePin,
  type EngineBaseOptions,
  type StageRunnerOptions,
} from '@baton/core/engine';
import { defaultAddress, DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from './defaults.js';
import { workflowOutcome } from './outcome.js';
import { createTemporalWorker, type TemporalWorker } from './worker.js';
import {
  BATON_WORKFLOW_TYPE,
  carryQuery,
  decideUpdate,
  snapshotQuery,
  type ActivityTuning,
  type BatonRunSnapshot,
  type BatonWorkflowInput,
  type CarriedState,
  type DecideArgs,
} from './workflow/contract.js';
import { GATE_OPENING, carryForRedrive, reviewsAtGate } from './workflow/run-state.js';

/**
 * Options of {@link createTemporalEngine}: core's engine fields (`EngineBaseOptions`), the stage
 * fields of its in-process worker (`StageRunnerOptions`; `status().usage` shows every worker's
 * prices), and where Temporal is. `blobs` is the in-process worker's claim-check store and where
 * `result()` reads a run's output references (with `worker: false`, the store the workers use;
 * default memory); `observer` hears the in-process worker's transitions and this engine's
 * `run-redriven`.
 */
export interface TemporalEngineOptions extends EngineBaseOptions, StageRunnerOptions {
  /** A client connection to reuse; otherwise one is opened lazily and closed by `close()`. */
  connection?: Connection;
  /** @default `TEMPORAL_ADDRESS` or `localhost:7233` */
  address?: string;
  /** @default 'default' */
  namespace?: string;
  /** @default 'baton' */
  taskQueue?: string;
  /** Run an in-process worker too (set false when `baton worker --engine temporal` runs elsewhere). @default true */
  worker?: boolean;
  /** A bundle from `bundleBatonWorkflow()` for the in-process worker. */
  workflowBundle?: WorkflowBundle;
  /** Heartbeat and timeout margins of stage activities. */
  activity?: ActivityTuning;
  /** Continue-as-new after this many history events. @default 10000 */
  continueAsNewAfterEvents?: number;
}

/** The Temporal engine: core's {@link Engine} plus access to the Temporal client. */
export interface TemporalEngine extends Engine {
  /** The Temporal client (connects on first use). */
  client(): Promise<Client>;
  readonly taskQueue: string;
}

/**
 * Creates the Temporal engine: each run is one execution (or a chain of continue-as-new
 * executions) of the generic Baton workflow with the run id as workflow id.
 *
 * @example
 * ```ts
 * const engine = createTemporalEngine({ pipelines: [pipeline], address: 'localhost:7233', taskQueue: 'reports' });
 * const { runId } = await engine.start('report', { topic: 'Q3' });
 * const outcome = await engine.result(runId);
 * await engine.close();
 * ```
 */
export function createTemporalEngine(options: TemporalEngineOptions): TemporalEngine {
  const pipelines = createPipelineSet(options.pipelines);
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const connection = options.connection ?? Connection.lazy({ address: options.address ?? defaultAddress() });
  const client = new Client({ connection, namespace });
  const blobs = options.blobs ?? createMemoryBlobStore();
  const observe = safeObserver([options.observer], options.logger);
  let worker: Promise<TemporalWorker> | undefined;
  const ensureWorker = async (): Promise<void> => {
    if (options.worker === false) return;
    worker ??= createTemporalWorker({
      // the engine's own map: a pipeline first seen by start() is known to the worker too
      pipelines,
      namespace,
      taskQueue,
      ...(options.address ? { address: options.address } : {}),
      blobs,
      ...pick(options, ['model', 'limiter', 'prices', 'logger', 'notifier', 'observer', 'claimCheckThreshold', 'workflowBundle']),
    });
    await worker;
  };
  const handle = (runId: string): WorkflowHandle => client.workflow.getHandle(runId);

  /** The workflow's description; `RunNotFound` when there is no workflow of this id. */
  const described = (runId: string): ReturnType<WorkflowHandle['describe']> =>
    handle(runId)
      .describe()
      .catch((e: unknown) => {
        throw e instanceof WorkflowNotFoundError ? apiError.runNotFound(runId) : e;
      });

  /**
   * Why a decision on an ended run is refused, as the workflow would say it: its carried reviews
   * (queried by replay) tell a used token and an unknown gate; otherwise the gate is not open.
   */
  const refuseEnded = async (runId: string, gate: string, decision: ReviewDecision): Promise<never> => {
    await described(runId);
    const carried = await handle(runId)
      .query(carryQuery)
      .catch(() => undefined);
    if (carried) {
      assertGateOf({ run: runId, gate }, carried.input.ir);
      findOpenReview([], { run: runId, gate }, decision, reviewsAtGate(carried.carry, gate).decided);
    }
    throw apiError.gateNotOpen(runId, gate);
  };

  /**
   * Refuses (`PipelineVersionNotLoaded`) a decision on a run pinned to a version this engine does
   * not hold: the workflow carries its IR and would go on, but its stages would not be this
   * deployment's. An engine that knows no version of the pipeline (a bare approver) does not judge.
   */
  const assertRunVersionLoaded = async (runId: string): Promise<void> => {
    const memo = (await described(runId)).memo;
    const name = typeof memo?.pipeline === 'string' ? memo.pipeline : undefined;
    if (name && pipelines.has(name)) pipelines.forRun(runId, name, memo?.pin as PipelinePin | undefined);
  };

  const decide = async (runId: string, gate: string, decision: ReviewDecision, verdict: DecideArgs['verdict']): Promise<void> => {
    await assertRunVersionLoaded(runId);
    const args: DecideArgs = { gate, verdict, token: decision.token, ...pick(decision, ['reviewer', 'comment', 'sections']) };
    // the review activity notifies the reviewer just before the workflow records the gate, so a
    // decision sent at once on the notice may arrive first: the workflow says so (GATE_OPENING)
    // and only that case is sent again for a while; a gate not reached is refused at once
    const deadline = Date.now() + GATE_OPENING_GRACE_MS;
    for (;;) {
      try {
        await handle(runId).executeUpdate(decideUpdate, { args: [args] });
        return;
      } catch (e) {
        // a closed (or unknown) workflow takes no update
        if (e instanceof WorkflowNotFoundError) return refuseEnded(runId, gate, decision);
        const cause = (e as { cause?: unknown }).cause;
        if (!(cause instanceof ApplicationFailure)) throw e;
        if (cause.type === GATE_OPENING) {
          if (Date.now() >= deadline) throw apiError.gateNotOpen(runId, gate);
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        // the validator refused with the code every engine uses (GateNotOpen, ReviewTokenRejected, …)
        throw new StageError(cause.type ?? 'StageFailed', cause.message, { details: { runId, gate }, cause: e });
      }
    }
  };

  return {
    name: 'temporal',
    taskQueue,
    client: async () => client,
    async start(pipelineOrName, input, startOptions = {}) {
      await ensureWorker();
      const pipeline = pipelines.forStart(pipelineOrName, startOptions.version);
      if (typeof pipelineOrName !== 'string' && !pipelines.findForRun(pipeline.name, pinOf(pipeline))) pipelines.add(pipeline);
      const pin = pinOf(pipeline);
      const runId = startRunId(startOptions.runId, pipeline.name);
      const checked = validateRunInput(pipeline, input);
      const workflowInput: BatonWorkflowInput = {
        runId,
        pipeline: pipeline.name,
        ir: pipeline.ir,
        stages: stageMetaOf(pipeline),
        pin,
        input: checked.ok ? checked.input : input,
        startedAt: new Date().toISOString(),
        ...(checked.ok ? {} : { invalid: checked.error }),
        ...(options.activity ? { activity: options.activity } : {}),
        ...(options.continueAsNewAfterEvents === undefined ? {} : { continueAsNewAfterEvents: options.continueAsNewAfterEvents }),
      };
      try {
        await client.workflow.start(BATON_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: runId,
          args: [workflowInput],
          memo: { pipeline: pipeline.name, pin },
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      }
      return { runId };
    },
    async result(runId, resultOptions = {}) {
      await ensureWorker();
      const done = workflowOutcome(handle(runId)).then(
        (o) => resolveOutcome(o, blobs),
        (e: unknown) => {
          throw e instanceof WorkflowNotFoundError ? apiError.runNotFound(runId) : e;
        },
      );
      return resultWithin(runId, done, resultOptions.timeoutMs);
    },
    async status(runId) {
      await ensureWorker();
      const h = handle(runId);
      const description = await described(runId);
      const closed = description.status.name !== 'RUNNING';
      // a closed run is queried by replaying it on a worker; without one, report what the server knows
      const snapshot: BatonRunSnapshot = await h.query(snapshotQuery).catch((e: unknown) => {
        if (!closed) throw e;
        const pipeline = typeof description.memo?.pipeline === 'string' ? description.memo.pipeline : '';
        return {
          runId,
          pipeline,
          startedAt: description.startTime.toISOString(),
          currentSteps: [],
          attempts: [],
          retries: [],
          pendingReviews: [],
          generation: 0,
        };
      });
      const outcome: RunOutcome | undefined = closed ? await workflowOutcome(h) : undefined;
      const state: RunState = outcome ? outcome.status : snapshot.pendingReviews.length ? 'waiting' : 'running';
      const pinned = description.memo?.pin as PipelinePin | undefined;
      const info: RunInfo = {
        runId,
        pipeline: snapshot.pipeline,
        ...(pinned ? { pipelineVersion: pinned.version } : {}),
        engine: 'temporal',
        status: state,
        currentSteps: closed ? [] : snapshot.currentSteps,
        startedAt: snapshot.startedAt,
        updatedAt: (description.closeTime ?? lastActivity(snapshot.attempts) ?? description.startTime).toISOString(),
        attempts: snapshot.attempts,
        retries: snapshot.retries,
        pendingReviews: closed ? [] : snapshot.pendingReviews,
      };
      if (description.closeTime) info.finishedAt = description.closeTime.toISOString();
      if (outcome?.status === 'succeeded') info.output = outcome.output;
      if (outcome?.status === 'failed') info.error = outcome.error;
      // from the attempts the workflow carries: after a continue-as-new, those it still holds (see README)
      const usage = summarizeUsage(info.attempts);
      if (usage) info.usage = usage;
      return info;
    },
    approve: (runId, gate, decision) => decide(runId, gate, decision, 'approved'),
    reject: (runId, gate, decision) => decide(runId, gate, decision, 'rejected'),
    async redrive(runId) {
      await ensureWorker();
      const h = handle(runId);
      const description = await described(runId);
      if (description.status.name === 'RUNNING') throw apiError.runNotRedrivable(runId, 'in-progress');
      if (description.status.name === 'COMPLETED') throw apiError.runNotRedrivable(runId, 'succeeded');
      const { input, carry } = await h.query(carryQuery);
      if (input.invalid) throw apiError.runNotRedrivable(runId, 'invalid-input');
      // the run's own version, with the stage versions loaded now: outputs of changed stages run again
      const pipeline = input.pin ? pipelines.forRun(runId, input.pipeline, input.pin, { allowStageChanges: true }) : pipelines.get(input.pipeline);
      const pin = pipeline && input.pin ? { ...input.pin, stages: pinOf(pipeline).stages } : undefined;
      const next: BatonWorkflowInput = {
        ...input,
        ...(pipeline ? { ir: pipeline.ir, stages: stageMetaOf(pipeline) } : {}),
        ...(pin ? { pin } : {}),
        carry: pin && input.pin ? withoutChangedStages(carryForRedrive(carry), input.pin.stages, pin.stages) : carryForRedrive(carry),
        origin: 'redrive',
        redrives: (input.redrives ?? 0) + 1,
      };
      const started = await client.workflow.start(BATON_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: runId,
        args: [next],
        memo: { pipeline: input.pipeline, ...(pin ? { pin } : {}) },
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      await observe({ type: 'run-redriven', runId, redrive: next.redrives!, executionId: started.firstExecutionRunId, at: new Date().toISOString() });
    },
    async list(filter = {}) {
      const seen = new Set<string>();
      const rows: RunSummary[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = '${BATON_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}'` })) {
        if (seen.has(wf.workflowId) || wf.status.name === 'CONTINUED_AS_NEW') continue;
        seen.add(wf.workflowId);
        const pipeline = typeof wf.memo?.pipeline === 'string' ? wf.memo.pipeline : '';
        const status: RunState = wf.status.name === 'RUNNING' ? 'running' : wf.status.name === 'COMPLETED' ? 'succeeded' : 'failed';
        if (filter.status && filter.status !== status) continue;
        if (filter.pipeline && filter.pipeline !== pipeline) continue;
        const startedAt = wf.startTime.toISOString();
        rows.push({ runId: wf.workflowId, pipeline, engine: 'temporal', status, startedAt, updatedAt: (wf.closeTime ?? wf.startTime).toISOString() });
      }
      return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    },
    /** `await using` closes the engine (same as {@link Engine.close}). */
    [Symbol.asyncDispose]() {
      return this.close();
    },
    async close() {
      if (worker) await (await worker.catch(() => undefined))?.shutdown();
      if (!options.connection) await connection.close();
    },
  };
}

/** A carried state without the outputs of stages whose version differs between two pins. */
function withoutChangedStages(carry: CarriedState, before: Record<string, number>, after: Record<string, number>): CarriedState {
  const completed: CarriedState['completed'] = {};
  for (const [path, done] of Object.entries(carry.completed)) if (done.stage === undefined || before[done.stage] === after[done.stage]) completed[path] = done;
  return { ...carry, completed };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function lastActivity(attempts: RunInfo['attempts']): Date | undefined {
  let last = '';
  for (const a of attempts) {
    const t = a.finishedAt ?? a.startedAt;
    if (t > last) last = t;
  }
  return last ? new Date(last) : undefined;
}

/** How long a decision waits for a gate whose reviewer was already notified to be recorded (GATE_OPENING). */
const GATE_OPENING_GRACE_MS = 10_000;
