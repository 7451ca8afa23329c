import { isStageError, StageError } from '../errors.js';
import type { ModelClient, ModelRequest, ModelResponse } from '../ports/model.js';
import type { InvocationMetrics } from '../stage.js';
import { estimateUsage } from './budget.js';
import { costOf, type PriceTable } from './cost.js';
import { DEFAULT_THROTTLE_RETRIES, type ModelLimiter, type ModelPermit } from './limiter.js';

/** What `invokeStage` gives the model it hands a stage as `ctx.model`. */
export interface MeterOptions {
  limiter?: ModelLimiter;
  prices?: PriceTable;
  /** Engine shutdown: ends a wait for budget. */
  signal?: AbortSignal;
  /** The run the calls are for: the limiter serves waiting runs in turn. */
  runId?: string;
  /** Told when a wait for budget starts and ends, so the stage's timeout does not run meanwhile. */
  onBudgetWait?: (waiting: boolean) => void;
}

/**
 * The model a stage sees: every call is counted (a throttled or failed call reached the provider
 * too), waits for the limiter's permit first when there is a limiter (that wait is neither an
 * attempt nor timed against the stage), ends the permit with the outcome, and adds tokens,
 * estimates and cost to the invocation's metrics.
 *
 * With a limiter, a throttled call waits for budget again and is sent again, up to
 * `limiter.throttleRetries` times in a row, within the same attempt (the budget could serve it
 * later: that is not the retry policy's business); then it fails with `ModelQuotaExhausted`.
 * Without a limiter a throttle fails the attempt with `ThrottlingException`, for the stage's retry
 * policy.
 *
 * Cost of failed calls (see {@link chargesInput}): a call the provider refused (throttled,
 * unavailable, access or request refused) costs nothing; a call that failed after the model
 * started on it (`ModelErrorException`, or given up by a timeout or shutdown while in flight) is
 * charged its estimated input tokens, as `failedInputTokens`, an upper bound since providers
 * report no usage for it.
 */
export function meteredModel(model: ModelClient | undefined, metrics: InvocationMetrics, stage: string, options: MeterOptions = {}): ModelClient {
  if (!model) {
    const fail = (): never => {
      throw new StageError('ConfigurationError', `stage "${stage}" called ctx.model but the engine has no ModelClient configured`);
    };
    return { modelId: 'none', complete: async () => fail() };
  }
  const limiter = options.limiter;
  const price = (usage: { inputTokens: number; outputTokens: number }, answeredBy?: string): void => {
    if (!options.prices) return;
    const cost = costOf(options.prices, answeredBy ? [model.modelId, answeredBy] : [model.modelId], usage);
    if (cost === undefined) metrics.unpricedModels = [...new Set([...(metrics.unpricedModels ?? []), model.modelId])];
    else metrics.cost = (metrics.cost ?? 0) + cost;
  };
  const acquire = async (estimate: ModelPermitEstimate, signal: AbortSignal | undefined): Promise<ModelPermit | undefined> => {
    if (!limiter) return undefined;
    const waitStarted = Date.now();
    options.onBudgetWait?.(true);
    try {
      return await limiter.acquire(model.modelId, estimate, { ...(signal ? { signal } : {}), ...(options.runId ? { runId: options.runId } : {}) });
    } finally {
      options.onBudgetWait?.(false);
      metrics.budgetWaitMs = (metrics.budgetWaitMs ?? 0) + (Date.now() - waitStarted);
    }
  };
  return {
    modelId: model.modelId,
    async complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse> {
      const estimate = estimateUsage(request);
      metrics.estimatedInputTokens = (metrics.estimatedInputTokens ?? 0) + estimate.inputTokens;
      metrics.estimatedOutputTokens = (metrics.estimatedOutputTokens ?? 0) + estimate.outputTokens;
      const signal = opts?.signal && options.signal ? AbortSignal.any([opts.signal, options.signal]) : (opts?.signal ?? options.signal);
      const retries = limiter ? (limiter.throttleRetries ?? DEFAULT_THROTTLE_RETRIES) : 0;
      for (let throttles = 0; ;) {
        const permit = await acquire(estimate, signal);
        metrics.modelCalls += 1;
        let response: ModelResponse;
        try {
          response = await model.complete(request, opts);
        } catch (e) {
          if (!(isStageError(e) && e.code === 'ThrottlingException')) {
            permit?.failed();
            if (chargesInput(e, signal ?? opts?.signal)) {
              metrics.failedInputTokens = (metrics.failedInputTokens ?? 0) + estimate.inputTokens;
              price({ inputTokens: estimate.inputTokens, outputTokens: 0 });
            }
            throw e;
          }
          metrics.throttledCalls = (metrics.throttledCalls ?? 0) + 1;
          permit?.throttled();
          if (!limiter) throw e;
          if (throttles++ < retries) continue;
          throw new StageError(
            'ModelQuotaExhausted',
            `model "${model.modelId}" throttled the call ${throttles} times in a row, each after waiting for budget: its quota is taken or zero`,
            { retryable: false, cause: e, details: { modelId: model.modelId, throttles, lastError: e.message } },
          );
        }
        permit?.settle(response.usage, { latencyMs: response.latencyMs });
        metrics.inputTokens += response.usage.inputTokens;
        metrics.outputTokens += response.usage.outputTokens;
        metrics.modelLatencyMs += response.latencyMs;
        metrics.modelId = response.modelId;
        price(response.usage, response.modelId);
        return response;
      }
    },
  };
}

type ModelPermitEstimate = ReturnType<typeof estimateUsage>;

/**
 * Whether a failed call is charged its input: the model had started on it (`ModelErrorException`),
 * or the call was given up while in flight (the stage's or the engine's signal aborted). Refusals
 * (`ThrottlingException`, `ServiceUnavailableException`, access and request errors) are not.
 */
export function chargesInput(error: unknown, signal: AbortSignal | undefined): boolean {
  if (isStageError(error)) return error.code === 'ModelErrorException';
  return signal?.aborted === true;
}
