import type { z } from 'zod';
import { DEFAULT_CLAIM_CHECK_THRESHOLD, offloadLarge, resolveRefs, type OffloadOptions } from './claim-check.js';
import { StageError, serializeError, type SerializedError } from './errors.js';
import { attemptFinishedEvent, attemptStartedEvent, type RunEvent } from './observer.js';
import type { BlobStore } from './ports/blob-store.js';
import { realClock, type Clock } from './ports/clock.js';
import { silentLogger, type Logger } from './ports/logger.js';
import type { ModelClient } from './ports/model.js';
import type { PriceTable } from './quota/cost.js';
import type { ModelLimiter } from './quota/limiter.js';
import { meteredModel } from './quota/metered-model.js';
import type { RetryPolicy } from './retry.js';

/** What a stage may use besides its input. Everything with an effect goes through here. */
export interface StageContext {
  /** Where the stage reads and writes bytes; keys must be deterministic. */
  blobs: BlobStore;
  /** The model port; throws when the engine was configured without one. */
  model: ModelClient;
  /** Structured logger carrying runId, stepPath and attempt. */
  log: Logger;
  runId: string;
  /** Where in the pipeline this invocation is (`sections[3]/generate`). */
  stepPath: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the stage times out or the engine shuts down. */
  signal: AbortSignal;
  clock: Clock;
}

/**
 * A stage as written by a user: typed input and output, retry policy, timeout and a `run`.
 * Create it with {@link defineStage}.
 */
export interface StageDefinition<TInput extends z.ZodType = z.ZodType, TOutput extends z.ZodType = z.ZodType> {
  name: string;
  version: number;
  description?: string;
  input: TInput;
  output: TOutput;
  /** Retriers applied by every engine, in ASL order. */
  retry?: RetryPolicy[];
  /** Time limit of one attempt. @default 300000 */
  timeoutMs?: number;
  /** Codes of its own this stage throws (lets the validator check catch clauses). */
  throws?: string[];
  /**
   * This stage calls `ctx.model`; deployments give its function a model client and model
   * permissions (and only the functions of such stages). @default false
   */
  usesModel?: boolean;
  /**
   * Packages this stage imports that a deployment bundling each stage's code ships beside the
   * bundle instead of inside it: large dependencies that load their bulk on first use, so that a
   * cold start does not parse them (`['unpdf']`: its 1.6 MB pdf.js loads when the first PDF is
   * parsed). `BatonStateMachine` leaves them out of the stage function's bundle and copies each
   * package (one without dependencies of its own) into the function's `node_modules`. Engines
   * that run stages in one process ignore it. @default none
   */
  unbundled?: string[];
  run(input: z.output<TInput>, ctx: StageContext): Promise<z.input<TOutput>>;
}

/** A defined stage. */
export interface Stage<TInput extends z.ZodType = z.ZodType, TOutput extends z.ZodType = z.ZodType> extends StageDefinition<TInput, TOutput> {
  readonly kind: 'baton.stage';
}

/** Any stage, whatever its schemas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStage = Stage<any, any>;

/** Default stage timeout: five minutes. */
export const DEFAULT_STAGE_TIMEOUT_MS = 300_000;

/**
 * Defines a stage. Stage code runs only through {@link invokeStage}, on every engine.
 *
 * @example
 * ```ts
 * const upper = defineStage({
 *   name: 'upper', version: 1,
 *   input: z.object({ text: z.string() }), output: z.object({ text: z.string() }),
 *   async run(input) { return { text: input.text.toUpperCase() }; },
 * });
 * ```
 */
export function defineStage<TInput extends z.ZodType, TOutput extends z.ZodType>(definition: StageDefinition<TInput, TOutput>): Stage<TInput, TOutput> {
  if (!/^[A-Za-z][\w-]*$/.test(definition.name)) {
    throw new StageError('InvalidInput', `stage name "${definition.name}" must be letters, digits, "-" or "_"`);
  }
  return { ...definition, kind: 'baton.stage' };
}

/** Metrics of one invocation, written to the run's records. */
export interface InvocationMetrics {
  durationMs: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  modelLatencyMs: number;
  /** Model that answered the last call, for pricing tokens per model. */
  modelId?: string;
  /** Tokens reserved before the calls (prompt size, `maxTokens`): what a limiter waited for. */
  estimatedInputTokens?: number;
  estimatedOutputTokens?: number;
  /** Calls the provider throttled (`ThrottlingException`). */
  throttledCalls?: number;
  /** Time spent waiting for model budget; not counted against the stage's timeout. */
  budgetWaitMs?: number;
  /**
   * Input tokens charged for calls that failed after the model started on them (estimated: the
   * provider reports no usage for them); counted in `cost`, not in `inputTokens`.
   */
  failedInputTokens?: number;
  /** Cost of the priced calls, from the engine's price table. */
  cost?: number;
  /** Models called that the price table lacks. */
  unpricedModels?: string[];
}

