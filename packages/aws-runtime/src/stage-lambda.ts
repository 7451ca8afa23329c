import { createStageHandler, isFinalFailure, runIdOf, toLambdaError, type StageEvent, type StageHandler } from '@baton/adapter-stepfunctions/lambda';
import { createJsonLogger, type AnyStage, type Logger, type RunEvent, type RunObserver, type SerializedError } from '@baton/core';
import { attemptFinishedEvent, attemptStartedEvent, serializeError } from '@baton/core/engine';
import { createRegistryObserver, type RegistryObserver } from '@baton/registry';
import { createModelFromEnv, createS3BlobStore } from '@baton/stages';
import { DATABASE_SECRET_VARIABLE, openRegistryFromEnv } from './database.js';
import { awsClientConfig, configurationError, envValue, once, requireEnv, type Env } from './env.js';
import { invocationLogger } from './logging.js';
import { failureMetricLine, stdoutMetrics, type MetricWriter } from './metrics.js';
import type { DynamoModelLimiter } from './dynamo-limiter.js';
import { modelLimiterFromEnv, modelPricesFromEnv } from './model-budgets-env.js';

/**
 * The stages a stage function can run: a whole pipeline (an `AnyPipeline` is one), or (for a small bundle, one entry per
 * stage) the pipeline's name and the stage(s) of this function only.
 */
export interface PipelineStages {
  /** The pipeline's name (log lines, metrics, the registry). */
  name: string;
  /** The stages this function's entry imports, by name. */
  stages: ReadonlyMap<string, AnyStage>;
}

/** Options of {@link createStageLambda}. */
export interface StageLambdaOptions {
  /**
   * The pipeline whose stage this function runs (`BATON_STAGE` names the stage). A per-stage entry
   * passes only its stage, `{ name: 'report', stages: new Map([[generate.name, generate]]) }`, so
   * the function's bundle holds that stage's code and no other's (the app `writeStepFunctionsApp`
   * writes does this for every stage its pipeline module exports).
   */
  pipeline: PipelineStages;
  /** @default process.env */
  env?: Env;
  /** @default JSON lines on stderr, bound to the pipeline and stage */
  logger?: Logger;
  /** Where the `FailedSteps` EMF lines go. @default stdout */
  writeMetric?: MetricWriter;
  /** Claim-check threshold in bytes. @default 32768 */
  claimCheckThreshold?: number;
}

/**
 * After a failed connection to the registry, how long a stage function's invocations run
 * unrecorded before it tries again (so a database outage does not add a connect timeout to each).
 *
 * @example
 * ```ts
 * console.log(`registry retried every ${REGISTRY_RETRY_MS / 1000} s`);
 * ```
 */
export const REGISTRY_RETRY_MS = 30_000;

/**
 * The handler of a deployed stage Lambda (one function per stage):
 * `export const handler = createStageLambda({ pipeline })`. Configured from the environment, once per sandbox:
 *
 * - `BATON_STAGE`: the stage of `pipeline` to run (unknown: `ConfigurationError` listing the
 *   pipeline's stages); `BATON_BUCKET`: the claim-check bucket (`createS3BlobStore`);
 * - for a stage with `usesModel`, its model from `createModelFromEnv` (`BATON_MODEL_*`), the shared
 *   model limiter with `BATON_MODEL_BUDGETS_TABLE` ({@link modelLimiterFromEnv}) and token prices
 *   with `BATON_MODEL_PRICES` ({@link modelPricesFromEnv}: each attempt's cost, the run's in the registry);
 * - with `BATON_DATABASE_SECRET_ARN`, the run registry: every attempt and step is written (and
 *   flushed before the handler returns, so a frozen sandbox loses nothing). The registry is not
 *   the stage's business: a registry that cannot be reached or written is logged, the stage's
 *   result stands, and the connection is tried again after {@link REGISTRY_RETRY_MS}.
 *
 * A step that ends failed (no retry left, or none at all) also prints one Embedded Metric Format
 * line, `FailedSteps` in namespace `Baton` by `Pipeline` and `FailureClass`. Every log line
 * carries `executionArn`, `step` and `attempt`. A function that is not configured throws a
 * `ConfigurationError` (fatal: the run fails, saying what to set), recorded like any failed attempt.
 *
 * @example
 * ```ts
 * import { createStageLambda } from '@baton/aws-runtime';
 * import { reportPipeline } from '@baton/example-report';
 *
 * export const handler = createStageLambda({ pipeline: reportPipeline });
 * ```
 *
 * One stage per entry (its bundle holds only that stage):
 * ```ts
 * import { createStageLambda } from '@baton/aws-runtime';
 * import { generate } from '@baton/example-report';
 *
 * export const handler = createStageLambda({ pipeline: { name: 'report', stages: new Map([[generate.name, generate]]) } });
 * ```
 */
