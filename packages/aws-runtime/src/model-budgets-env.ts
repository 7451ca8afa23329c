import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger, ModelBudgets, PriceTable } from '@baton/core';
import { validatePrices } from '@baton/core/engine';
import { createDynamoModelLimiter, type DynamoModelLimiter } from './dynamo-limiter.js';
import { awsClientConfig, configurationError, envValue, type Env } from './env.js';

/** The table of the shared model limiter (`BatonStateMachine` `modelBudgets` creates it and sets this). */
export const MODEL_BUDGETS_TABLE_VARIABLE = 'BATON_MODEL_BUDGETS_TABLE';
/** The budgets, as JSON `{ "<model id>": { "requestsPerMinute": …, "tokensPerMinute": …, "maxInFlight": … } }`. */
export const MODEL_BUDGETS_VARIABLE = 'BATON_MODEL_BUDGETS';

/**
 * The DynamoDB model limiter a stage function's environment configures, or undefined when it sets
 * no `BATON_MODEL_BUDGETS_TABLE`. A table without budgets, or budgets that are not JSON of positive
 * figures, is a `ConfigurationError` naming the variable.
 *
 * @example
 * ```ts
 * const limiter = modelLimiterFromEnv({ BATON_MODEL_BUDGETS_TABLE: 'budgets', BATON_MODEL_BUDGETS: '{"m":{"requestsPerMinute":60}}' });
 * ```
 */
export function modelLimiterFromEnv(env: Env, logger?: Logger): DynamoModelLimiter | undefined {
  const tableName = envValue(env, MODEL_BUDGETS_TABLE_VARIABLE);
  if (!tableName) return undefined;
  const raw = envValue(env, MODEL_BUDGETS_VARIABLE);
  if (!raw)
    throw configurationError(`${MODEL_BUDGETS_TABLE_VARIABLE} is set but ${MODEL_BUDGETS_VARIABLE} is not: set it to the budgets by model id (JSON)`, {
      variable: MODEL_BUDGETS_VARIABLE,
    });
  const budgets = jsonObjectOf<ModelBudgets>(MODEL_BUDGETS_VARIABLE, raw, 'budgets');
  try {
    // the limiter's own requests time out and fall back; the SDK need not retry them long
    return createDynamoModelLimiter({
      client: new DynamoDBClient({ maxAttempts: 2, ...awsClientConfig(env, 'DYNAMODB') }),
      tableName,
      budgets,
      ...(logger ? { logger } : {}),
    });
  } catch (e) {
    throw configurationError(`${MODEL_BUDGETS_VARIABLE}: ${(e as Error).message}`, { variable: MODEL_BUDGETS_VARIABLE });
  }
}

/** The token prices of the stage functions' models, as JSON `{ "<model id>": { "inputPer1M": …, "outputPer1M": … } }`. */
export const MODEL_PRICES_VARIABLE = 'BATON_MODEL_PRICES';

/**
 * The price table a stage function's environment sets (`BATON_MODEL_PRICES`, which
 * `BatonStateMachine`'s `modelPrices` sets), or undefined without it: each attempt's cost is then
 * in its metrics and the run's cost in the registry. Prices that are not JSON, not finite and
 * positive, or that lack the function's model are a `ConfigurationError` naming the variable.
 *
 * @example
 * ```ts
 * const prices = modelPricesFromEnv({ BATON_MODEL_PRICES: '{"m":{"inputPer1M":0.8,"outputPer1M":4}}' }, 'm');
 * ```
 */
export function modelPricesFromEnv(env: Env, modelId: string | undefined): PriceTable | undefined {
  const raw = envValue(env, MODEL_PRICES_VARIABLE);
  if (!raw) return undefined;
  const prices = jsonObjectOf<PriceTable>(MODEL_PRICES_VARIABLE, raw, 'prices');
  try {
    validatePrices(prices, modelId);
  } catch (e) {
    throw configurationError(`${MODEL_PRICES_VARIABLE}: ${(e as Error).message}`, { variable: MODEL_PRICES_VARIABLE });
  }
  return prices;
}

/** A variable's JSON object by model id, or a `ConfigurationError` naming the variable. */
function jsonObjectOf<T>(variable: string, raw: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw configurationError(`${variable} is not JSON: ${(e as Error).message}`, { variable });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configurationError(`${variable} must be a JSON object of ${what} by model id`, { variable });
  }
  return value as T;
}
