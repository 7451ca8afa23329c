import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type DescribeExecutionOutput,
  SFNClient,
} from '@aws-sdk/client-sfn';
import {
  StageError,
  resolveOutcome,
  silentLogger,
  type AnyPipeline,
  type Engine,
  type PendingReview,
  type ReviewDecision,
  type RunInfo,
  type RunOutcome,
} from '@baton/core';
import { apiError, assertGateOf, containsRef, startRunId, resolvePipeline, safeObserver, validateRunInput, type EngineBaseOptions } from '@baton/core/engine';
import { replayExecutionName } from '../lambda/event.js';
import { decideReview, type ReviewStore } from '../lambda/reviews.js';
import { createHistoryReader } from './history-reader.js';
import { readHistory } from './history.js';
import { listExecutions } from './list.js';
import { machinesOf } from './machines.js';
import { canonicalJson, isoOf, outcomeOf, parseJson, pendingOf, refusedInfo, type RefusedRun } from './run-view.js';
import { awsErrorName, executionArnOf, executionNameProblem, sfnApiError } from './service-errors.js';

/**
 * The engine name runs of deployed state machines carry (the registry writer records the same).
 *
 * @example
 * ```ts
 * const mine = (await registry.listRuns({ engine: STEP_FUNCTIONS_ENGINE })).length;
 * ```
 */
export const STEP_FUNCTIONS_ENGINE = 'stepfunctions';

/**
 * Options of {@link createStepFunctionsEngine}: core's engine fields (`EngineBaseOptions`) and
 * where the deployment is. Stages run in the deployed functions, so it takes no stage fields.
 * - `pipelines`: the deployed pipelines: their input schemas (start), stage retry policies (status) and names.
 * - `blobs`: the deployment's blob store (the bucket the stage functions' claim check writes to,
 *   e.g. the stages package's S3 store): `result()` reads the claim-check references of a run's
 *   output from it, so it returns values as every engine does. Without it, references are
 *   returned as they are (with a warning in the log).
 * - `observer` receives the events of the runs this engine records itself: a start refused for
 *   invalid input (no execution is started). Deployed runs are recorded by the deployment's own functions.
 */
export interface StepFunctionsEngineOptions extends EngineBaseOptions {
  /**
   * An `SFNClient`: region, credentials and endpoint (`AWS_ENDPOINT_URL_SFN`) are its business; a
   * client given here is not destroyed by `close`. @default `new SFNClient({})`, configured from
   * the environment (AWS_REGION, credentials chain, AWS_ENDPOINT_URL_SFN) and destroyed by `close`
   */
  client?: SFNClient;
  /**
   * The deployed state machine: of the pipeline it is named after (`BatonStateMachine` names the
   * machine after its pipeline), or of the only pipeline in `pipelines`. Give the alias ARN
   * `BatonStateMachine` publishes (`<machine ARN>:v<pipeline version>`, its `aliasArn`) or a version ARN: runs
   * then start on a published version, which Step Functions records (`stateMachineAliasArn`,
   * `stateMachineVersionArn`), and a replay (`redrive` past the 14 days) starts on the run's
   * pipeline version: its alias, else that version. With the unqualified ARN a replay runs
   * whatever definition is deployed at the time.
   */
  stateMachineArn?: string;
  /** Per pipeline name, the ARN of its state machine (a deployment of several pipelines). */
  stateMachines?: Record<string, string>;
  /**
   * Where the deployed review gate records pending reviews and their task tokens: the registry's
   * `createRegistryReviewStore(registry)` in production. Not closed by the engine.
   */
  reviews: ReviewStore;
  /** How often `result` asks DescribeExecution whether the run ended. @default 1000 */
  pollIntervalMs?: number;
  /** Executions `list` reads per state machine, newest first. @default 1000 */
  listLimit?: number;
  /**
   * What `redrive` does where Step Functions refuses RedriveExecution (past the 14 days after an
   * execution stopped, or another reason the service gives): `true` replays the run, a new
   * execution `<runId>.r<n>` of the same machine and input whose stage functions return the
   * recorded output of every step that already succeeded (the step memo that
   * `createStageLambda` keeps in the blob bucket), so only what failed runs again; it starts on
   * the run's own pipeline version (its alias `v<n>`, else the state machine version it started
   * on, see `stateMachineArn`), whose definition calls the Lambda versions published with it;
   * `false` throws the refusal. The run keeps its id: `status`, `result`,
   * `approve` and `list` follow its newest execution. @default true
   */
  replayWhenRefused?: boolean;
}