/** The outcome of {@link invokeStage}: never a throw. */
export type InvocationResult = { ok: true; output: unknown; metrics: InvocationMetrics } | { ok: false; error: SerializedError; metrics: InvocationMetrics };

/** What an engine supplies to {@link invokeStage}. */
export interface InvokeOptions {
  blobs: BlobStore;
  runId: string;
  stepPath: string;
  attempt: number;
  model?: ModelClient;
  /** Model budgets every `ctx.model` call waits for (see `ModelLimiter`). */
  limiter?: ModelLimiter;
  /** Prices of model tokens, for each attempt's `metrics.cost`. */
  prices?: PriceTable;
  logger?: Logger;
  clock?: Clock;
  /** Engine shutdown; combined with the timeout. */
  signal?: AbortSignal;
  /** Overrides the stage's timeout (from the IR). */
  timeoutMs?: number;
  /** Claim-check threshold in bytes. @default 32768 */
  claimCheckThreshold?: number;
  /** What the claim check must leave in place in the output (see `offloadLarge`). */
  claimCheck?: OffloadOptions;
  /** Extra log fields, such as the engine execution id. */
  logBindings?: Record<string, unknown>;
  /**
   * The engine's last word on the result, before it is reported and returned: a Lambda turns a
   * stage stopped for want of invocation time into `States.Timeout`, the local engine fails an
   * output over its state limit.
   */
  mapResult?: (result: InvocationResult) => InvocationResult;
  /** Report the attempt's events (see {@link AttemptReport}); the result then carries its times. */
  report?: AttemptReport;
}

/**
 * How {@link invokeStage} reports the attempt it runs: `attempt-started` before the stage is
 * called, `attempt-finished` after (with `mapResult` applied), both built by
 * `attemptStartedEvent` / `attemptFinishedEvent` with the stage's name. Each field says when an
 * engine's timing differs from that.
 */
export interface AttemptReport {
  /** Receives the events, awaited: an engine that must not wait for its observers returns at once. */
  observe: (event: RunEvent) => void | Promise<void>;
  /** When the attempt started, if the engine took the time first (and journals it). @default the clock's now */
  startedAt?: string;
  /**
   * The engine stopping (a worker shutting down): aborted when the stage returns, the attempt did
   * not finish (the engine runs it again), so there is no `attempt-finished` and no `finished`.
   */
  stopped?: AbortSignal;
  /**
   * Leave `attempt-finished` to the engine: it emits the result's `finished` once it has journaled
   * the outcome, so a redelivered attempt whose outcome another delivery recorded does not report twice.
   */
  deferFinished?: boolean;
}

/** What {@link invokeStage} returns when it reports the attempt ({@link InvokeOptions.report}). */
export type ReportedInvocation = InvocationResult & {
  startedAt: string;
  finishedAt: string;
  /** The `attempt-finished` event (already observed unless `deferFinished`); absent when the engine stopped. */
  finished?: RunEvent;
};

/**
 * The one entry point to stage code. Resolves claim-check references in the input, parses it,
 * runs the stage under its timeout, parses the output, moves large output to the blob store and
 * maps anything thrown to the error taxonomy. It never throws. With `report`, it emits the
 * attempt's `attempt-started` and `attempt-finished` events around the call.
 *
 * @example
 * ```ts
 * const result = await invokeStage(stage, input, { blobs, runId, stepPath, attempt, report: { observe } });
 * ```
 */
export async function invokeStage(stage: AnyStage, rawInput: unknown, options: InvokeOptions & { report: AttemptReport }): Promise<ReportedInvocation>;
export async function invokeStage(stage: AnyStage, rawInput: unknown, options: InvokeOptions): Promise<InvocationResult>;
export async function invokeStage(stage: AnyStage, rawInput: unknown, options: InvokeOptions): Promise<InvocationResult | ReportedInvocation> {
  const { report, mapResult } = options;
  if (!report) {
    const result = await runStage(stage, rawInput, options);
    return mapResult ? mapResult(result) : result;
  }
  const clock = options.clock ?? realClock;
  const now = (): string => new Date(clock.now()).toISOString();
  const ref = { runId: options.runId, stepPath: options.stepPath, stage: stage.name, attempt: options.attempt };
  const startedAt = report.startedAt ?? now();
  await report.observe(attemptStartedEvent(ref, startedAt));
  const raw = await runStage(stage, rawInput, options);
  const result = mapResult ? mapResult(raw) : raw;
  const finishedAt = now();
  if (report.stopped?.aborted) return { ...result, startedAt, finishedAt };
  const finished = attemptFinishedEvent(ref, result, finishedAt);
  if (!report.deferFinished) await report.observe(finished);
  return { ...result, startedAt, finishedAt, finished };
}

