import { isStageError, StageError } from '../errors.js';
import type { ModelClient, ModelRequest, ModelResponse } from '../ports/model.js';
import type { InvocationMetrics } from '../stage.js';
import { estimateUsage } from './budget.js';
import { costOf, type PriceTable } from './cost.js';
import type { ModelLimiter } from './limiter.js';

/** What `invokeStage` gives the model it hands a stage as `ctx.model`. */
export interface MeterOptions {
  limiter?: ModelLimiter;
  prices?: PriceTable;
  /** Engine shutdown: ends a wait for budget. */
  signal?: AbortSignal;
  /** Told when a wait for budget starts and ends, so the stage's timeout does not run meanwhile. */
  onBudgetWait?: (waiting: boolean) => void;
}

/**
 * The model a stage sees: every call is counted (a throttled or failed call reached the provider
 * too), waits for the limiter's permit first when there is a limiter (that wait is neither an
 * attempt nor timed against the stage), ends the permit with the outcome, and adds tokens,
 * estimates and cost to the invocation's metrics.
 */
export function meteredModel(model: ModelClient | undefined, metrics: InvocationMetrics, stage: string, options: MeterOptions = {}): ModelClient {
  if (!model) {
    const fail = (): never => {
      throw new StageError('ConfigurationError', `stage "${stage}" called ctx.model but the engine has no ModelClient configured`);
    };
    return { modelId: 'none', complete: async () => fail() };
  }
  return {
    modelId: model.modelId,
    async complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse> {
      const estimate = estimateUsage(request);
      metrics.estimatedInputTokens = (metrics.estimatedInputTokens ?? 0) + estimate.inputTokens;
      metrics.estimatedOutputTokens = (metrics.estimatedOutputTokens ?? 0) + estimate.outputTokens;
      let permit;
      if (options.limiter) {
        const waitStarted = Date.now();
        options.onBudgetWait?.(true);
        try {
          const signal = opts?.signal && options.signal ? AbortSignal.any([opts.signal, options.signal]) : (opts?.signal ?? options.signal);
          permit = await options.limiter.acquire(model.modelId, estimate, signal ? { signal } : undefined);
        } finally {
          options.onBudgetWait?.(false);
          metrics.budgetWaitMs = (metrics.budgetWaitMs ?? 0) + (Date.now() - waitStarted);
        }
      }
      metrics.modelCalls += 1;
      let response: ModelResponse;
      try {
        response = await model.complete(request, opts);
      } catch (e) {
        if (isStageError(e) && e.code === 'ThrottlingException') {
          metrics.throttledCalls = (metrics.throttledCalls ?? 0) + 1;
          permit?.throttled();
        } else permit?.failed();
        throw e;
      }
      permit?.settle(response.usage);
      metrics.inputTokens += response.usage.inputTokens;
      metrics.outputTokens += response.usage.outputTokens;
      metrics.modelLatencyMs += response.latencyMs;
      metrics.modelId = response.modelId;
      if (options.prices) {
        const cost = costOf(options.prices, [model.modelId, response.modelId], response.usage);
        if (cost === undefined) metrics.unpricedModels = [...new Set([...(metrics.unpricedModels ?? []), model.modelId])];
        else metrics.cost = (metrics.cost ?? 0) + cost;
      }
      return response;
    },
  };
}