/** Where a run lives: its newest execution and the pipeline of its machine. */
interface RunRef {
  executionArn: string;
  pipeline: string;
  /** 0: the run's first execution; n: its replay `<runId>.r<n>`. */
  replay: number;
}

/** An alias of one pipeline version, as `BatonStateMachine` names them: `<machine ARN>:v<pipeline version>`. */
const PIPELINE_VERSION_ALIAS = /:stateMachine:[^:]+:v[1-9][0-9]*$/;

const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const FAILED = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Core's {@link Engine} for pipelines deployed as Step Functions state machines (STANDARD), on
 * the real Step Functions API. `start` is StartExecution named after the run id (the same name
 * and input is the same run); `status` reads DescribeExecution and the whole GetExecutionHistory;
 * `result` polls DescribeExecution; `approve`/`reject` check the review token against the review
 * store (hash, single use, reviewer) and answer the gate's task token with SendTaskSuccess /
 * SendTaskFailure; `redrive` is RedriveExecution; `list` is ListExecutions.
 *
 * Input is parsed by the pipeline's schema before anything is sent (defaults applied). Invalid
 * input starts no execution: the run is failed with `InvalidInput` in this engine object (and in
 * the `observer`, e.g. the registry), since a deployed machine cannot record a run that never ran.
 *
 * @example
 * ```ts
 * const engine = createStepFunctionsEngine({
 *   client: new SFNClient({}),
 *   stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:report',
 *   pipelines: [reportPipeline],
 *   reviews: createRegistryReviewStore(await createPostgresRegistry({ connectionString })),
 * });
 * const { runId } = await engine.start('report', input);
 * console.log((await engine.status(runId)).currentSteps);
 * ```
 */
