import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger, ModelBudgets } from '@baton/core';
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
  let budgets: ModelBudgets;
  try {
    budgets = JSON.parse(raw) as ModelBudgets;
  } catch (e) {
    throw configurationError(`${MODEL_BUDGETS_VARIABLE} is not JSON: ${(e as Error).message}`, { variable: MODEL_BUDGETS_VARIABLE });
  }
  if (typeof budgets !== 'object' || budgets === null || Array.isArray(budgets)) {
    throw configurationError(`${MODEL_BUDGETS_VARIABLE} must be a JSON object of budgets by model id`, { variable: MODEL_BUDGETS_VARIABLE });
  }
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
