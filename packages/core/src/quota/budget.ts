import { StageError } from '../errors.js';
import type { ModelRequest, TokenUsage } from '../ports/model.js';

/**
 * A model's quota, declared once per model id and enforced across every run of an engine. Every
 * limit is optional; a budget with none only counts. Token limits are over a sliding window, as
 * providers count them: `tokensPerMinute` bounds input + output, the other two each side.
 *
 * @example
 * ```ts
 * const budgets: ModelBudgets = {
 *   'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 400, tokensPerMinute: 400_000, maxInFlight: 32 },
 * };
 * ```
 */
export interface ModelBudget {
  requestsPerMinute?: number;
  /** Input + output tokens per window. */
  tokensPerMinute?: number;
  inputTokensPerMinute?: number;
  outputTokensPerMinute?: number;
  /** Calls in flight at once. */
  maxInFlight?: number;
  /** Length of the sliding window the per-minute figures apply to (benches shrink it). @default 60000 */
  windowMs?: number;
}

/** Budgets by model id (`ModelClient.modelId`). A model without a budget is not limited. */
export type ModelBudgets = Readonly<Record<string, ModelBudget>>;

/** The sliding window of a budget without `windowMs`. */
export const DEFAULT_BUDGET_WINDOW_MS = 60_000;

/** Output tokens assumed for a request without `maxTokens`, until its actual usage settles. */
export const DEFAULT_ESTIMATED_OUTPUT_TOKENS = 1024;

const LIMIT_FIELDS = ['requestsPerMinute', 'tokensPerMinute', 'inputTokensPerMinute', 'outputTokensPerMinute', 'maxInFlight', 'windowMs'] as const;

/**
 * Checks budgets once, where they are declared: every figure a positive finite number. A budget
 * of 0 would make every call wait forever, so it is refused (`ConfigurationError`) instead.
 */
export function validateBudgets(budgets: ModelBudgets): void {
  for (const [model, budget] of Object.entries(budgets)) {
    for (const field of LIMIT_FIELDS) {
      const v = budget[field];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
        throw new StageError('ConfigurationError', `budget of model "${model}": ${field} must be a positive number, got ${String(v)}`);
      }
    }
  }
}

/**
 * What a request will draw from a budget before its answer says: input tokens from the prompt's
 * size (about 4 characters a token, the JSON schema included) and output tokens from `maxTokens`.
 */
export function estimateUsage(request: ModelRequest): TokenUsage {
  let chars = request.system?.length ?? 0;
  for (const m of request.messages) chars += m.content.length;
  if (request.jsonSchema) chars += JSON.stringify(request.jsonSchema).length;
  return { inputTokens: Math.ceil(chars / 4), outputTokens: request.maxTokens ?? DEFAULT_ESTIMATED_OUTPUT_TOKENS };
}