export function createStageLambda(options: StageLambdaOptions): StageHandler {
  const env = options.env ?? process.env;
  const stageName = envValue(env, 'BATON_STAGE');
  const pipelineName = envValue(env, 'BATON_PIPELINE') ?? options.pipeline.name;
  const base = options.logger ?? createJsonLogger({ bindings: { pipeline: pipelineName, stage: stageName ?? null } });
  const { logger, use } = invocationLogger(base);
  const writeMetric = options.writeMetric ?? stdoutMetrics;
  const registry = optionalRegistry(env, logger);
  const modelCalls = new Map<string, number>();
  // metrics first, then the registry (when connected); neither ever throws into the stage
  const observer: RunObserver = async (event) => {
    const key = `${event.runId}\u0000${'stepPath' in event ? event.stepPath : ''}`;
    if (event.type === 'attempt-finished') modelCalls.set(key, event.metrics?.modelCalls ?? 0);
    if (event.type === 'step-finished') {
      if (event.status === 'failed' && event.error) {
        const context = { ...(stageName ? { stage: stageName } : {}), stepPath: event.stepPath, modelCalls: modelCalls.get(key) ?? 0 };
        writeMetric(failureMetricLine('FailedSteps', { pipeline: pipelineName, error: event.error, context, runId: event.runId, stepPath: event.stepPath }));
      }
      modelCalls.delete(key);
    }
    await registry.current?.(event);
  };
  let limiter: DynamoModelLimiter | undefined;
  const runtime = once(async () => {
    const stage = stageOf(options.pipeline, stageName);
    const bucket = requireEnv(env, 'BATON_BUCKET', 'set it to the claim-check bucket (S3) the stages read and write');
    const model = stage.usesModel ? createModelFromEnv({ env, stage: stage.name }) : undefined;
    if (model?.configurationError)
      logger.error('model is not configured: every call of this stage will fail', { code: 'ConfigurationError', error: model.configurationError.message });
    // model budgets shared by every stage function, when the deployment declares them
    limiter = model ? modelLimiterFromEnv(env, logger) : undefined;
    // token prices, for each attempt's cost (a model that is not configured is priced by nobody)
    const prices = model && !model.configurationError ? modelPricesFromEnv(env, model.modelId) : undefined;
    return createStageHandler({
      stages: stage,
      blobs: createS3BlobStore({ bucket, clientConfig: awsClientConfig(env, 'S3') }),
      // the handler binds executionArn, step and attempt itself
      logger: base,
      observer,
      // a replay (Baton's redrive past Step Functions' 14 days) reuses every step that succeeded
      memo: true,
      ...(model ? { model } : {}),
      ...(limiter ? { limiter } : {}),
      ...(prices ? { prices } : {}),
      ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
    });
  });

  return async (event, context) => {
    const attempt = (event.retryCount ?? 0) + 1;
    const log = use(base.child({ executionArn: event.executionId, step: event.stepPath, attempt }));
    await registry.connect(log);
    const written = registry.current?.failures ?? 0;
    try {
      let handler: StageHandler;
      try {
        handler = await runtime();
      } catch (e) {
        const error = serializeError(e);
        log.error('stage function is not configured', { code: error.code, error: error.message });
        await recordUnrun(observer, event, attempt, error);
        throw toLambdaError(error);
      }
      const started = Date.now();
      try {
        const out = await handler(event, context);
        log.info('attempt succeeded', { durationMs: Date.now() - started });
        return out;
      } catch (e) {
        log.warn('attempt failed', { code: (e as Error).name, durationMs: Date.now() - started });
        throw e;
      }
    } finally {
      // the ends of this invocation's permits are written before the sandbox freezes
      await limiter?.flush();
      const current = registry.current;
      if (current) {
        await current.flush();
        if (current.failures > written) log.error('run registry writes failed; the stage result stands', { failedWrites: current.failures - written });
      }
    }
  };
}

/** The stage `BATON_STAGE` names, or a `ConfigurationError` saying which stages the pipeline has. */
function stageOf(pipeline: PipelineStages, name: string | undefined): AnyStage {
  const names = [...pipeline.stages.keys()].join(', ');
  if (!name)
    throw configurationError(`BATON_STAGE is not set: set it to the stage this function runs (pipeline "${pipeline.name}" has: ${names})`, {
      variable: 'BATON_STAGE',
    });
  const stage = pipeline.stages.get(name);
  if (!stage)
    throw configurationError(`BATON_STAGE is "${name}", which pipeline "${pipeline.name}" does not have (its stages: ${names})`, {
      variable: 'BATON_STAGE',
      stage: name,
    });
  return stage;
}

/** A failed attempt of a function that could not run its stage: recorded like any other (it is final). */
async function recordUnrun(observer: RunObserver, event: StageEvent, attempt: number, error: SerializedError): Promise<void> {
  const at = new Date().toISOString();
  const runId = runIdOf(event.executionId);
  const step = { runId, stepPath: event.stepPath, kind: 'task' };
  const attemptOf = { runId, stepPath: event.stepPath, stage: event.stage, attempt };
  const events: RunEvent[] = [
    ...(attempt === 1 ? [{ type: 'step-started' as const, ...step, at }] : []),
    attemptStartedEvent(attemptOf, at),
    attemptFinishedEvent(attemptOf, { ok: false, error }, at),
    ...(isFinalFailure(event.retry ?? [], error.code, attempt - 1) ? [{ type: 'step-finished' as const, ...step, status: 'failed' as const, error, at }] : []),
  ];
  for (const e of events) await observer(e);
}

/** The registry of a stage function: optional, connected lazily, never failing an invocation. */
function optionalRegistry(env: Env, logger: Logger): { current: RegistryObserver | undefined; connect(log: Logger): Promise<void> } {
  const configured = envValue(env, DATABASE_SECRET_VARIABLE) !== undefined;
  let retryAt = 0;
  const open = once(async () => {
    const registry = await openRegistryFromEnv(env);
    return registry ? createRegistryObserver(registry, { logger }) : undefined;
  });
  const state = {
    current: undefined as RegistryObserver | undefined,
    async connect(log: Logger): Promise<void> {
      if (state.current || !configured || Date.now() < retryAt) return;
      try {
        state.current = await open();
      } catch (e) {
        retryAt = Date.now() + REGISTRY_RETRY_MS;
        const error = serializeError(e);
        log.error('run registry unavailable: this invocation goes unrecorded', { code: error.code, error: error.message, retryInMs: REGISTRY_RETRY_MS });
      }
    },
  };
  return state;
}