async function runStage(stage: AnyStage, rawInput: unknown, options: InvokeOptions): Promise<InvocationResult> {
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const metrics: InvocationMetrics = { durationMs: 0, modelCalls: 0, inputTokens: 0, outputTokens: 0, modelLatencyMs: 0 };
  const logger = options.logger ?? silentLogger;
  const log =
    logger === silentLogger
      ? silentLogger
      : logger.child({ ...options.logBindings, runId: options.runId, stepPath: options.stepPath, attempt: options.attempt, stage: stage.name });
  const timeoutMs = options.timeoutMs ?? stage.timeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS;
  // the stage's signal is made when the stage first reads it (most never do); a timeout or a
  // shutdown before that leaves it aborted with the same reason
  let controller: AbortController | undefined;
  let abortReason: unknown;
  let aborted = false;
  const abort = (reason: unknown): void => {
    if (aborted) return;
    aborted = true;
    abortReason = reason;
    controller?.abort(reason);
  };
  // settles the wait for the stage early: a timeout or an engine shutdown
  let stop: ((e: unknown) => void) | undefined;
  // one listener per invocation on the engine's signal: aborts the stage and ends the wait for it
  const onOuterAbort = (): void => {
    abort(options.signal?.reason);
    stop?.(abortToError(options.signal!));
  };
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  // the timeout runs on real timers whatever the clock: its deadline is wall time too
  let deadline = Date.now() + timeoutMs;
  let budgetWaits = 0;
  let pausedAt = 0;
  let rearm: (() => void) | undefined;
  const pauseTimeout = (waiting: boolean): void => {
    if (waiting && budgetWaits++ === 0) pausedAt = Date.now();
    if (!waiting && --budgetWaits === 0) {
      deadline += Date.now() - pausedAt;
      clearTimeout(timer);
      if (rearm) timer = setTimeout(rearm, Math.max(0, deadline - Date.now()));
    }
  };
  try {
    const resolved = await resolveRefs(rawInput, options.blobs);
    const parsed = stage.input.safeParse(resolved);
    if (!parsed.success) {
      throw new StageError('InvalidInput', `input of stage "${stage.name}" is invalid: ${summarizeIssues(parsed.error.issues)}`, {
        details: { issues: parsed.error.issues },
      });
    }
    let model: ModelClient | undefined;
    const ctx: StageContext = {
      blobs: options.blobs,
      get model(): ModelClient {
        return (model ??= meteredModel(options.model, metrics, stage.name, {
          ...(options.limiter ? { limiter: options.limiter, onBudgetWait: pauseTimeout } : {}),
          ...(options.prices ? { prices: options.prices } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          runId: options.runId,
        }));
      },
      log,
      runId: options.runId,
      stepPath: options.stepPath,
      attempt: options.attempt,
      get signal(): AbortSignal {
        if (!controller) {
          controller = new AbortController();
          if (aborted) controller.abort(abortReason);
        }
        return controller.signal;
      },
      clock,
    };
    // a shut-down engine neither starts a stage nor waits for one that ignores its signal
    if (options.signal?.aborted) throw abortToError(options.signal);
    const early = new Promise<never>((_, reject) => {
      stop = reject;
      const fire = (): void => {
        // waiting for model budget is not the stage's time: the deadline moves by each wait
        if (budgetWaits > 0) return;
        if (Date.now() < deadline) {
          timer = setTimeout(fire, deadline - Date.now());
          return;
        }
        const err = new StageError('States.Timeout', `stage "${stage.name}" timed out after ${timeoutMs} ms`, {
          details: { timeoutMs },
        });
        timedOut = true;
        abort(err);
        reject(err);
      };
      rearm = fire;
      timer = setTimeout(fire, timeoutMs);
    });
    const raw = await Promise.race([stage.run(parsed.data, ctx), early]);
    const out = stage.output.safeParse(raw);
    if (!out.success) {
      throw new StageError('StageFailed', `output of stage "${stage.name}" does not match its schema: ${summarizeIssues(out.error.issues)}`, {
        retryable: false,
        details: { issues: out.error.issues },
      });
    }
    const output = await offloadLarge(
      out.data,
      options.blobs,
      `claims/${options.runId}`,
      options.claimCheckThreshold ?? DEFAULT_CLAIM_CHECK_THRESHOLD,
      options.claimCheck,
    );
    metrics.durationMs = clock.now() - started;
    log.debug('stage succeeded', { durationMs: metrics.durationMs });
    return { ok: true, output, metrics };
  } catch (e) {
    // a stage rejecting with an AbortError (fetch) on engine shutdown did not time out
    const error = serializeError(!timedOut && options.signal?.aborted ? abortToError(options.signal) : e);
    metrics.durationMs = clock.now() - started;
    log.warn('stage failed', { code: error.code, error: error.message, durationMs: metrics.durationMs });
    return { ok: false, error, metrics };
  } finally {
    rearm = undefined;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Formats zod issues as `path: message; …` for an error message. */
export function summarizeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ')
    .concat(issues.length > 5 ? `; and ${issues.length - 5} more` : '');
}

function abortToError(signal: AbortSignal): StageError {
  return new StageError('StageFailed', `stage aborted: ${String((signal.reason as Error | undefined)?.message ?? signal.reason)}`);
}