export function createStepFunctionsEngine(options: StepFunctionsEngineOptions): Engine {
  const { reviews } = options;
  const client = options.client ?? new SFNClient({});
  const pipelines = new Map(options.pipelines.map((p) => [p.name, p]));
  const machines = machinesOf(options);
  const stages = new Map(options.pipelines.flatMap((p) => [...p.stages.values()]).map((s) => [s.name, s]));
  const pollMs = options.pollIntervalMs ?? 1000;
  const logger = options.logger ?? silentLogger;
  // result() answers values, as every engine does (core's Engine.result)
  const valuesOf = async (runId: string, outcome: RunOutcome): Promise<RunOutcome> => {
    if (options.blobs) return resolveOutcome(outcome, options.blobs);
    if (outcome.status === 'succeeded' && containsRef(outcome.output)) {
      logger.warn('result() returns claim-check references: the engine has no blob store (option blobs) to read them from', { runId });
    }
    return outcome;
  };
  const observe = safeObserver([options.observer], logger);
  const known = new Map<string, RunRef>();
  const refused = new Map<string, RefusedRun>();
  /** Redrives this engine asked for: `result` ignores the end it saw before them. */
  const redriven = new Map<string, number>();
  const sleepers = new Set<() => void>();
  let closed = false;

  /** The call's answer, or its failure as a Baton error saying what was being done. */
  const call = <T>(answer: Promise<T>, doing: string): Promise<T> =>
    answer.catch((e: unknown) => {
      throw sfnApiError(e, doing);
    });

  /** Describes an execution, or `undefined` when it does not exist. */
  const tryDescribe = async (executionArn: string, runId: string): Promise<DescribeExecutionOutput | undefined> => {
    try {
      return await client.send(new DescribeExecutionCommand({ executionArn }));
    } catch (e) {
      if (awsErrorName(e) !== 'ExecutionDoesNotExist') throw sfnApiError(e, `DescribeExecution of run "${runId}"`);
      return undefined;
    }
  };

  /**
   * Finds the run's execution (on each machine in turn, the first time) and describes it; a
   * failed execution is followed to its replays (`<runId>.r<n>`), which only start after it failed.
   */
  const describe = async (runId: string): Promise<{ ref: RunRef; d: DescribeExecutionOutput }> => {
    const cached = known.get(runId);
    const candidates: RunRef[] = cached
      ? [cached]
      : executionNameProblem(runId)
        ? []
        : [...machines].map(([pipeline, arn]) => ({ pipeline, executionArn: executionArnOf(arn, runId), replay: 0 }));
    for (let ref of candidates) {
      let d = await tryDescribe(ref.executionArn, runId);
      if (!d) continue;
      while (FAILED.has(d.status ?? '')) {
        const next = { ...ref, replay: ref.replay + 1, executionArn: executionArnOf(machines.get(ref.pipeline)!, replayExecutionName(runId, ref.replay + 1)) };
        const replayed = await tryDescribe(next.executionArn, runId);
        if (!replayed) break;
        [ref, d] = [next, replayed];
      }
      known.set(runId, ref);
      return { ref, d };
    }
    throw apiError.runNotFound(runId);
  };

  /**
   * Baton's own redrive: the run's next replay execution, with the same input, on the run's own
   * pipeline version, never on a definition of another pipeline version deployed since. Step
   * Functions records what an execution started on (`stateMachineAliasArn`,
   * `stateMachineVersionArn`): a run started through a pipeline-version alias (`v<n>`, one per
   * pipeline version as `BatonStateMachine` publishes them) replays on that alias, i.e. on the
   * newest definition of its pipeline version (stage fixes deployed since included); otherwise on
   * the version it started on. An execution started on the unqualified machine ARN has neither:
   * its replay starts on that ARN (the current definition), with a warning.
   */
  const replay = async (runId: string, ref: RunRef, d: DescribeExecutionOutput, reason: string): Promise<void> => {
    const machine = machines.get(ref.pipeline)!;
    const target =
      (d.stateMachineAliasArn && PIPELINE_VERSION_ALIAS.test(d.stateMachineAliasArn) ? d.stateMachineAliasArn : undefined) ??
      d.stateMachineVersionArn ??
      machine;
    if (!d.stateMachineVersionArn) {
      logger.warn(
        'run started on the unqualified state machine: its replay runs the definition deployed now (start runs on a version or alias ARN to pin them)',
        { runId, stateMachineArn: machine },
      );
    }
    const next: RunRef = { ...ref, replay: ref.replay + 1, executionArn: executionArnOf(machine, replayExecutionName(runId, ref.replay + 1)) };
    const name = replayExecutionName(runId, next.replay);
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn: target, name, input: d.input ?? '{}' }));
    } catch (e) {
      const aws = awsErrorName(e);
      if (target !== machine && (aws === 'ResourceNotFound' || aws === 'StateMachineDoesNotExist')) {
        throw new StageError(
          'PipelineVersionNotLoaded',
          `run "${runId}" started on ${target}, which no longer exists: it cannot be replayed on its own pipeline version (retain published versions and aliases while runs may still need them)`,
          {
            retryable: false,
            details: { runId, stateMachineArn: target, awsError: aws },
            cause: e,
          },
        );
      }
      // another process replayed it first: the same replay
      if (aws !== 'ExecutionAlreadyExists') throw sfnApiError(e, `StartExecution of replay "${name}" of run "${runId}"`);
    }
    known.set(runId, next);
    redriven.delete(runId);
    logger.info('run replayed: Step Functions refused RedriveExecution, a new execution reuses the steps that succeeded', {
      runId,
      executionArn: next.executionArn,
      replay: next.replay,
      stateMachineArn: target,
      reason,
    });
  };

  const history = createHistoryReader(client);

  const openReviews = async (executionArn: string): Promise<PendingReview[]> => {
    const now = Date.now();
    return (await reviews.list(executionArn)).filter((r) => r.status === 'open' && Date.parse(r.expiresAt) > now).map(pendingOf);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const irOf = (name: string): { ir?: AnyPipeline['ir'] } => {
    const ir = pipelines.get(name)?.ir;
    return ir ? { ir } : {};
  };

  const decide = async (runId: string, gate: string, decision: ReviewDecision, verdict: 'approved' | 'rejected'): Promise<void> => {
    const failed = refused.get(runId);
    const ir = pipelines.get(failed?.pipeline ?? '')?.ir;
    if (failed) {
      // it failed on its input: no gate ever opened
      if (ir) assertGateOf({ run: runId, gate }, ir);
      throw apiError.gateNotOpen(runId, gate);
    }
    const { ref } = await describe(runId);
    const answer = await decideReview(reviews, ref.executionArn, gate, decision, verdict, { runId, ...irOf(ref.pipeline) });
    try {
      if (answer.verdict === 'approved') await client.send(new SendTaskSuccessCommand({ taskToken: answer.taskToken, output: JSON.stringify(answer.output) }));
      else await client.send(new SendTaskFailureCommand({ taskToken: answer.taskToken, error: answer.error, cause: answer.cause }));
    } catch (e) {
      const name = awsErrorName(e);
      // the gate timed out or the execution ended between the review's check and the answer
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') {
        const closed = apiError.gateNotOpen(runId, gate);
        throw new StageError(closed.code, closed.message, { details: { ...(closed.details as object), awsError: name }, cause: e });
      }
      throw sfnApiError(e, `${answer.verdict === 'approved' ? 'SendTaskSuccess' : 'SendTaskFailure'} for gate "${gate}" of run "${runId}"`);
    }
    logger.info('review decided', { runId, executionArn: ref.executionArn, gate, decision: verdict });
  };

  return {
    name: STEP_FUNCTIONS_ENGINE,
    async start(pipelineOrName, input, startOptions = {}) {
      const pipeline = resolvePipeline(pipelines, pipelineOrName);
      const stateMachineArn = machines.get(pipeline.name);
      if (!stateMachineArn) throw apiError.pipelineNotFound(pipeline.name, [...machines.keys()]);
      const runId = startRunId(startOptions.runId, pipeline.name);
      const problem = executionNameProblem(runId);
      if (problem) throw new StageError('InvalidInput', `run id "${runId}" cannot name a Step Functions execution: it ${problem}`);
      if (refused.has(runId)) return { runId };
      const checked = validateRunInput(pipeline, input);
      if (!checked.ok) {
        const at = new Date().toISOString();
        refused.set(runId, { pipeline: pipeline.name, error: checked.error, at });
        await observe({ type: 'run-started', runId, pipeline: pipeline.name, engine: STEP_FUNCTIONS_ENGINE, input, at });
        await observe({ type: 'run-finished', runId, status: 'failed', error: checked.error, at });
        return { runId };
      }
      const ref: RunRef = { pipeline: pipeline.name, executionArn: executionArnOf(stateMachineArn, runId), replay: 0 };
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name: runId, input: JSON.stringify(checked.input ?? {}) }));
        logger.info('execution started', { runId, executionArn: ref.executionArn });
      } catch (e) {
        if (awsErrorName(e) !== 'ExecutionAlreadyExists') throw sfnApiError(e, `StartExecution of run "${runId}" on ${stateMachineArn}`);
        // the service answers this for a closed execution whatever its input: compare it ourselves
        const d = await call(client.send(new DescribeExecutionCommand({ executionArn: ref.executionArn })), `DescribeExecution of run "${runId}"`);
        if (canonicalJson(parseJson(d.input)) !== canonicalJson(checked.input ?? {})) {
          throw new StageError(
            'InvalidInput',
            `run id "${runId}" is already an execution of ${stateMachineArn} with another input; start with another run id`,
            {
              details: { awsError: 'ExecutionAlreadyExists', executionArn: ref.executionArn },
            },
          );
        }
      }
      known.set(runId, ref);
      return { runId };
    },

    async result(runId, resultOptions = {}) {
      const r = refused.get(runId);
      if (r) return { status: 'failed', error: r.error };
      const deadline = resultOptions.timeoutMs === undefined ? Infinity : Date.now() + resultOptions.timeoutMs;
      for (;;) {
        const { d } = await describe(runId);
        if (ENDED.has(d.status ?? '') && (d.redriveCount ?? 0) >= (redriven.get(runId) ?? 0)) return valuesOf(runId, outcomeOf(d));
        if (closed) throw new StageError('StageFailed', `the engine was closed while waiting for run "${runId}" (the execution goes on in Step Functions)`);
        const wait = Math.min(pollMs, deadline - Date.now());
        if (wait <= 0) throw apiError.resultTimedOut(runId, resultOptions.timeoutMs!);
        await sleep(wait);
      }
    },

    async status(runId) {
      const r = refused.get(runId);
      if (r) return refusedInfo(runId, r, STEP_FUNCTIONS_ENGINE);
      const { ref, d } = await describe(runId);
      const ended = ENDED.has(d.status ?? '');
      const view = readHistory(await history(ref.executionArn), { ended, retryOf: (stage) => stages.get(stage)?.retry ?? [] });
      const pendingReviews = ended ? [] : await openReviews(ref.executionArn);
      const startedAt = isoOf(d.startDate) ?? new Date(0).toISOString();
      const info: RunInfo = {
        runId,
        pipeline: ref.pipeline,
        engine: STEP_FUNCTIONS_ENGINE,
        status: d.status === 'SUCCEEDED' ? 'succeeded' : ended ? 'failed' : pendingReviews.length ? 'waiting' : 'running',
        currentSteps: view.currentSteps,
        startedAt,
        updatedAt: (ended ? isoOf(d.stopDate) : undefined) ?? view.lastEventAt ?? startedAt,
        attempts: view.attempts,
        retries: view.retries,
        pendingReviews,
      };
      if (ended) {
        const outcome = outcomeOf(d);
        const finishedAt = isoOf(d.stopDate);
        if (finishedAt) info.finishedAt = finishedAt;
        if (outcome.status === 'succeeded') info.output = outcome.output;
        else info.error = outcome.error;
      }
      return info;
    },

    approve: (runId, gate, decision) => decide(runId, gate, decision, 'approved'),
    reject: (runId, gate, decision) => decide(runId, gate, decision, 'rejected'),

    async redrive(runId) {
      if (refused.has(runId)) throw apiError.runNotRedrivable(runId, 'invalid-input');
      const { ref, d } = await describe(runId);
      if (!ENDED.has(d.status ?? '')) throw apiError.runNotRedrivable(runId, 'in-progress');
      if (d.status === 'SUCCEEDED') throw apiError.runNotRedrivable(runId, 'succeeded');
      const refusal = (reason: string, awsError?: string): StageError =>
        new StageError(
          'RunNotRedrivable',
          `Step Functions cannot redrive run "${runId}": ${reason}. RedriveExecution restarts a failed, timed-out or aborted STANDARD execution from its failed states for 14 days after it stopped; past that, replay it (the engine option replayWhenRefused) or start a new run with the same input`,
          { details: { executionArn: ref.executionArn, ...(awsError ? { awsError } : {}) } },
        );
      const whenRefused = async (reason: string, awsError?: string): Promise<void> => {
        if (options.replayWhenRefused === false) throw refusal(reason, awsError);
        await replay(runId, ref, d, reason);
      };
      if (d.redriveStatus === 'NOT_REDRIVABLE') return whenRefused(d.redriveStatusReason ?? 'the execution is not redrivable');
      try {
        await client.send(new RedriveExecutionCommand({ executionArn: ref.executionArn }));
      } catch (e) {
        if (awsErrorName(e) === 'ExecutionNotRedrivable') return whenRefused((e as Error).message, 'ExecutionNotRedrivable');
        throw sfnApiError(e, `RedriveExecution of run "${runId}"`);
      }
      redriven.set(runId, (d.redriveCount ?? 0) + 1);
      logger.info('execution redriven', { runId, executionArn: ref.executionArn, redriveCount: (d.redriveCount ?? 0) + 1 });
    },

    async list(filter = {}) {
      const rows = await listExecutions({ client, machines, reviews, limit: options.listLimit ?? 1000, filter });
      for (const [runId, r] of refused) {
        if ((filter.status && filter.status !== 'failed') || (filter.pipeline && filter.pipeline !== r.pipeline)) continue;
        rows.push({ runId, pipeline: r.pipeline, engine: STEP_FUNCTIONS_ENGINE, status: 'failed', startedAt: r.at, updatedAt: r.at });
      }
      return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    },

    /** `await using` closes the engine (same as {@link Engine.close}). */
    [Symbol.asyncDispose]() {
      return this.close();
    },
    async close() {
      closed = true;
      for (const wake of [...sleepers]) wake();
      if (!options.client) client.destroy();
    },
  };
}
