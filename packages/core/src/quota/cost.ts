import type { AttemptRecord } from '../engine.js';
import { StageError } from '../errors.js';
import type { TokenUsage } from '../ports/model.js';

/** A model's price, per 1,000 or per 1,000,000 tokens, in the table's currency (say USD). */
export type ModelPrice = { inputPer1K: number; outputPer1K: number } | { inputPer1M: number; outputPer1M: number };

/**
 * Prices by model id (the id the model client was configured with, or the one the provider
 * answered with). A call to a model missing from the table has no cost: the run's usage lists it
 * in `unpricedModels` and its cost covers the priced calls only.
 *
 * @example
 * ```ts
 * const prices: PriceTable = { 'anthropic.claude-3-5-haiku-20241022-v1:0': { inputPer1M: 0.8, outputPer1M: 4 } };
 * ```
 */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * Checks a price table where it is declared (when an engine or worker is created): a table that
 * does not price the engine's model would leave every call of the run unpriced, so it is refused
 * (`ConfigurationError`) instead of found out in the run's cost. No table at all is allowed: then
 * nothing is priced. Prices must be finite and not negative.
 *
 * @example
 * ```ts
 * validatePrices({ 'my-model': { inputPer1M: 3, outputPer1M: 15 } }, model?.modelId);
 * ```
 */
export function validatePrices(prices: PriceTable | undefined, modelId: string | undefined): void {
  if (!prices) return;
  for (const [model, price] of Object.entries(prices)) {
    for (const [field, v] of Object.entries(price)) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new StageError('ConfigurationError', `price of model "${model}": ${field} must be a number of 0 or more, got ${String(v)}`, {
          details: { modelId: model, field },
        });
      }
    }
  }
  if (modelId !== undefined && !Object.hasOwn(prices, modelId)) {
    throw new StageError(
      'ConfigurationError',
      `the price table has no price for model "${modelId}" (it prices ${
        Object.keys(prices)
          .map((m) => `"${m}"`)
          .join(', ') || 'nothing'
      }); add it, or pass no price table`,
      {
        details: { modelId, priced: Object.keys(prices) },
      },
    );
  }
}

/** The cost of one call's usage, or undefined when no id of the model is in the table. */
export function costOf(prices: PriceTable, modelIds: readonly string[], usage: TokenUsage): number | undefined {
  const price = modelIds.map((id) => prices[id]).find((p) => p !== undefined);
  if (!price) return undefined;
  return 'inputPer1K' in price
    ? (usage.inputTokens * price.inputPer1K + usage.outputTokens * price.outputPer1K) / 1000
    : (usage.inputTokens * price.inputPer1M + usage.outputTokens * price.outputPer1M) / 1_000_000;
}

/** Model usage summed over attempts. */
export interface UsageTotals {
  attempts: number;
  modelCalls: number;
  /** Calls the provider throttled. */
  throttledCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** What the limiter reserved before the answers came (prompt size, `maxTokens`). */
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  /** Time stages waited for model budget (not counted as attempts nor against their timeout). */
  budgetWaitMs: number;
  /** Input tokens charged for calls that failed after the model started on them (in `cost`; absent in records written before it). */
  failedInputTokens?: number;
  /** Cost of the priced calls, in the price table's currency. */
  cost: number;
}

/** A run's model usage and cost: in total, per section (map item) and per step. */
export interface RunUsage extends UsageTotals {
  /** By outermost map item (`sections[3]`); steps outside any map are not in it. */
  bySection: Record<string, UsageTotals>;
  /** By step path, every attempt of the step. */
  byStep: Record<string, UsageTotals>;
  /** Models called that the price table lacks (their calls cost nothing here). */
  unpricedModels?: string[];
}

/**
 * Folds attempts' metrics into a run's usage, or undefined when no attempt has metrics yet.
 * Engines that report {@link AttemptRecord}s put it in `RunInfo.usage`.
 */
export function summarizeUsage(attempts: readonly AttemptRecord[]): RunUsage | undefined {
  const metered = attempts.filter((a) => a.metrics);
  if (metered.length === 0) return undefined;
  const total = emptyTotals();
  const bySection: Record<string, UsageTotals> = {};
  const byStep: Record<string, UsageTotals> = {};
  const unpriced = new Set<string>();
  for (const a of metered) {
    const m = a.metrics!;
    const section = /^[^[]*\[\d+\]/.exec(a.stepPath)?.[0];
    for (const t of [total, (byStep[a.stepPath] ??= emptyTotals()), ...(section ? [(bySection[section] ??= emptyTotals())] : [])]) {
      t.attempts += 1;
      t.modelCalls += m.modelCalls;
      t.throttledCalls += m.throttledCalls ?? 0;
      t.inputTokens += m.inputTokens;
      t.outputTokens += m.outputTokens;
      t.estimatedInputTokens += m.estimatedInputTokens ?? 0;
      t.estimatedOutputTokens += m.estimatedOutputTokens ?? 0;
      t.budgetWaitMs += m.budgetWaitMs ?? 0;
      t.failedInputTokens = (t.failedInputTokens ?? 0) + (m.failedInputTokens ?? 0);
      t.cost += m.cost ?? 0;
    }
    for (const id of m.unpricedModels ?? []) unpriced.add(id);
  }
  return { ...total, bySection, byStep, ...(unpriced.size ? { unpricedModels: [...unpriced].sort() } : {}) };
}

function emptyTotals(): UsageTotals {
  return {
    attempts: 0,
    modelCalls: 0,
    throttledCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    estimatedInputTokens: 0,
    estimatedOutputTokens: 0,
    budgetWaitMs: 0,
    failedInputTokens: 0,
    cost: 0,
  };
}
